//! Signing in and out, and the language switch.

use askama::Template;
use axum::Form;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use crate::people::signin::{self, SignIn};
use crate::people::{Username, random_token, sessions};
use crate::store::audit::{Audited, Record};
use crate::web::cookies;
use crate::web::errors::WebError;
use crate::web::extract::{ClientAddr, Ctx, Posted, constant_time_eq};
use crate::web::i18n::Lang;
use crate::web::redirect::LocalPath;
use crate::web::state::AppState;
use crate::web::view::{Chrome, page};

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    chrome: Chrome,
    pre_token: String,
    next: String,
    username: String,
    problem: Option<String>,
    /// A form that was posted after the session ended, carried through the sign-in.
    carried: Vec<(String, String)>,
}

/// After signing in, the form that was posted after the session ended, ready to be sent again.
#[derive(Template)]
#[template(path = "resend.html")]
struct ResendPage {
    chrome: Chrome,
    action: String,
    csrf: String,
    /// Every field as posted (the page's version included), sent again as hidden fields.
    fields: Vec<(String, String)>,
    /// The values the person typed, shown so they can see nothing was lost.
    typed: Vec<(String, String)>,
}

/// The name a carried field takes on the sign-in form, so it never mixes with the form's own.
const CARRIED: &str = "carried.";
/// More fields than any form of ours has (a roll call of 5,000 sends two a person): a larger
/// post is not carried.
const MAX_CARRIED: usize = 12_000;

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// How long the sign-in form's token may wait for its form.
const PRE_SESSION_AGE: time::Duration = time::Duration::hours(1);
/// How long the language chosen is remembered.
const LANG_AGE: time::Duration = time::Duration::days(365);

/// What the sign-in form shows besides its fields.
struct SignInView {
    username: String,
    problem: Option<String>,
    carried: Vec<(String, String)>,
}

fn render_signin(
    state: &AppState,
    ctx: &Ctx,
    next: &LocalPath,
    view: SignInView,
    status: StatusCode,
) -> Result<Response, WebError> {
    let pre_token = random_token();
    let chrome = Chrome::anonymous(ctx.tr, &ctx.path, ctx.tr.t("signin.title"));
    let SignInView { username, problem, carried } = view;
    let next = next.as_str().to_owned();
    let signin = SignInPage { chrome, pre_token: pre_token.clone(), next, username, problem, carried };
    let response = page(status, &signin)?;
    let secure = state.config.secure_cookies;
    let jar = CookieJar::new().add(cookies::ours(cookies::PRE_SESSION, pre_token, Some(PRE_SESSION_AGE), secure));
    Ok((jar, response).into_response())
}

pub async fn signin_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    let next = LocalPath::or_home(q.next.as_deref());
    if ctx.session.is_some() {
        return Ok(Redirect::to(next.as_str()).into_response());
    }
    let view = SignInView { username: String::new(), problem: None, carried: Vec::new() };
    render_signin(&state, &ctx, &next, view, StatusCode::OK)
}

/// A form posted after its session ended: the sign-in page, with what was typed carried through
/// it, so that signing in again loses nothing.
pub(super) fn signin_keeping(
    state: &AppState,
    ctx: &Ctx,
    posted_to: &str,
    fields: Vec<(String, String)>,
) -> Result<Response, WebError> {
    let carried: Vec<(String, String)> =
        fields.into_iter().filter(|(k, _)| k != crate::web::extract::CSRF_FIELD).collect();
    // A form too large to carry is not carried at all: a cut one would be sent short.
    let carried = if carried.len() > MAX_CARRIED { Vec::new() } else { carried };
    // With nothing carried, the path posted to has nothing to show: the sign-in leads home.
    let next = if carried.is_empty() { LocalPath::or_home(None) } else { LocalPath::or_home(Some(posted_to)) };
    let problem = Some(ctx.tr.t("signin.expired_kept").to_owned());
    render_signin(state, ctx, &next, SignInView { username: String::new(), problem, carried }, StatusCode::UNAUTHORIZED)
}

/// The sign-in form: its own fields, and any form carried through it.
pub struct SignInForm {
    username: String,
    password: String,
    next: Option<String>,
    carried: Vec<(String, String)>,
}

/// The sign-in form, its token checked against the cookie set with the form (a double submit:
/// there is no session yet to bind it to).
pub struct SignInPost(SignInForm);

