//! Signing in and out, and the language switch.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
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
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// How long the sign-in form's token may wait for its form.
const PRE_SESSION_AGE: time::Duration = time::Duration::hours(1);
/// How long the language chosen is remembered.
const LANG_AGE: time::Duration = time::Duration::days(365);

fn render_signin(
    state: &AppState,
    ctx: &Ctx,
    next: &LocalPath,
    username: String,
    problem: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let pre_token = random_token();
    let chrome = Chrome::anonymous(ctx.tr, &ctx.path, ctx.tr.t("signin.title"));
    let next = next.as_str().to_owned();
    let response = page(status, &SignInPage { chrome, pre_token: pre_token.clone(), next, username, problem })?;
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
    render_signin(&state, &ctx, &next, String::new(), None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn signin(
    State(state): State<AppState>,
    ctx: Ctx,
    client: ClientAddr,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, WebError> {
    // The sign-in form has no session yet: its token must match the cookie set with the form.
    let pre = cookies::value(&headers, cookies::PRE_SESSION).unwrap_or_default();
    if pre.is_empty() || !constant_time_eq(pre.as_bytes(), form.csrf.as_bytes()) {
        return Err(WebError::Csrf);
    }
    let next = LocalPath::or_home(form.next.as_deref());
    let name = Username::parse(&form.username).ok();
    let typed = name.as_ref().map_or_else(String::new, |n| n.as_str().to_owned());
    let rules =
        SignIn { checks: &state.config.password_checks, limits: &state.config.limits, idle: state.config.session_idle };
    let attempt = signin::attempt(state.db(), &rules, &client.0, name.as_ref(), form.password, state.now()).await?;
    let (problem, status) = match attempt {
        signin::Attempt::SignedIn(token) => {
            let secure = state.config.secure_cookies;
            let jar = CookieJar::new()
                .add(cookies::ours(cookies::SESSION, token, None, secure))
                .add(cookies::forget(cookies::PRE_SESSION, secure));
            return Ok((jar, Redirect::to(next.as_str())).into_response());
        }
        refused => refused_words(&ctx.tr, &refused, state.now()),
    };
    let mut response = render_signin(&state, &ctx, &next, typed, Some(problem), status)?;
    if status == StatusCode::TOO_MANY_REQUESTS {
        response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from_static("5"));
    }
    Ok(response)
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
