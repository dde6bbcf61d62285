//! The stylesheet, the security headers every response carries, and the error pages.

use askama::Template;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::web::cookies;
use crate::web::errors::{ErrorPage, WebError};
use crate::web::i18n::Tr;
use crate::web::view::Chrome;

const STYLESHEET: &str = include_str!("../../static/style.css");

pub async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], STYLESHEET)
        .into_response()
}

pub async fn not_found() -> WebError {
    WebError::NotFound
}

/// A strict policy: no script at all, styles only from our stylesheet, forms only to us.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A download sets a stricter policy of its own (a sandbox): it is kept.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate {
    chrome: Chrome,
    message_key: &'static str,
}

/// Renders the page of an error response in the reader's language: ours (which say what went
/// wrong) and axum's own rejections of a malformed path, query or body (plain text otherwise).
pub async fn error_pages(request: Request, next: Next) -> Response {
    let tr = Tr::new(cookies::lang(request.headers()));
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let (status, message_key) = match response.extensions().get::<ErrorPage>().copied() {
        Some(ErrorPage { status, message_key }) => (status, message_key),
        None if is_bare_error(&response) => (response.status(), bare_error_key(response.status())),
        None => return response,
    };
    let page = ErrorTemplate { chrome: Chrome::anonymous(tr, &path, tr.t("error.title")), message_key };
    let mut out = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "error").into_response(),
    };
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(v) = response.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// An error answered by the framework rather than a handler: no page of ours.
fn is_bare_error(response: &Response) -> bool {
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    // The API's problem documents are answers of ours, for programs.
    let problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(crate::api::PROBLEM_JSON.as_bytes()));
    (response.status().is_client_error() || response.status().is_server_error()) && !html && !problem
}

fn bare_error_key(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "error.404",
        StatusCode::METHOD_NOT_ALLOWED => "error.405",
        StatusCode::PAYLOAD_TOO_LARGE => "error.413",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "error.415",
        s if s.is_server_error() => "error.500",
        _ => "error.400",
    }
}