impl FromRequest<AppState> for SignInPost {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let pre = cookies::value(req.headers(), cookies::PRE_SESSION).unwrap_or_default();
        let Form(fields) =
            Form::<Vec<(String, String)>>::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        let fields = crate::web::extract::Fields(fields);
        let given = fields.value(crate::web::extract::CSRF_FIELD);
        if pre.is_empty() || !constant_time_eq(pre.as_bytes(), given.as_bytes()) {
            return Err(WebError::Csrf.into_response());
        }
        let carried = fields
            .0
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(CARRIED)?.to_owned(), v.clone())))
            .collect::<Vec<_>>();
        let carried = if carried.len() > MAX_CARRIED { Vec::new() } else { carried };
        let next = Some(fields.value("next").to_owned()).filter(|n| !n.is_empty());
        let (username, password) = (fields.value("username").to_owned(), fields.value("password").to_owned());
        Ok(SignInPost(SignInForm { username, password, next, carried }))
    }
}

pub async fn signin(
    State(state): State<AppState>,
    ctx: Ctx,
    client: ClientAddr,
    SignInPost(form): SignInPost,
) -> Result<Response, WebError> {
    let next = LocalPath::or_home(form.next.as_deref());
    let name = Username::parse(&form.username).ok();
    let typed = name.as_ref().map_or_else(String::new, |n| n.as_str().to_owned());
    let rules =
        SignIn { checks: &state.config.password_checks, limits: &state.config.limits, idle: state.config.session_idle };
    let attempt = signin::attempt(state.db(), &rules, &client.0, name.as_ref(), form.password, state.now()).await?;
    let (problem, status) = match attempt {
        signin::Attempt::SignedIn(token) => {
            let secure = state.config.secure_cookies;
            let jar = CookieJar::new().add(cookies::forget(cookies::PRE_SESSION, secure)).add(cookies::ours(
                cookies::SESSION,
                token.clone(),
                None,
                secure,
            ));
            if form.carried.is_empty() {
                return Ok((jar, Redirect::to(next.as_str())).into_response());
            }
            return Ok((jar, resend(&state, &ctx, &token, &next, form.carried).await?).into_response());
        }
        refused => refused_words(&ctx.tr, &refused, state.now()),
    };
    let view = SignInView { username: typed, problem: Some(problem), carried: form.carried };
    let mut response = render_signin(&state, &ctx, &next, view, status)?;
    if status == StatusCode::TOO_MANY_REQUESTS {
        response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from_static("5"));
    }
    Ok(response)
}

/// The form carried through the sign-in, ready to be sent again under the new session: nothing is
/// sent without the person seeing it, since the page it came from may have changed meanwhile.
async fn resend(
    state: &AppState,
    ctx: &Ctx,
    token: &str,
    action: &LocalPath,
    fields: Vec<(String, String)>,
) -> Result<Response, WebError> {
    let session = sessions::lookup(state.db(), token, state.now()).await?.ok_or(WebError::Csrf)?;
    let definition = action_definition(state, action).await?;
    let typed = typed_as_shown(&ctx.tr, definition.as_deref(), &fields);
    let chrome = Chrome::anonymous(ctx.tr, &ctx.path, ctx.tr.t("resend.title"));
    let action = action.as_str().to_owned();
    page(StatusCode::OK, &ResendPage { chrome, action, csrf: session.csrf_token, fields, typed })
}

