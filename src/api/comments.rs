//! Comments through the API: another system says something about an instance or one of its steps,
//! as a person does on the page (the same rules, the same history and audit chain).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::body::Body;
use crate::api::caller::Caller;
use crate::api::instances::visible;
use crate::api::problem::{Always, ApiError, Problem};
use crate::comments::{Comment, CommentError};
use crate::store::comments::AddError;
use crate::web::state::AppState;

/// A comment to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    /// At most 4,000 characters; `@user.name` mentions a person who may read the instance.
    pub text: String,
    /// The step it is about: its `seq` in the instance's history.
    pub on_step: Option<i64>,
    /// The caller's own earlier comment it corrects: its `seq` in the history.
    pub corrects: Option<i64>,
}

/// A comment added.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentAdded {
    pub instance: i64,
    /// Its place in the instance's history (and audit stream).
    pub seq: i64,
    /// The people it mentions: the instance waits in their work until they open it.
    pub mentions: Vec<String>,
}

/// Adds a comment to an instance, or to one of its steps.
#[utoipa::path(
    post,
    path = "/instances/{id}/comments",
    tag = "instances",
    params(("id" = i64, Path, description = "The instance id")),
    request_body = CommentRequest,
    responses(
        (status = 201, description = "Added to the history", body = CommentAdded),
        (status = 400, description = "Not JSON, an unknown member, a place below 0", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller may not read the instance", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such instance", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused: empty, too long, a step not in the history, another's comment to correct, a person who may not read it mentioned", body = Problem, content_type = "application/problem+json"),
        Always,
    )
)]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(req): Body<CommentRequest>,
) -> Result<Response, ApiError> {
    let tr = &caller.tr;
    if req.on_step.is_some_and(|p| p < 0) || req.corrects.is_some_and(|p| p < 0) {
        return Err(ApiError::bad_request(tr, "a place in the history is 0 or more"));
    }
    let inst = visible(&state, &caller, id).await?;
    let refuse = |e: &CommentError| ApiError::unprocessable(tr, "comment", crate::web::comments::error_text(tr, e));
    let mut comment = Comment::parse(&req.text, req.on_step, req.corrects).map_err(|e| refuse(&e))?;
    let unseeing = crate::web::comments::keep_mentions(&state, &inst, &mut comment, caller.name())
        .await
        .map_err(|e| ApiError::internal(tr, &e))?;
    if let Some(name) = unseeing {
        return Err(refuse(&CommentError::CannotSee(name)));
    }
    match crate::store::comments::add(state.db(), id, caller.name(), &comment, state.now()).await {
        Ok(seq) => {
            let added = CommentAdded { instance: id, seq, mentions: comment.mentions };
            Ok((StatusCode::CREATED, Json(added)).into_response())
        }
        Err(AddError::Refused(e)) => Err(refuse(&e)),
        Err(AddError::NotFound(_)) => Err(ApiError::not_found(tr)),
        Err(AddError::Db(e)) => Err(ApiError::internal(tr, &e)),
    }
}
