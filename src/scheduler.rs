//! The scheduler: a background task of `serve` that fires due timers from the database. Timers
//! live in the database, so they survive restarts, and several servers may run it at once.

use std::sync::Arc;
use std::time::Duration;

use crate::runtime::Runtime;

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
