//! The JSON API under `/api/v1`: other systems start, drive and follow processes through the same
//! runtime as the pages. Service accounts sign in with bearer tokens (no cookies, so no CSRF);
//! bodies are JSON, errors RFC 9457 problem documents in the caller's language, and the OpenAPI
//! 3.1 document at `/api/v1/openapi.json` is generated from these handlers.

mod audit;
mod body;
mod caller;
pub mod calls;
mod comments;
mod instances;
mod limits;
mod problem;
mod processes;
mod views;
mod work;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use body::BODY_LIMIT;
pub use caller::{WRONG_TOKENS_PER_MINUTE, lang_of};
pub use calls::CallLog;
pub use limits::Limiter;
pub use problem::{ApiError, PROBLEM_JSON, Problem};

use crate::web::state::AppState;

pub const PREFIX: &str = "/api/v1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "unionflow",
        description = "Start, drive and follow unionflow's processes from another system. Every call carries `Authorization: Bearer <token>` of a service account (`unionflow token add`); errors are RFC 9457 problem documents worded in the language of `Accept-Language`."
    ),
    modifiers(&BearerToken),
    security(("bearer" = [])),
    tags(
        (name = "processes", description = "The process definitions in force"),
        (name = "instances", description = "Starting, reading and driving instances"),
        (name = "audit", description = "The hash-chained audit trail"),
    )
)]
struct ApiDoc;

struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's routes and their OpenAPI document, from the same annotated handlers.
fn documented() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .routes(routes!(processes::list))
        .routes(routes!(processes::by_key))
        .routes(routes!(instances::start))
        .routes(routes!(instances::search))
        .routes(routes!(instances::get_one))
        .routes(routes!(instances::fire))
        .routes(routes!(instances::history))
        .routes(routes!(comments::add))
        .routes(routes!(audit::feed))
        .routes(routes!(work::mine));
    OpenApiRouter::new().nest(PREFIX, api).split_for_parts()
}

/// The OpenAPI document, as served.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().1
}

/// The API, ready to be merged into the app.
pub fn router(state: AppState) -> Router<AppState> {
    let (routes, doc) = documented();
    let doc = Arc::new(doc.to_json().unwrap_or_default());
    routes
        .route(
            &format!("{PREFIX}/openapi.json"),
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], doc.as_str().to_owned()) }
            }),
        )
        .route(PREFIX, axum::routing::any(unknown_route))
        .route(&format!("{PREFIX}/"), axum::routing::any(unknown_route))
        .route(&format!("{PREFIX}/{{*rest}}"), axum::routing::any(unknown_route))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(problems_only))
        .layer(axum::middleware::from_fn_with_state(state, calls::log_calls))
}

async fn unknown_route(headers: axum::http::HeaderMap) -> ApiError {
    ApiError::not_found(&lang_of(&headers))
}

/// An error the framework answered (a path that does not parse, a method not allowed) becomes a
/// problem document too: a client of the API never gets an HTML page.
async fn problems_only(request: Request, next: Next) -> Response {
    let tr = lang_of(request.headers());
    let response = next.run(request).await;
    let status = response.status();
    let problem =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || problem {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&text).into_owned();
    let mut out = match parts.status {
        axum::http::StatusCode::NOT_FOUND => ApiError::not_found(&tr),
        axum::http::StatusCode::METHOD_NOT_ALLOWED => ApiError::method_not_allowed(&tr),
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(&tr, BODY_LIMIT),
        s if s.is_client_error() => ApiError::bad_request(&tr, detail),
        _ => ApiError::internal(&tr, &detail),
    }
    .into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out.headers_mut().insert("cache-control", HeaderValue::from_static("no-store"));
    out
}
