//! Errors of the API as RFC 9457 problem documents (`application/problem#json`), worded in the
//! language the caller asks for, with the same reasons the pages give.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::definition::{Definition, Roles};
use crate::engine::{FieldError, Refusal};
use crate::runtime::RuntimeError;
use crate::web::i18n::Tr;
use crate::web::view::{field_label, field_problem_text, refusal_text};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem document: `type` names the kind of problem for programs (`code` is its last part),
/// `title` and `detail` say it to people.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:unionflow:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What kind of problem, in the caller's language.
    pub title: String,
    pub status: u16,
    /// This occurrence, in the caller's language: the reason a step was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The kind of problem for programs: `refused`, `conflict`, `invalid_input`, `forbidden`...
    pub code: String,
    /// For a refusal, what refused it: `role_not_allowed`, `guard`, `input`, `duplicate`...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Each field's problem, for input that does not fit the fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldIssue>,
    /// On a version conflict: the version the instance is at now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// On a duplicate: the open instance that holds the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_instance: Option<i64>,
}

/// The answers every route may give besides its own: no valid token, past the token's rate, our
/// fault. (Only described: these answers are made by [`ApiError`].)
#[derive(utoipa::IntoResponses)]
#[expect(dead_code, reason = "an OpenAPI description of answers made by ApiError")]
pub enum Always {
    #[response(status = 401, description = "No valid bearer token", content_type = "application/problem+json")]
    Unauthorized(Problem),
    #[response(
        status = 429,
        description = "Past the token's rate (see Retry-After)",
        content_type = "application/problem+json"
    )]
    TooManyRequests(Problem),
    #[response(status = 500, description = "Our fault, logged", content_type = "application/problem+json")]
    Internal(Problem),
}

/// What is wrong with one field of the data sent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldIssue {
    pub field: String,
    /// The field's label in the caller's language.
    pub label: String,
    pub problem: String,
}

/// An API call that failed: its problem document and the headers it needs.
#[derive(Debug)]
pub struct ApiError {
    problem: Box<Problem>,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, title: &str, detail: Option<String>) -> Self {
        let problem = Problem {
            kind: format!("urn:unionflow:problem:{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            reason: None,
            errors: Vec::new(),
            current_version: None,
            open_instance: None,
        };
        ApiError { problem: Box::new(problem), retry_after: None }
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    pub fn unauthorized(tr: &Tr) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", tr.t("api.unauthorized"), None)
    }
    pub fn forbidden(tr: &Tr) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", tr.t("api.forbidden"), None)
    }
    pub fn not_found(tr: &Tr) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", tr.t("api.not_found"), None)
    }
    pub fn method_not_allowed(tr: &Tr) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", tr.t("api.method_not_allowed"), None)
    }
    pub fn bad_request(tr: &Tr, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", tr.t("api.bad_request"), Some(detail.into()))
    }
    pub fn unsupported_media_type(tr: &Tr) -> Self {
        let detail = Some(tr.t("api.json_only").to_owned());
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", tr.t("api.bad_request"), detail)
    }
    pub fn too_large(tr: &Tr, limit: usize) -> Self {
        let detail = Some(tr.f("api.too_large", &[("bytes", limit.to_string())]));
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", tr.t("api.bad_request"), detail)
    }
    pub fn too_many(tr: &Tr, wait_secs: u64, per_minute: u32) -> Self {
        let detail = Some(tr.f("api.rate", &[("n", per_minute.to_string())]));
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", tr.t("api.too_many"), detail);
        e.retry_after = Some(wait_secs.max(1));
        e
    }
    pub fn key_reused(tr: &Tr) -> Self {
        let title = tr.t("api.key_reused");
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused", title, None)
    }
    /// Refused for a reason of its own (`reason`), worded in `detail`.
    pub fn unprocessable(tr: &Tr, reason: &str, detail: String) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", tr.t("api.refused"), Some(detail));
        e.problem.reason = Some(reason.to_owned());
        e
    }
    pub fn conflict(tr: &Tr, found: i64) -> Self {
        let detail = Some(tr.f("api.conflict", &[("version", found.to_string())]));
        let mut e = Self::new(StatusCode::CONFLICT, "conflict", tr.t("api.conflict_title"), detail);
        e.problem.current_version = Some(found);
        e
    }
    pub fn internal(tr: &Tr, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "API call failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", tr.t("api.internal"), None)
    }

    /// A step refused by the engine, with the same words the page gives, and each field's problem.
    pub fn refused(tr: &Tr, def: Option<&Definition>, roles: &Roles, r: &Refusal) -> Self {
        let (status, reason) = refusal_kind(r);
        let detail = refusal_text(tr, def, roles, r);
        let (code, title) = match status {
            StatusCode::FORBIDDEN => ("forbidden", tr.t("api.forbidden")),
            StatusCode::NOT_FOUND => ("not_found", tr.t("api.not_found")),
            StatusCode::CONFLICT => ("duplicate", tr.t("api.duplicate")),
            _ => ("refused", tr.t("api.refused")),
        };
        let mut e = Self::new(status, code, title, Some(detail));
        e.problem.reason = Some(reason.to_owned());
        if let Refusal::Input(errors) = r {
            e.problem.errors = field_issues(tr, def, errors);
        }
        if let Refusal::Duplicate { open, .. } = r {
            e.problem.open_instance = Some(*open);
        }
        e
    }

    /// A runtime error as the caller sees it.
    pub fn from_runtime(tr: &Tr, def: Option<&Definition>, roles: &Roles, e: RuntimeError) -> Self {
        match e {
            RuntimeError::NotFound(_) | RuntimeError::UnknownProcess(_) => Self::not_found(tr),
            RuntimeError::Refused(r) => Self::refused(tr, def, roles, &r),
            RuntimeError::Conflict { found, .. } => Self::conflict(tr, found),
            other => Self::internal(tr, &other),
        }
    }
}

