//! What the caller may act on now: the same list as a person's "my work".

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::caller::Caller;
use crate::api::problem::{Always, ApiError};
use crate::api::views::{InstanceSummary, rfc3339};
use crate::web::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkItem {
    pub instance: InstanceSummary,
    pub title: String,
    /// The events the caller may fire on it now.
    pub events: Vec<String>,
    /// Escalated to one of the caller's roles.
    pub escalated: bool,
    /// The earliest pending deadline.
    pub due_at: Option<String>,
}

/// What waits for the caller: escalated first, then the nearest deadlines.
#[utoipa::path(
    get,
    path = "/work",
    tag = "instances",
    responses(
        (status = 200, description = "What the caller may act on", body = Vec<WorkItem>),
        Always,
    )
)]
pub async fn mine(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<WorkItem>>, ApiError> {
    let tr = &caller.tr;
    let waiting = crate::work::waiting_for(&state.rt, &caller.actor()).await.map_err(|e| ApiError::internal(tr, &e))?;
    Ok(Json(
        waiting
            .into_iter()
            .map(|w| WorkItem {
                title: w.definition.title_of(&w.row.data, tr.code()),
                instance: InstanceSummary::from(&w.row),
                events: w.allowed,
                escalated: w.escalated,
                due_at: w.due.map(rfc3339),
            })
            .collect(),
    ))
}
