//! Signing in and out, and the language switch.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::people::{random_token, sessions, users};
use crate::web::errors::WebError;
use crate::web::extract::{Ctx, LANG_COOKIE, PRE_SESSION_COOKIE, SESSION_COOKIE, constant_time_eq, cookie};
use crate::web::i18n::Lang;
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

/// Only paths of this site are followed after signing in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn cookie_header(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if state.config.secure_cookies {
        c.push_str("; Secure");
    }
    c
}

fn render_signin(
    state: &AppState,
    ctx: &Ctx,
    next: String,
    username: String,
    problem: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let pre_token = random_token();
    let chrome = Chrome::anonymous(ctx.tr, &ctx.path, ctx.tr.t("signin.title"));
    let mut response = page(status, &SignInPage { chrome, pre_token: pre_token.clone(), next, username, problem })?;
    if let Ok(v) = cookie_header(state, PRE_SESSION_COOKIE, &pre_token, Some(3600)).parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

pub async fn signin_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    if ctx.session.is_some() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    render_signin(&state, &ctx, safe_next(q.next.as_deref()), String::new(), None, StatusCode::OK)
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
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, WebError> {
    // The sign-in form has no session yet: its token must match the cookie set with the form.
    let pre = cookie(&headers, PRE_SESSION_COOKIE).unwrap_or_default();
    if pre.is_empty() || !constant_time_eq(pre.as_bytes(), form.csrf.as_bytes()) {
        return Err(WebError::Csrf);
    }
    let next = safe_next(form.next.as_deref());
    let username = form.username.trim().to_owned();
    let now = state.now();
    let cfg = &state.config;
    let (failures, latest) = sessions::failures_since(state.db(), &username, now - cfg.failure_window).await?;
    if failures >= cfg.max_failures {
        let unlock = latest.map_or(now, |l| l + cfg.failure_window);
        let minutes = ((unlock - now).whole_minutes() + 1).max(1);
        let problem = ctx.tr.f("signin.throttled", &[("minutes", minutes.to_string())]);
        return render_signin(&state, &ctx, next, username, Some(problem), StatusCode::TOO_MANY_REQUESTS);
    }
    let found = users::for_sign_in(state.db(), &username).await?;
    let hash = found.as_ref().map_or_else(|| crate::people::password::decoy_hash().to_owned(), |(_, h)| h.clone());
    let password = form.password;
    let matches = tokio::task::spawn_blocking(move || crate::people::password::verify(&password, &hash))
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    let user = match found {
        Some((user, _)) if matches && user.active => user,
        _ => {
            sessions::record_failure(state.db(), &username, now).await?;
            let problem = ctx.tr.t("signin.failed").to_owned();
            return render_signin(&state, &ctx, next, username, Some(problem), StatusCode::UNAUTHORIZED);
        }
    };
    sessions::clear_failures(state.db(), &username).await?;
    let token = sessions::create(state.db(), user.id, now, cfg.session_idle).await?;
    crate::store::audit::append(
        state.db(),
        crate::store::audit::NewEvent {
            stream: "auth".into(),
            at: now,
            actor: &user.username,
            kind: "sign_in",
            process: None,
            instance_id: None,
            event: None,
            from_state: None,
            to_state: None,
            data: serde_json::json!({}),
        },
    )
    .await?;
    let mut response = Redirect::to(&next).into_response();
    let headers = response.headers_mut();
    for c in
        [cookie_header(&state, SESSION_COOKIE, &token, None), cookie_header(&state, PRE_SESSION_COOKIE, "", Some(0))]
    {
        if let Ok(v) = c.parse() {
            headers.append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

pub async fn signout(
    State(state): State<AppState>,
    signed: crate::web::extract::Signed,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form)?;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        sessions::end(state.db(), token).await?;
    }
    let mut response = Redirect::to("/signin").into_response();
    if let Ok(v) = cookie_header(&state, SESSION_COOKIE, "", Some(0)).parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
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
    let mut response = Redirect::to(&safe_next(q.back.as_deref())).into_response();
    let c = cookie_header(&state, LANG_COOKIE, lang.code(), Some(60 * 60 * 24 * 365));
    if let Ok(v) = c.parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}
