//! The admin's webhooks page: subscriptions (added with a secret shown once, paused, removed)
//! and the latest deliveries, page by page, each with its attempts and a button to send it
//! again. Every change is audited in the admin stream.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::clock::from_micros;
use crate::engine::FieldProblem;
use crate::store::audit::Record;
use crate::store::outbox::{self, DeliveryRow};
use crate::store::webhooks::{self as subscriptions, Subscription, SubscriptionError};
use crate::web::errors::WebError;
use crate::web::extract::{Admin, Fields, Posted, Signed};
use crate::web::i18n::Tr;
use crate::web::state::AppState;
use crate::web::view::{Chrome, field_problem_text, fmt_time, page};
use crate::webhooks::{Filters, MAX_SUBSCRIPTIONS, NewSubscription, WebhookError, new_secret};

/// Deliveries shown per page.
const PAGE: u64 = 50;

pub struct SubscriptionLine {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub filters: String,
    pub active: bool,
}

pub struct DeliveryLine {
    pub id: i64,
    pub delivery_id: String,
    pub subscription_id: i64,
    pub event_type: String,
    pub instance_id: i64,
    pub status: String,
    pub attempts: i64,
    /// When it is tried next, if it is still pending.
    pub next: Option<String>,
    pub tries: Vec<String>,
}

/// The add form as typed: URL, description, process, event, state, finished only.
#[derive(Default)]
pub struct Typed {
    pub url: String,
    pub description: String,
    pub process: String,
    pub event: String,
    pub state: String,
    pub finished: bool,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    chrome: Chrome,
    subscriptions: Vec<SubscriptionLine>,
    deliveries: Vec<DeliveryLine>,
    older: Option<i64>,
    processes: Vec<(String, String)>,
    problem: Option<String>,
    form: Typed,
    /// The subscription just added and its secret, shown this once.
    created: Option<(i64, String)>,
    max: i64,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub before: Option<i64>,
}

/// What the page shows beyond the lists: a refusal with the form as typed, or a secret.
#[derive(Default)]
struct Shown {
    problem: Option<String>,
    form: Typed,
    created: Option<(i64, String)>,
}

async fn render(
    state: &AppState,
    signed: &Signed,
    before: Option<i64>,
    shown: Shown,
    status: StatusCode,
) -> Result<Response, WebError> {
    let tr = signed.tr;
    let offset = state.rt.offset();
    let subscriptions = subscriptions::list(state.db()).await?.iter().map(|s| subscription_line(&tr, s)).collect();
    let rows = outbox::page(state.db(), before, PAGE).await?;
    let older = (rows.len() as u64 == PAGE).then(|| rows.last().map(|r| r.id)).flatten();
    let deliveries = rows.iter().map(|r| delivery_line(&tr, offset, r)).collect();
    let processes = state
        .rt
        .definitions()
        .definitions
        .values()
        .map(|d| (d.id.clone(), d.label.get(tr.code()).to_owned()))
        .collect();
    let Shown { problem, form, created } = shown;
    let chrome = Chrome::signed(signed, tr.t("webhooks.title"));
    page(
        status,
        &WebhooksPage {
            chrome,
            subscriptions,
            deliveries,
            older,
            processes,
            problem,
            form,
            created,
            max: MAX_SUBSCRIPTIONS,
        },
    )
}

/// What a subscription hears of, in words.
fn subscription_line(tr: &Tr, s: &Subscription) -> SubscriptionLine {
    let mut words = Vec::new();
    if let Some(p) = &s.process {
        words.push(tr.f("webhooks.filter.process", &[("process", p.clone())]));
    }
    if let Some(e) = &s.event {
        words.push(tr.f("webhooks.filter.event", &[("event", e.clone())]));
    }
    if let Some(st) = &s.state {
        words.push(tr.f("webhooks.filter.state", &[("state", st.clone())]));
    }
    if s.finished {
        words.push(tr.t("webhooks.filter.finished").to_owned());
    }
    let filters =
        if words.is_empty() { tr.t("webhooks.all_changes").to_owned() } else { words.join(tr.t("punct.list")) };
    SubscriptionLine { id: s.id, url: s.url.clone(), description: s.description.clone(), filters, active: s.active }
}

fn delivery_line(tr: &Tr, offset: time::UtcOffset, r: &DeliveryRow) -> DeliveryLine {
    let status = match r.status.as_str() {
        outbox::PENDING => tr.t("webhooks.status.pending"),
        outbox::DELIVERED => tr.t("webhooks.status.delivered"),
        _ => tr.t("webhooks.status.failed"),
    };
    let tries = r
        .attempts_made()
        .into_iter()
        .map(|a| {
            let at = fmt_time(from_micros(a.at), offset);
            let ms = a.ms.to_string();
            match (a.code, a.error) {
                (Some(code), _) => tr.f("webhooks.attempt.code", &[("at", at), ("code", code.to_string()), ("ms", ms)]),
                (None, error) => {
                    tr.f("webhooks.attempt.error", &[("at", at), ("error", error.unwrap_or_default()), ("ms", ms)])
                }
            }
        })
        .collect();
    DeliveryLine {
        id: r.id,
        delivery_id: r.delivery_id.clone(),
        subscription_id: r.subscription_id,
        event_type: r.event_type.clone(),
        instance_id: r.instance_id,
        status: status.to_owned(),
        attempts: r.attempts,
        next: (r.status == outbox::PENDING).then(|| fmt_time(from_micros(r.next_attempt_at), offset)),
        tries,
    }
}

