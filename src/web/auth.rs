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
    let typed = fields.iter().filter(|(k, v)| !k.starts_with('_') && !v.trim().is_empty()).cloned().collect();
    let chrome = Chrome::anonymous(ctx.tr, &ctx.path, ctx.tr.t("resend.title"));
    let action = action.as_str().to_owned();
    page(StatusCode::OK, &ResendPage { chrome, action, csrf: session.csrf_token, fields, typed })
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
