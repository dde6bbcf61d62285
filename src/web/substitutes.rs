//! Substitutes: a person names who stands in for them over a period (an admin does it for
//! anyone), reads those current and to come, and ends one early. Each change commits with its
//! event in the admin audit stream. What a substitute may then do is the runtime's to judge
//! ([`crate::people::standing_in`]).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::people::substitute::{self, MAX_AHEAD_DAYS, MAX_DAYS, MAX_REASON, SubstituteProblem, Substitution, Typed};
use crate::store::audit::Record;
use crate::store::substitutes::{self as store, MAX_HELD, MAX_PENDING, NewSubstitution, SubstitutionRow};
use crate::text::TextProblem;
use crate::web::errors::WebError;
use crate::web::extract::{Fields, Posted, Signed};
use crate::web::i18n::Tr;
use crate::web::state::AppState;
use crate::web::view::{Chrome, page};

/// How many of the newest substitutions the page lists (the rest are in the audit trail).
const SHOWN: u64 = 200;

/// The audit trail's kind for substitutes named and ended.
const KIND: &str = "substitute";

pub struct Line {
    pub id: i64,
    pub absent: String,
    pub substitute: String,
    pub period: String,
    pub reason: String,
    /// In force, to come, over, or ended early on … by ….
    pub state: String,
    pub may_end: bool,
}

#[derive(Template)]
#[template(path = "substitutes.html")]
struct SubstitutesPage {
    chrome: Chrome,
    lines: Vec<Line>,
    people: Vec<(String, String)>,
    is_admin: bool,
    me: String,
    problem: Option<String>,
    typed: Form,
    limits: String,
}

/// The form as typed, kept when it is refused.
#[derive(Default)]
struct Form {
    absent: String,
    substitute: String,
    from: String,
    until: String,
    reason: String,
}

impl Form {
    fn from_fields(f: &Fields) -> Form {
        let v = |k: &str| f.value(k).to_owned();
        Form {
            absent: v("absent"),
            substitute: v("substitute"),
            from: v("from"),
            until: v("until"),
            reason: v("reason"),
        }
    }
}

fn line(
    tr: &Tr,
    signed: &Signed,
    people: &std::collections::BTreeMap<String, String>,
    state: &AppState,
    s: SubstitutionRow,
) -> Line {
    let name = |u: &str| people.get(u).cloned().unwrap_or_else(|| u.to_owned());
    let today = crate::definition::calendar::format_date(state.rt.today());
    let me = &signed.session.user.username;
    let open = s.ended_at.is_none() && s.valid_until >= today;
    let state_text = match s.ended_at {
        Some(at) => {
            let on = crate::web::view::fmt_time(crate::clock::from_micros(at), state.rt.offset());
            tr.f("substitutes.ended", &[("on", on), ("by", name(s.ended_by.as_deref().unwrap_or_default()))])
        }
        None if s.valid_until < today => tr.t("substitutes.over").to_owned(),
        None if s.valid_from > today => tr.t("substitutes.to_come").to_owned(),
        None => tr.t("substitutes.in_force").to_owned(),
    };
    Line {
        id: s.id,
        absent: name(&s.absent_user),
        substitute: name(&s.substitute_user),
        period: tr.f("substitutes.period", &[("from", s.valid_from.clone()), ("until", s.valid_until.clone())]),
        reason: s.reason.clone().unwrap_or_default(),
        state: state_text,
        may_end: open && (signed.is_admin() || &s.absent_user == me || &s.substitute_user == me),
    }
}