pub async fn webhooks_page(
    State(state): State<AppState>,
    Admin(signed): Admin,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    render(&state, &signed, q.before, Shown::default(), StatusCode::OK).await
}

/// A refusal in the reader's words.
fn error_text(tr: &Tr, e: &WebhookError) -> String {
    match e {
        WebhookError::UrlTooLong(max) => tr.f("webhooks.error.url_too_long", &[("max", max.to_string())]),
        WebhookError::NotHttp => tr.t("webhooks.error.not_http").to_owned(),
        WebhookError::Credentials => tr.t("webhooks.error.credentials").to_owned(),
        WebhookError::Description(p) => {
            tr.f("webhooks.error.description", &[("problem", field_problem_text(tr, &FieldProblem::from(*p)))])
        }
        WebhookError::UnknownProcess(p) => tr.f("webhooks.error.unknown_process", &[("process", p.clone())]),
        WebhookError::UnknownEvent(e) => tr.f("webhooks.error.unknown_event", &[("event", e.clone())]),
        WebhookError::UnknownState(s) => tr.f("webhooks.error.unknown_state", &[("state", s.clone())]),
    }
}

fn typed(form: &Fields) -> Typed {
    Typed {
        url: form.value("url").to_owned(),
        description: form.value("description").to_owned(),
        process: form.value("process").to_owned(),
        event: form.value("event").to_owned(),
        state: form.value("state").to_owned(),
        finished: form.value("finished") == "true",
    }
}

fn parse(state: &AppState, t: &Typed) -> Result<NewSubscription, WebhookError> {
    let filters = Filters::parse(state.rt.definitions(), &t.process, &t.event, &t.state, t.finished)?;
    NewSubscription::parse(&t.url, &t.description, filters)
}

/// Adds a subscription and shows its secret, once; a refusal keeps the form as typed.
pub async fn create_subscription(
    State(state): State<AppState>,
    Posted { by: Admin(signed), fields: form }: Posted<Admin>,
) -> Result<Response, WebError> {
    let form = typed(&form);
    let new = match parse(&state, &form) {
        Ok(new) => new,
        Err(e) => {
            let shown = Shown { problem: Some(error_text(&signed.tr, &e)), form, created: None };
            return render(&state, &signed, None, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let secret = new_secret();
    let change = signed.admin_change(&state).await?;
    let by = signed.session.user.username.clone();
    let id = match subscriptions::create(change.conn(), &new, &secret, &by, state.now()).await {
        Ok(id) => id,
        Err(SubscriptionError::TooMany(max)) => {
            drop(change);
            let problem = signed.tr.f("webhooks.error.too_many", &[("max", max.to_string())]);
            let shown = Shown { problem: Some(problem), form, created: None };
            return render(&state, &signed, None, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(SubscriptionError::Db(e)) => return Err(e.into()),
    };
    change.commit(record("webhook_add", new.recorded(id))).await?;
    render(&state, &signed, None, Shown { created: Some((id, secret)), ..Shown::default() }, StatusCode::OK).await
}

fn record(what: &str, data: serde_json::Value) -> Record<'_> {
    Record { kind: "admin", event: Some(what), data }
}

pub async fn set_active(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Admin(signed), fields: form }: Posted<Admin>,
) -> Result<Response, WebError> {
    let active = form.value("active") == "true";
    let change = signed.admin_change(&state).await?;
    if !subscriptions::set_active(change.conn(), id, active).await? {
        return Err(WebError::NotFound);
    }
    let what = if active { "webhook_resume" } else { "webhook_pause" };
    change.commit(record(what, serde_json::json!({ "subscription": id }))).await?;
    Ok(Redirect::to("/admin/webhooks").into_response())
}

pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Admin(signed), .. }: Posted<Admin>,
) -> Result<Response, WebError> {
    let change = signed.admin_change(&state).await?;
    let Some(gone) = subscriptions::find(change.conn(), id).await? else { return Err(WebError::NotFound) };
    subscriptions::remove(change.conn(), id).await?;
    change.commit(record("webhook_remove", serde_json::json!({ "subscription": id, "url": gone.url }))).await?;
    Ok(Redirect::to("/admin/webhooks").into_response())
}

/// Makes a delivery due now, whatever became of it (delivered, failed, or still trying).
pub async fn resend(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: Admin(signed), .. }: Posted<Admin>,
) -> Result<Response, WebError> {
    let change = signed.admin_change(&state).await?;
    let Some(delivery) = outbox::find(change.conn(), id).await? else { return Err(WebError::NotFound) };
    // Wall-clock time, as the worker schedules by (see `crate::webhooks::worker`).
    outbox::resend(change.conn(), id, time::OffsetDateTime::now_utc()).await?;
    let data = serde_json::json!({ "delivery": delivery.delivery_id, "subscription": delivery.subscription_id });
    change.commit(record("webhook_resend", data)).await?;
    Ok(Redirect::to("/admin/webhooks").into_response())
}
