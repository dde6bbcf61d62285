//! Errors at the web edge. Each becomes a friendly page in the reader's language with the right
//! status; the cause is logged, never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("sign-in required")]
    SignIn { next: String },
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Too much password work is running already: come back in a moment.
    #[error(transparent)]
    Busy(#[from] crate::people::password::Busy),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for WebError {
    fn from(e: sea_orm::DbErr) -> Self {
        WebError::Internal(e.into())
    }
}

impl From<crate::runtime::RuntimeError> for WebError {
    fn from(e: crate::runtime::RuntimeError) -> Self {
        match e {
            crate::runtime::RuntimeError::NotFound(_) => WebError::NotFound,
            other => WebError::Internal(other.into()),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(e.into())
    }
}

/// Left on an error response for the error-page layer, which knows the reader's language.
#[derive(Debug, Clone, Copy)]
pub struct ErrorPage {
    pub status: StatusCode,
    pub message_key: &'static str,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, message_key) = match &self {
            WebError::SignIn { next } => {
                let target = format!("/signin?next={}", urlencode(next));
                return Redirect::to(&target).into_response();
            }
            WebError::NotFound => (StatusCode::NOT_FOUND, "error.404"),
            WebError::Forbidden => (StatusCode::FORBIDDEN, "error.403"),
            WebError::Csrf => (StatusCode::FORBIDDEN, "error.csrf"),
            WebError::Busy(_) => {
                let mut response = StatusCode::TOO_MANY_REQUESTS.into_response();
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("5"));
                response
                    .extensions_mut()
                    .insert(ErrorPage { status: StatusCode::TOO_MANY_REQUESTS, message_key: "signin.busy" });
                return response;
            }
            WebError::BadRequest(why) => {
                tracing::info!(%why, "bad request");
                (StatusCode::BAD_REQUEST, "error.400")
            }
            WebError::Internal(e) => {
                tracing::error!(error = ?e, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "error.500")
            }
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(ErrorPage { status, message_key });
        response
    }
}

/// Percent-encodes a value for a query string.
pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
