//! The audit trail, for another system to mirror and verify: every event with its hash and the
//! hash it chains from, oldest first, a page at a time.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::api::caller::Caller;
use crate::api::problem::{Always, ApiError, Problem};
use crate::api::views::{AuditEventView, Page};
use crate::web::state::AppState;

const DEFAULT_PAGE: u64 = 200;
/// How long after a change its audit events are given by the feed on PostgreSQL: far longer than
/// a step's transaction takes.
const SETTLE_MICROS: i64 = 30 * 1_000_000;
const MAX_PAGE: u64 = 1000;

/// A page's size as asked, within bounds.
pub fn page_limit(caller: &Caller, limit: Option<u64>) -> Result<u64, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(l) if (1..=MAX_PAGE).contains(&l) => Ok(l),
        Some(l) => Err(ApiError::bad_request(&caller.tr, format!("limit: 1 to {MAX_PAGE}, not {l}"))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    after: Option<i64>,
    limit: Option<u64>,
}

/// Every audit event after a cursor, oldest first (admins only, as the audit page). On
/// PostgreSQL an event is given 30 seconds after its change, once every change before it has
/// committed.
#[utoipa::path(
    get,
    path = "/audit",
    tag = "audit",
    params(
        ("after" = Option<i64>, Query, description = "The `next` of the previous page (an event id)"),
        ("limit" = Option<u64>, Query, description = "At most this many (1 to 1000, default 200)"),
    ),
    responses(
        (status = 200, description = "A page of audit events", body = Page<AuditEventView>),
        (status = 400, description = "A parameter that does not fit", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only an account with the admin role reads the whole trail", body = Problem, content_type = "application/problem+json"),
        Always,
    )
)]
pub async fn feed(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<FeedQuery>,
) -> Result<Json<Page<AuditEventView>>, ApiError> {
    if !caller.user.has_role(crate::people::users::ADMIN) {
        return Err(ApiError::forbidden(&caller.tr));
    }
    let limit = page_limit(&caller, q.limit)?;
    // On PostgreSQL ids are drawn when an event is written, not when it commits: a page could
    // hold event 101 while 100 is still being committed, and a mirror that went on from 101 would
    // never see 100. So the feed gives events only once their changes have settled. SQLite has
    // one writer at a time: its ids commit in order.
    let now = crate::clock::to_micros(state.now());
    let settled = match state.db().get_database_backend() {
        sea_orm::DbBackend::Postgres => now - SETTLE_MICROS,
        _ => i64::MAX,
    };
    let events = crate::store::audit::after(state.db(), q.after.unwrap_or(0), settled, limit).await?;
    let next = (events.len() as u64 == limit).then(|| events.last().map(|e| e.id)).flatten();
    Ok(Json(Page { items: events.into_iter().map(AuditEventView::from).collect(), next }))
}