/// The definition of the instance whose action the form was posted to, which names its fields;
/// none for any other form, or an instance that is gone.
async fn action_definition(
    state: &AppState,
    action: &LocalPath,
) -> Result<Option<std::sync::Arc<crate::definition::Definition>>, WebError> {
    let id = action.as_str().strip_prefix("/instances/").and_then(|rest| rest.split_once("/fire/"));
    let Some(id) = id.and_then(|(id, _)| id.parse::<i64>().ok()) else { return Ok(None) };
    match state.rt.instance(id).await {
        Ok(inst) => Ok(Some(inst.definition)),
        Err(crate::runtime::RuntimeError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What was typed, as the person knows it from the form: each field under its label and a choice
/// by its option's (the definition's, in the reader's language; a form of no instance keeps its
/// names), a roll call's
/// ballot under the delegate's name, and a field sent once per item (the names ticked present)
/// as one list.
fn typed_as_shown(
    tr: &crate::web::i18n::Tr,
    definition: Option<&crate::definition::Definition>,
    fields: &[(String, String)],
) -> Vec<(String, String)> {
    let mut shown: Vec<(String, Vec<&str>)> = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (name, value) in fields.iter().filter(|(k, v)| !k.starts_with('_') && !v.trim().is_empty()) {
        let (label, value) = match name.strip_prefix("ballot:") {
            Some(person) => (person.to_owned(), ballot_word(tr, value)),
            None => match definition.and_then(|d| Some((d, d.field(name)?))) {
                Some((d, field)) => {
                    let option = d.choice_options(name).iter().find(|o| o.id == *value);
                    let value = option.map_or(value.as_str(), |o| o.label.get(tr.code()));
                    (field.label.get(tr.code()).to_owned(), value)
                }
                None => (name.clone(), value.as_str()),
            },
        };
        match at.get(&label) {
            Some(&i) => shown[i].1.push(value),
            None => {
                at.insert(label.clone(), shown.len());
                shown.push((label, vec![value]));
            }
        }
    }
    shown.into_iter().map(|(label, values)| (label, values.join(tr.t("punct.list")))).collect()
}

/// A roll call's ballot in the reader's words, as its column is headed.
fn ballot_word<'a>(tr: &crate::web::i18n::Tr, value: &'a str) -> &'a str {
    match value {
        "yes" => tr.t("rollcall.yes"),
        "no" => tr.t("rollcall.no"),
        "abstain" => tr.t("rollcall.abstain"),
        other => other,
    }
}

/// Why a sign-in was refused, in the reader's words, and the status it answers with.
fn refused_words(
    tr: &crate::web::i18n::Tr,
    attempt: &signin::Attempt,
    now: time::OffsetDateTime,
) -> (String, StatusCode) {
    match attempt {
        signin::Attempt::Locked(until) => {
            let minutes = ((*until - now).whole_minutes() + 1).max(1);
            (tr.f("signin.locked", &[("minutes", minutes.to_string())]), StatusCode::TOO_MANY_REQUESTS)
        }
        signin::Attempt::Busy => (tr.t("signin.busy").to_owned(), StatusCode::TOO_MANY_REQUESTS),
        signin::Attempt::Deactivated => (tr.t("signin.deactivated").to_owned(), StatusCode::FORBIDDEN),
        signin::Attempt::Wrong | signin::Attempt::SignedIn(_) => {
            (tr.t("signin.failed").to_owned(), StatusCode::UNAUTHORIZED)
        }
    }
}

pub async fn signout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Posted { by: signed, .. }: Posted,
) -> Result<Response, WebError> {
    if let Some(token) = cookies::value(&headers, cookies::SESSION) {
        let change = Audited::begin(state.db(), "auth", &signed.session.user.username, state.now()).await?;
        sessions::end(change.conn(), &token).await?;
        change.commit(Record { kind: "sign_out", event: None, data: serde_json::json!({}) }).await?;
    }
    let jar = CookieJar::new().add(cookies::forget(cookies::SESSION, state.config.secure_cookies));
    Ok((jar, Redirect::to("/signin")).into_response())
}

#[derive(Deserialize)]
pub struct BackQuery {
    back: Option<String>,
}

/// Remembers the language in a cookie and returns to the page the reader was on.
pub async fn switch_language(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<BackQuery>,
) -> Result<Response, WebError> {
    let lang = Lang::parse(&code).ok_or(WebError::NotFound)?;
    let remembered = cookies::ours(cookies::LANG, lang.code().to_owned(), Some(LANG_AGE), state.config.secure_cookies);
    Ok((CookieJar::new().add(remembered), Redirect::to(LocalPath::or_home(q.back.as_deref()).as_str())).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::Tr;

    fn pairs(given: &[(&str, &str)]) -> Vec<(String, String)> {
        given.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// A form carried through the sign-in shows what was typed under the form's own words, in
    /// each language: labels and choices from the definition, ballots by delegate, one list for
    /// the names ticked present, and nothing of the form's own hidden fields or empty answers.
    #[test]
    fn typed_fields_are_shown_by_their_labels() {
        let set = crate::definition::embedded::load_embedded().expect("built-in definitions");
        let assembly = set.get("assembly_approval").expect("the assembly's definition");
        let posted = pairs(&[
            ("_csrf", "token"),
            ("_version", "3"),
            ("kind", "representatives"),
            ("attendees", "王晓明"),
            ("attendees", "李丽华"),
            ("ballot:王晓明", "yes"),
            ("ballot:李丽华", "abstain"),
            ("ballot:张建国", ""),
            ("minutes", "会议记录"),
        ]);
        let zh = typed_as_shown(&Tr::new(Lang::Zh), Some(assembly), &posted);
        let expected = pairs(&[
            ("会议形式", "职工代表大会"),
            ("到会人员", "王晓明、李丽华"),
            ("王晓明", "赞成"),
            ("李丽华", "弃权"),
            ("会议记录", "会议记录"),
        ]);
        assert_eq!(zh, expected);
        let en = typed_as_shown(&Tr::new(Lang::En), Some(assembly), &posted);
        assert_eq!(en[0], ("Kind of assembly".to_owned(), "Representatives' assembly".to_owned()));
        assert_eq!(en[1], ("Present (names)".to_owned(), "王晓明, 李丽华".to_owned()));
        assert_eq!(en[2], ("王晓明".to_owned(), "In favour".to_owned()));
        let elsewhere = typed_as_shown(&Tr::new(Lang::Zh), None, &pairs(&[("capacity", "30")]));
        assert_eq!(elsewhere, pairs(&[("capacity", "30")]), "a form of no instance keeps its names");
    }
}
