//! The delivery worker: a background task of `serve` (beside the timer scheduler) that claims due
//! deliveries from the outbox, sends them, and settles each: delivered on a 2xx answer, else
//! tried again after an exponential back-off with jitter, and failed after the last attempt.
//!
//! Delivery is scheduled by the wall clock, not by the runtime's clock. The runtime's clock says
//! when a change happened (a test's manual clock may stand still or jump by months), and the
//! body's `occurred_at` is that time, as in the audit trail. But a lease, a timeout and a back-off
//! are spans of real time during which a real receiver is down or a real request is in flight,
//! and the signature's timestamp is checked by the receiver against its own clock: all of
//! these must be the wall clock's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use time::OffsetDateTime;

use crate::store::outbox::{self, Attempt, Claimed, Next};
use crate::webhooks::client::{self, HttpsClient};

/// How the worker paces itself. `serve` sets the poll interval and the timeout from its flags;
/// tests set everything small.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How often the outbox is looked at when there is nothing to send.
    pub poll: Duration,
    /// The most one attempt may take, from connecting to reading the start of the answer.
    pub timeout: Duration,
    /// The wait after a first failed attempt; it doubles with each next one...
    pub backoff_base: Duration,
    /// ...up to this.
    pub backoff_cap: Duration,
    /// Attempts before a delivery is given up as failed.
    pub max_attempts: i64,
    /// Deliveries in flight at once, per worker.
    pub concurrency: usize,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            backoff_base: Duration::from_secs(10),
            backoff_cap: Duration::from_secs(3600),
            max_attempts: 12,
            concurrency: 4,
        }
    }
}

impl WorkerConfig {
    /// How long a claim holds a delivery: longer than an attempt may take, so a delivery is sent
    /// again only when its worker is gone (or the database was slower than the attempt itself).
    pub fn lease(&self) -> Duration {
        self.timeout.saturating_mul(2)
    }

    /// The wait before attempt `made + 1`, after `made` attempts: `base × 2^(made−1)`, at most
    /// the cap, then somewhere between its half and its whole, so receivers coming back up are
    /// not met by every delivery at the same instant.
    pub fn backoff(&self, made: i64) -> Duration {
        let doublings = u32::try_from(made.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let full = self.backoff_base.saturating_mul(1u32 << doublings).min(self.backoff_cap);
        let mut bytes = [0u8; 8];
        let _ = getrandom::fill(&mut bytes);
        let share = f64::from(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])) / f64::from(u32::MAX);
        full.mul_f64(0.5 + share / 2.0)
    }
}

/// Sends due deliveries until `shutdown` resolves; then lets those in flight finish (within the
/// timeout) and stops. Whatever it leaves claimed is sent again when its lease ends.
pub async fn run(db: DatabaseConnection, config: WorkerConfig, shutdown: impl std::future::Future<Output = ()>) {
    let config = Arc::new(config);
    let client = client::new_client(config.timeout);
    let concurrency = config.concurrency.max(1);
    let mut in_flight = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let free = concurrency.saturating_sub(in_flight.len());
        let mut filled = free == 0;
        if free > 0 {
            let lease = time::Duration::try_from(config.lease()).unwrap_or(time::Duration::MINUTE);
            match outbox::claim(&db, free as u64, OffsetDateTime::now_utc(), lease).await {
                Ok(claimed) => {
                    filled = claimed.len() == free;
                    for d in claimed {
                        in_flight.spawn(deliver(db.clone(), client.clone(), config.clone(), d));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming webhook deliveries failed; will retry"),
            }
        }
        // With every slot taken, the next look is when one frees; else at the next poll too.
        tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            _ = tokio::time::sleep(config.poll), if !filled => {}
        }
    }
    let _ = tokio::time::timeout(config.timeout, async { while in_flight.join_next().await.is_some() {} }).await;
    in_flight.shutdown().await;
}

/// Sends one claimed delivery and settles it.
async fn deliver(db: DatabaseConnection, client: HttpsClient, config: Arc<WorkerConfig>, d: Claimed) {
    let at = OffsetDateTime::now_utc();
    let started = Instant::now();
    let request = client::Request {
        url: &d.url,
        delivery_id: &d.delivery_id,
        event_type: &d.event_type,
        secret: &d.secret,
        body: &d.body,
        t: at.unix_timestamp(),
    };
    let result = client::post(&client, &request, config.timeout).await;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let at_micros = crate::clock::to_micros(at);
    let (attempt, delivered) = match result {
        Ok(answer) => {
            let ok = (200..300).contains(&answer.code);
            let error = (!ok && !answer.text.trim().is_empty()).then(|| answer.text.trim().to_owned());
            (Attempt { at: at_micros, code: Some(answer.code), error, ms }, ok)
        }
        Err(e) => (Attempt { at: at_micros, code: None, error: Some(e.to_string()), ms }, false),
    };
    let now = OffsetDateTime::now_utc();
    let next = if delivered {
        Next::Delivered
    } else if d.attempts >= config.max_attempts {
        Next::GiveUp
    } else {
        let wait = time::Duration::try_from(config.backoff(d.attempts)).unwrap_or(time::Duration::HOUR);
        Next::RetryAt(now + wait)
    };
    if !delivered {
        tracing::warn!(delivery = %d.delivery_id, url = %d.url, attempts = d.attempts, code = ?attempt.code,
            error = ?attempt.error, ?next, "webhook delivery failed");
    }
    match outbox::settle(&db, &d, attempt, next, now).await {
        Ok(true) => {}
        // The lease ran out and the delivery was taken again, or an admin resent it or removed
        // its subscription meanwhile: whoever holds it now settles it.
        Ok(false) => tracing::info!(delivery = %d.delivery_id, "a webhook delivery changed hands meanwhile"),
        Err(e) => tracing::warn!(error = %e, delivery = %d.delivery_id, "recording a webhook attempt failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_to_its_cap_with_jitter_below_it() {
        let config = WorkerConfig::default();
        for (made, full) in [(1, 10), (2, 20), (3, 40), (9, 2560), (10, 3600), (40, 3600)] {
            let wait = config.backoff(made);
            let full = Duration::from_secs(full);
            assert!(wait <= full && wait >= full / 2, "after {made}: {wait:?} not within {full:?}");
        }
    }
}
