//! A person's own settings: their e-mail address, the daily digest and the language it is written
//! in (an admin sets the same for anyone on the admin page), and the feed of their work. Each
//! change commits with its audit event.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::people::email::{EmailProblem, MailChoice};
use crate::store::audit::{Audited, Record};
use crate::store::digests::{self, MailRow};
use crate::web::errors::WebError;
use crate::web::extract::{Fields, Posted, Signed};
use crate::web::i18n::{Lang, Tr};
use crate::web::state::AppState;
use crate::web::view::{Chrome, page};

/// The form as shown: as stored, or as typed when refused.
#[derive(Debug, Clone, Default)]
pub struct MailForm {
    pub email: String,
    pub digest: bool,
    pub lang: &'static str,
}

impl MailForm {
    pub fn stored(row: &MailRow) -> Self {
        Self {
            email: row.email.clone().unwrap_or_default(),
            digest: row.digest,
            lang: row.locale.as_deref().and_then(Lang::parse).unwrap_or_default().code(),
        }
    }

    pub fn typed(f: &Fields) -> Self {
        Self {
            email: f.value("email").to_owned(),
            digest: ticked(f),
            lang: Lang::parse(f.value("lang")).unwrap_or_default().code(),
        }
    }
}

fn ticked(f: &Fields) -> bool {
    matches!(f.value("digest"), "on" | "true")
}

/// The choice a posted form makes.
pub fn parse_choice(f: &Fields) -> Result<MailChoice, EmailProblem> {
    MailChoice::parse(f.value("email"), ticked(f), f.value("lang"))
}

/// Why an address or choice was refused, in the reader's words.
pub fn email_problem_text(tr: &Tr, p: &EmailProblem) -> String {
    match p {
        EmailProblem::TooLong(max) => tr.f("settings.problem.too_long", &[("max", max.to_string())]),
        EmailProblem::NotAnAddress => tr.t("settings.problem.not_an_address").to_owned(),
        EmailProblem::DigestWithoutAddress => tr.t("settings.problem.digest_without_address").to_owned(),
    }
}

/// Stores a choice for `user_id`; the caller's change records it.
pub async fn store_choice<C: sea_orm::ConnectionTrait>(
    c: &C,
    user_id: i64,
    m: &MailChoice,
) -> Result<(), sea_orm::DbErr> {
    digests::set_mail(c, user_id, m.email.as_ref().map(|e| e.as_str()), m.digest, m.lang.code()).await
}

/// The audit record of a mail change: whose, before and after.
pub fn recorded(username: &str, before: Option<&MailRow>, after: &MailChoice) -> serde_json::Value {
    let before = before.map(|b| serde_json::json!({ "email": b.email, "digest": b.digest, "lang": b.locale }));
    serde_json::json!({ "username": username, "before": before, "after": after.recorded() })
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    form: MailForm,
    problem: Option<String>,
    /// The digest's hour and limit, when an SMTP server is configured; otherwise the page says
    /// no digest is sent.
    digest_note: Option<String>,
}

fn render(
    state: &AppState,
    signed: &Signed,
    form: MailForm,
    problem: Option<String>,
    flash: bool,
) -> Result<Response, WebError> {
    let tr = &signed.tr;
    let digest_note = state.config.digest.map(|d| {
        tr.f(
            "settings.digest_hint",
            &[("hour", format!("{:02}:00", d.hour)), ("max", crate::digest::compose::MAX_ITEMS.to_string())],
        )
    });
    let mut chrome = Chrome::signed(signed, tr.t("settings.title"));
    chrome.flash = flash.then(|| tr.t("settings.saved").to_owned());
    let status = if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    page(status, &SettingsPage { chrome, form, problem, digest_note })
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn settings_page(
    State(state): State<AppState>,
    Query(q): Query<SavedQuery>,
    signed: Signed,
) -> Result<Response, WebError> {
    let row = digests::mail_of(state.db(), signed.session.user.id).await?.unwrap_or_default();
    render(&state, &signed, MailForm::stored(&row), None, q.saved.is_some())
}

/// Saves the person's own mail settings, audited as their change to their account.
pub async fn save_settings(
    State(state): State<AppState>,
    Posted { by: signed, fields }: Posted,
) -> Result<Response, WebError> {
    let choice = match parse_choice(&fields) {
        Ok(c) => c,
        Err(p) => {
            let problem = email_problem_text(&signed.tr, &p);
            return render(&state, &signed, MailForm::typed(&fields), Some(problem), false);
        }
    };
    let user = &signed.session.user;
    let change = Audited::begin(state.db(), "accounts", &user.username, state.now()).await?;
    let before = digests::mail_of(change.conn(), user.id).await?;
    store_choice(change.conn(), user.id, &choice).await?;
    let data = recorded(&user.username, before.as_ref(), &choice);
    change.commit(Record { kind: "account", event: Some("set_mail"), data }).await?;
    Ok(Redirect::to("/settings?saved=1").into_response())
}
