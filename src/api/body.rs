//! A JSON request body, parsed into its type at the edge: JSON only, within the size limit, no
//! field the type does not know — each refusal a problem document.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::api::caller::lang_of;
use crate::api::problem::ApiError;

/// The largest body the API reads: far more than any step's data (a roll call of 5,000 names is
/// about 100 KiB), and little enough that a body parsed into values stays a few MiB.
pub const BODY_LIMIT: usize = 256 * 1024;

pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let tr = lang_of(req.headers());
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || (v.starts_with("application/") && v.ends_with("+json")));
        if !json {
            return Err(ApiError::unsupported_media_type(&tr));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large(&tr, BODY_LIMIT)
            } else {
                ApiError::bad_request(&tr, e.body_text())
            }
        })?;
        serde_json::from_slice(&bytes).map(Body).map_err(|e| ApiError::bad_request(&tr, e.to_string()))
    }
}
