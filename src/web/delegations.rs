//! Written delegations (集体合同规定 Art. 20): a person records the delegation of their role as
//! chief representative (an admin records anyone's, from the paper letter), reads those they
//! gave and hold, and revokes them. Each change commits with its event in the `delegations`
//! audit stream, the letter's text included, so the chain covers it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::people::delegation::{self, Delegation, DelegationProblem, Typed};
use crate::store::audit::{Audited, Record};
use crate::store::delegations::{self as store, DelegationRow, NewDelegation};
use crate::text::TextProblem;
use crate::web::errors::WebError;
use crate::web::extract::{Fields, Posted, Signed};
use crate::web::i18n::Tr;
use crate::web::state::AppState;
use crate::web::view::{Chrome, page};

/// How many of the newest delegations the page lists (the rest are in the audit trail).
const SHOWN: u64 = 200;

/// The audit trail's kind for delegations given and revoked.
const KIND: &str = "delegation";

/// Why a delegation cannot be kept though well formed: delegations do not chain (a delegate
/// cannot hand the role on, nor can someone who handed theirs on receive one), and nobody has more
/// than [`store::MAX_IN_FORCE`] in force.
async fn chained_or_too_many<C: sea_orm::ConnectionTrait>(
    state: &AppState,
    tr: &Tr,
    c: &C,
    d: &Delegation,
) -> Result<Option<String>, WebError> {
    let today = crate::definition::calendar::format_date(state.now().to_offset(state.rt.offset()).date());
    let directory = state.directory().await?;
    let name = |u: &str| directory.people.get(u).cloned().unwrap_or_else(|| u.to_owned());
    if store::holds_any(c, &d.from, &today).await? {
        return Ok(Some(tr.f("delegations.problem.chain_from", &[("name", name(&d.from))])));
    }
    if store::given_in_force(c, &d.to, &today).await? > 0 {
        return Ok(Some(tr.f("delegations.problem.chain_to", &[("name", name(&d.to))])));
    }
    if store::given_in_force(c, &d.from, &today).await? >= store::MAX_IN_FORCE {
        let max = store::MAX_IN_FORCE.to_string();
        return Ok(Some(tr.f("delegations.problem.too_many", &[("name", name(&d.from)), ("max", max)])));
    }
    Ok(None)
}

pub struct Line {
    pub id: i64,
    pub from: String,
    pub to: String,
    pub scope: String,
    pub period: String,
    pub letter: String,
    /// "revoked on … by …", when it was.
    pub revoked: Option<String>,
    pub may_revoke: bool,
}

#[derive(Template)]
#[template(path = "delegations.html")]
struct DelegationsPage {
    chrome: Chrome,
    lines: Vec<Line>,
    /// Everyone who may be named, by user name with their name.
    people: Vec<(String, String)>,
    is_admin: bool,
    me: String,
    problem: Option<String>,
    typed: Form,
}

/// The form as typed, kept when it is refused.
#[derive(Default)]
struct Form {
    from: String,
    to: String,
    round: String,
    valid_from: String,
    valid_until: String,
    letter: String,
}

impl Form {
    fn from_fields(f: &Fields) -> Form {
        let v = |k: &str| f.value(k).to_owned();
        Form {
            from: v("from"),
            to: v("to"),
            round: v("round"),
            valid_from: v("valid_from"),
            valid_until: v("valid_until"),
            letter: v("letter"),
        }
    }
}

fn line(
    tr: &Tr,
    signed: &Signed,
    people: &std::collections::BTreeMap<String, String>,
    offset: time::UtcOffset,
    d: DelegationRow,
) -> Line {
    let name = |u: &str| people.get(u).cloned().unwrap_or_else(|| u.to_owned());
    let scope = match d.instance_id {
        Some(id) => tr.f("delegations.scope.round", &[("id", id.to_string())]),
        None => tr.t("delegations.scope.any").to_owned(),
    };
    let until = d.valid_until.clone().unwrap_or_else(|| tr.t("delegations.until_revoked").to_owned());
    let revoked = d.revoked_at.map(|at| {
        let on = crate::web::view::fmt_time(crate::clock::from_micros(at), offset);
        tr.f("delegations.revoked", &[("on", on), ("by", name(d.revoked_by.as_deref().unwrap_or_default()))])
    });
    let me = &signed.session.user.username;
    Line {
        id: d.id,
        from: name(&d.from_user),
        to: name(&d.to_user),
        scope,
        period: tr.f("delegations.period", &[("from", d.valid_from.clone()), ("until", until)]),
        letter: d.letter,
        may_revoke: revoked.is_none() && (signed.is_admin() || &d.from_user == me),
        revoked,
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
    let offset = state.rt.offset();
    let lines = rows.into_iter().map(|d| line(&signed.tr, signed, &directory.people, offset, d)).collect();
    let chrome = Chrome::signed(signed, signed.tr.t("delegations.title"));
    let people = directory.people.iter().map(|(u, n)| (u.clone(), n.clone())).collect();
    page(status, &DelegationsPage { chrome, lines, people, is_admin: signed.is_admin(), me, problem, typed })
}

pub async fn delegations_page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    render(&state, &signed, None, Default::default(), StatusCode::OK).await
}