async fn render(
    state: &AppState,
    signed: &Signed,
    problem: Option<String>,
    typed: Form,
    status: StatusCode,
) -> Result<Response, WebError> {
    let me = signed.session.user.username.clone();
    let directory = state.directory().await?;
    let rows = store::latest(state.db(), (!signed.is_admin()).then_some(me.as_str()), SHOWN).await?;
    let lines = rows.into_iter().map(|s| line(&signed.tr, signed, &directory.people, state, s)).collect();
    let chrome = Chrome::signed(signed, signed.tr.t("substitutes.title"));
    let people = directory.people.iter().map(|(u, n)| (u.clone(), n.clone())).collect();
    let limits = signed.tr.f(
        "substitutes.limits",
        &[
            ("days", MAX_DAYS.to_string()),
            ("ahead", MAX_AHEAD_DAYS.to_string()),
            ("pending", MAX_PENDING.to_string()),
            ("held", MAX_HELD.to_string()),
            ("reason", MAX_REASON.to_string()),
        ],
    );
    let view = SubstitutesPage { chrome, lines, people, is_admin: signed.is_admin(), me, problem, typed, limits };
    page(status, &view)
}

pub async fn substitutes_page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    render(&state, &signed, None, Form::default(), StatusCode::OK).await
}

fn problem_text(tr: &Tr, p: &SubstituteProblem) -> String {
    match p {
        SubstituteProblem::ToSelf => tr.t("substitutes.problem.to_self").to_owned(),
        SubstituteProblem::NoSubstitute => tr.t("substitutes.problem.no_substitute").to_owned(),
        SubstituteProblem::UnknownPerson(name) => tr.f("substitutes.problem.unknown_person", &[("name", name.clone())]),
        SubstituteProblem::BadDate(text) => tr.f("substitutes.problem.bad_date", &[("text", text.clone())]),
        SubstituteProblem::NoUntil => tr.t("substitutes.problem.no_until").to_owned(),
        SubstituteProblem::EndsBeforeStart => tr.t("substitutes.problem.ends_before_start").to_owned(),
        SubstituteProblem::InThePast => tr.t("substitutes.problem.in_the_past").to_owned(),
        SubstituteProblem::TooFarAhead => {
            tr.f("substitutes.problem.too_far_ahead", &[("days", MAX_AHEAD_DAYS.to_string())])
        }
        SubstituteProblem::TooLong => tr.f("substitutes.problem.too_long", &[("days", MAX_DAYS.to_string())]),
        SubstituteProblem::Reason(t) => {
            let detail = match t {
                TextProblem::Control(c) => tr.f("field.control", &[("code", format!("U+{c:04X}"))]),
                TextProblem::Deceptive(c) => tr.f("field.deceptive", &[("code", format!("U+{c:04X}"))]),
                TextProblem::TooLong(max) => tr.f("field.too_long", &[("max", max.to_string())]),
            };
            tr.f("substitutes.problem.reason", &[("detail", detail)])
        }
    }
}

/// The substitution the form describes: for someone else only by an admin (a person who names
/// someone else as absent is refused, not quietly taken as themselves).
async fn parse_form(
    state: &AppState,
    signed: &Signed,
    form: &Fields,
) -> Result<Result<Substitution, String>, WebError> {
    let me = signed.session.user.username.as_str();
    let named = form.value("absent").trim();
    if !signed.is_admin() && !named.is_empty() && named != me {
        return Ok(Err(signed.tr.t("substitutes.problem.not_yours").to_owned()));
    }
    let absent = if named.is_empty() { me } else { named };
    let directory = state.directory().await?;
    let typed = Typed {
        absent,
        substitute: form.value("substitute"),
        from: form.value("from"),
        until: form.value("until"),
        reason: form.value("reason"),
    };
    Ok(substitute::parse(&typed, |p| directory.people.contains_key(p), state.rt.today())
        .map_err(|p| problem_text(&signed.tr, &p)))
}