/// The status and reason a refusal answers with: not allowed to (403), no such event (404), an
/// open instance holds the key (409), or the step's rules say no (422).
pub fn refusal_kind(r: &Refusal) -> (StatusCode, &'static str) {
    match r {
        Refusal::UnknownEvent { .. } => (StatusCode::NOT_FOUND, "unknown_event"),
        Refusal::RoleNotAllowed { .. } => (StatusCode::FORBIDDEN, "role_not_allowed"),
        Refusal::OutOfScope { .. } => (StatusCode::FORBIDDEN, "out_of_scope"),
        Refusal::SystemOnly { .. } => (StatusCode::FORBIDDEN, "system_only"),
        Refusal::NotStartable => (StatusCode::FORBIDDEN, "not_startable"),
        Refusal::Duplicate { .. } => (StatusCode::CONFLICT, "duplicate"),
        Refusal::NotFromState { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "not_from_state"),
        Refusal::Finished { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "finished"),
        Refusal::Guard(..) => (StatusCode::UNPROCESSABLE_ENTITY, "guard"),
        Refusal::Input(_) => (StatusCode::UNPROCESSABLE_ENTITY, "input"),
        Refusal::Tally(_) | Refusal::Ballots(_) => (StatusCode::UNPROCESSABLE_ENTITY, "tally"),
        Refusal::TimerNeedsDate { .. } | Refusal::DeadlineOutOfRange { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "deadline")
        }
        Refusal::TableFull { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "table_full"),
        // The API acts as the token's account only, which is never anyone's substitute.
        Refusal::NotSubstitute { .. } => (StatusCode::FORBIDDEN, "not_substitute"),
        Refusal::AttachmentRequired(_) => (StatusCode::UNPROCESSABLE_ENTITY, "attachment_required"),
        Refusal::AttachmentNotTaken => (StatusCode::UNPROCESSABLE_ENTITY, "attachment_not_taken"),
    }
}

pub fn field_issues(tr: &Tr, def: Option<&Definition>, errors: &[FieldError]) -> Vec<FieldIssue> {
    errors
        .iter()
        .map(|e| FieldIssue {
            field: e.field.clone(),
            label: field_label(def, tr.code(), &e.field),
            problem: field_problem_text(tr, &e.problem),
        })
        .collect()
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApiError::internal(&Tr::new(Default::default()), &e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&*self.problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