fn problem_text(tr: &Tr, p: &DelegationProblem) -> String {
    match p {
        DelegationProblem::ToSelf => tr.t("delegations.problem.to_self").to_owned(),
        DelegationProblem::UnknownPerson(name) => tr.f("delegations.problem.unknown_person", &[("name", name.clone())]),
        DelegationProblem::BadInstance(text) => tr.f("delegations.problem.bad_round", &[("text", text.clone())]),
        DelegationProblem::BadDate(text) => tr.f("delegations.problem.bad_date", &[("text", text.clone())]),
        DelegationProblem::EndsBeforeStart => tr.t("delegations.problem.ends_before_start").to_owned(),
        DelegationProblem::NoLetter => tr.t("delegations.problem.no_letter").to_owned(),
        DelegationProblem::Letter(t) => {
            let detail = match t {
                TextProblem::Control(c) => tr.f("field.control", &[("code", format!("U+{c:04X}"))]),
                TextProblem::Deceptive(c) => tr.f("field.deceptive", &[("code", format!("U+{c:04X}"))]),
                TextProblem::TooLong(max) => tr.f("field.too_long", &[("max", max.to_string())]),
            };
            tr.f("delegations.problem.letter", &[("detail", detail)])
        }
    }
}

/// The delegation the form describes: someone else's only for an admin.
async fn parse_form(state: &AppState, signed: &Signed, form: &Fields) -> Result<Result<Delegation, String>, WebError> {
    let me = signed.session.user.username.as_str();
    let from = if signed.is_admin() && !form.value("from").trim().is_empty() { form.value("from") } else { me };
    let directory = state.directory().await?;
    let today = state.now().to_offset(state.rt.offset()).date();
    let typed = Typed {
        from,
        to: form.value("to"),
        instance: form.value("round"),
        valid_from: form.value("valid_from"),
        valid_until: form.value("valid_until"),
        letter: form.value("letter"),
    };
    let parsed = match delegation::parse(&typed, |p| directory.people.contains_key(p), today) {
        Ok(d) => d,
        Err(p) => return Ok(Err(problem_text(&signed.tr, &p))),
    };
    if let Some(id) = parsed.instance
        && crate::store::instances::find(state.db(), id).await?.is_none()
    {
        return Ok(Err(signed.tr.f("delegations.problem.no_round", &[("id", id.to_string())])));
    }
    Ok(Ok(parsed))
}

pub async fn create_delegation(
    State(state): State<AppState>,
    Posted { by: signed, fields: form }: Posted,
) -> Result<Response, WebError> {
    let d = match parse_form(&state, &signed, &form).await? {
        Ok(d) => d,
        Err(problem) => {
            let typed = Form::from_fields(&form);
            return render(&state, &signed, Some(problem), typed, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let change = Audited::begin(state.db(), "delegations", &signed.session.user.username, state.now()).await?;
    // Checked inside the write, so two posts at once cannot both pass.
    if let Some(problem) = chained_or_too_many(&state, &signed.tr, change.conn(), &d).await? {
        drop(change);
        return render(&state, &signed, Some(problem), Form::from_fields(&form), StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    }
    let (valid_from, valid_until) = (d.valid_from_text(), d.valid_until_text());
    let new = NewDelegation {
        from: &d.from,
        to: &d.to,
        instance: d.instance,
        valid_from: &valid_from,
        valid_until: valid_until.as_deref(),
        letter: &d.letter,
    };
    let id = store::insert(change.conn(), &new, &signed.session.user.username, state.now()).await?;
    let data = serde_json::json!({
        "delegation": id, "from": d.from, "to": d.to, "instance": d.instance,
        "valid_from": valid_from, "valid_until": valid_until, "letter": d.letter,
    });
    change.commit(Record { kind: KIND, event: Some("delegate"), data }).await?;
    Ok(Redirect::to("/delegations").into_response())
}

/// Revokes a delegation in force: by whoever gave it, or an admin.
pub async fn revoke_delegation(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { by: signed, .. }: Posted,
) -> Result<Response, WebError> {
    let d = store::find(state.db(), id).await?.ok_or(WebError::NotFound)?;
    if !signed.is_admin() && d.from_user != signed.session.user.username {
        return Err(WebError::Forbidden);
    }
    let change = Audited::begin(state.db(), "delegations", &signed.session.user.username, state.now()).await?;
    if store::revoke(change.conn(), id, &signed.session.user.username, state.now()).await? {
        let data = serde_json::json!({ "delegation": id, "from": d.from_user, "to": d.to_user });
        change.commit(Record { kind: KIND, event: Some("revoke_delegation"), data }).await?;
    }
    Ok(Redirect::to("/delegations").into_response())
}