/// Why a well-formed substitution cannot be kept: it overlaps another for the same person (one
/// substitute at a time), or someone has too many.
async fn refused_by_others<C: sea_orm::ConnectionTrait>(
    state: &AppState,
    tr: &Tr,
    c: &C,
    s: &Substitution,
) -> Result<Option<String>, WebError> {
    let today = crate::definition::calendar::format_date(state.rt.today());
    let directory = state.directory().await?;
    let name = |u: &str| directory.people.get(u).cloned().unwrap_or_else(|| u.to_owned());
    if let Some(other) = store::overlapping(c, &s.absent, &s.from_text(), &s.until_text()).await? {
        let args = [
            ("name", name(&s.absent)),
            ("substitute", name(&other.substitute_user)),
            ("from", other.valid_from),
            ("until", other.valid_until),
        ];
        return Ok(Some(tr.f("substitutes.problem.overlap", &args)));
    }
    if store::pending_for(c, &s.absent, &today).await? >= MAX_PENDING {
        let args = [("name", name(&s.absent)), ("max", MAX_PENDING.to_string())];
        return Ok(Some(tr.f("substitutes.problem.too_many", &args)));
    }
    if store::pending_held(c, &s.substitute, &today).await? >= MAX_HELD {
        let args = [("name", name(&s.substitute)), ("max", MAX_HELD.to_string())];
        return Ok(Some(tr.f("substitutes.problem.too_many_held", &args)));
    }
    Ok(None)
}

pub async fn create_substitute(
    State(state): State<AppState>,
    Posted { by: signed, fields: form }: Posted,
) -> Result<Response, WebError> {
    let refuse = |problem: String| {
        render(&state, &signed, Some(problem), Form::from_fields(&form), StatusCode::UNPROCESSABLE_ENTITY)
    };
    let s = match parse_form(&state, &signed, &form).await? {
        Ok(s) => s,
        Err(problem) => return refuse(problem).await,
    };
    let change = signed.admin_change(&state).await?;
    // Checked inside the write, so two posts at once cannot both pass.
    if let Some(problem) = refused_by_others(&state, &signed.tr, change.conn(), &s).await? {
        drop(change);
        return refuse(problem).await;
    }
    let (from, until) = (s.from_text(), s.until_text());
    let new = NewSubstitution {
        absent: &s.absent,
        substitute: &s.substitute,
        from: &from,
        until: &until,
        reason: s.reason.as_deref(),
    };
    let id = store::insert(change.conn(), &new, &signed.session.user.username, state.now()).await?;
    let data = serde_json::json!({
        "substitution": id, "absent": s.absent, "substitute": s.substitute,
        "from": from, "until": until, "reason": s.reason,
    });
    change.commit(Record { kind: KIND, event: Some("name_substitute"), data }).await?;
    Ok(Redirect::to("/substitutes").into_response())
}

/// Ends a substitution at once: by the absent person, the substitute (who may decline), or an
/// admin.
pub async fn end_substitute(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: signed, .. }: Posted,
) -> Result<Response, WebError> {
    let s = store::find(state.db(), id).await?.ok_or(WebError::NotFound)?;
    let me = &signed.session.user.username;
    if !signed.is_admin() && &s.absent_user != me && &s.substitute_user != me {
        return Err(WebError::Forbidden);
    }
    let change = signed.admin_change(&state).await?;
    if store::end(change.conn(), id, me, state.now()).await? {
        let data = serde_json::json!({ "substitution": id, "absent": s.absent_user, "substitute": s.substitute_user });
        change.commit(Record { kind: KIND, event: Some("end_substitute"), data }).await?;
    }
    Ok(Redirect::to("/substitutes").into_response())
}

/// The answer to a step asked for someone the person does not stand in for (any more) and whose
/// instance they therefore cannot open: their substitutes' page, saying why.
pub async fn not_standing_in(state: &AppState, signed: &Signed, absent: &str) -> Result<Response, WebError> {
    let me = &signed.session.user.username;
    match crate::people::standing_in::actor_for(state.db(), me, absent, state.rt.today(), state.rt.offset()).await? {
        Ok(_) => Err(WebError::Forbidden),
        Err(gap) => {
            let directory = state.directory().await?;
            let absent = directory.people.get(absent).cloned().unwrap_or_else(|| absent.to_owned());
            let refusal = crate::engine::Refusal::NotSubstitute { absent, gap };
            let roles = &state.rt.definitions().roles;
            let text = crate::web::view::refusal_text(&signed.tr, None, roles, &refusal);
            render(state, signed, Some(text), Form::default(), StatusCode::FORBIDDEN).await
        }
    }
}
