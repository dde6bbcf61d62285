//! The scheduler: a background task of `serve` that fires due timers from the database. Timers
//! live in the database, so they survive restarts, and several servers may run it at once.
//!
//! It also keeps pending deadlines true to the calendars: when the definitions (and so the
//! calendar files) are loaded, every pending deadline that moves past rest days is computed again.

use std::sync::Arc;
use std::time::Duration;

use crate::engine::{self, Actor};
use crate::runtime::{Runtime, RuntimeError};
use crate::store::audit::{self, NewEvent};
use crate::store::db::begin_write;
use crate::store::instances;
use crate::store::timers::{self, Pending};

/// Pending timers read at a time while deadlines are computed again.
const RECOMPUTE_PAGE: u64 = 500;

/// The audit kind of a deadline computed again on a changed calendar.
pub const DEADLINE_MOVED: &str = "deadline_moved";

/// Polls for due timers every `every` until `shutdown` resolves.
pub async fn run(runtime: Arc<Runtime>, every: Duration, shutdown: impl std::future::Future<Output = ()>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tick.tick() => {
                match runtime.fire_due_timers().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(fired = n, "fired due timers"),
                    Err(e) => tracing::warn!(error = %e, "firing due timers failed; will retry"),
                }
            }
        }
    }
}

/// Computes every pending deadline that moves past rest days again on the calendars loaded now (a
/// calendar file added, published or corrected since the timer started), and returns how many
/// moved. A deadline that moves is rewritten and audited in its instance's chain in one
/// transaction; one that does not is left alone, so a second run moves nothing.
pub async fn recompute_deadlines(rt: &Runtime) -> Result<usize, RuntimeError> {
    let mut moved = 0;
    let mut after = 0;
    loop {
        let page = timers::pending_page(rt.db(), after, RECOMPUTE_PAGE).await?;
        let Some(last) = page.last() else { return Ok(moved) };
        after = last.id;
        for timer in page {
            if recompute_one(rt, timer).await? {
                moved += 1;
            }
        }
    }
}

/// Computes one pending deadline again; true when its last day moved.
async fn recompute_one(rt: &Runtime, timer: Pending) -> Result<bool, RuntimeError> {
    let def = rt.registry().by_row(rt.db(), timer.definition_id).await?;
    let Some(spec) = def.state(&timer.state).and_then(|s| s.timers.iter().find(|t| t.id == timer.name)) else {
        return Ok(false);
    };
    // A deadline not moved past rest days reads no calendar: nothing to compute again.
    if !spec.working_day {
        return Ok(false);
    }
    // A timer made before bases were kept counts from the day it was made, or its field's date.
    let base = match timer.base {
        Some(base) => base,
        None => match engine::base_of(spec, &timer.data, timer.created_at, rt.offset()) {
            Ok(base) => base,
            Err(_) => return Ok(false),
        },
    };
    let Some(now) = engine::deadline(spec, base, &rt.definitions().calendar, rt.offset()) else {
        return Ok(false);
    };
    let after = crate::definition::calendar::format_date(now.last_day);
    if after == timer.last_day && now.provisional == timer.provisional && timer.base.is_some() {
        return Ok(false);
    }
    let txn = begin_write(rt.db()).await?;
    let inst = instances::lock(&txn, timer.instance_id).await?.ok_or(RuntimeError::NotFound(timer.instance_id))?;
    if !timers::reschedule(&txn, timer.id, &timer.last_day, base, &now).await? {
        // Fired, cancelled or moved by another process since it was read.
        txn.rollback().await?;
        return Ok(false);
    }
    let moved = after != timer.last_day;
    if moved {
        let system = Actor::system();
        let sealed = audit::seal(
            NewEvent {
                stream: audit::instance_stream(inst.id),
                at: rt.clock().now(),
                actor: &system.name,
                kind: DEADLINE_MOVED,
                process: Some(&inst.process),
                instance_id: Some(inst.id),
                event: None,
                from_state: Some(&inst.state),
                to_state: Some(&inst.state),
                data: serde_json::json!({
                    "timer": timer.name,
                    "base": crate::definition::calendar::format_date(base),
                    "before": timer.last_day,
                    "after": after,
                    "provisional": now.provisional,
                }),
            },
            inst.audit_head(),
        );
        instances::advance_audit_head(&txn, inst.id, sealed.record.seq, &sealed.hash).await?;
        audit::insert(&txn, sealed).await?;
    }
    txn.commit().await?;
    Ok(moved)
}
