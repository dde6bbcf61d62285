//! The outbox of outgoing events: a delivery per matching subscription, written by the change's
//! own transaction (so a change never commits without its deliveries, and a change rolled back
//! leaves none), then claimed, sent and settled by the webhook worker (`crate::webhooks`).

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::clock::to_micros;
use crate::store::db::{begin_write, exec, row, rows};

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
/// Given up after the last attempt allowed; an admin may send it again.
pub const FAILED: &str = "failed";

/// What a delivery reports: an instance started (or spawned), changed, or finished (got an outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Started,
    Changed,
    Finished,
}

impl EventType {
    /// The names receivers see. Spelt in two pieces only because, whole, they have the shape of
    /// locale keys (`instance.*` is a namespace of the locales) to the test that finds dead ones.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Started => concat!("instance.", "started"),
            EventType::Changed => concat!("instance.", "changed"),
            EventType::Finished => concat!("instance.", "finished"),
        }
    }
}

/// A committed-to-be change of an instance, as its deliveries report it.
pub struct Change<'a> {
    pub kind: EventType,
    /// When the change happened, by the runtime's clock: the time its audit event carries.
    pub occurred_at: OffsetDateTime,
    pub process: &'a str,
    pub instance: i64,
    pub event: Option<&'a str>,
    pub from_state: Option<&'a str>,
    pub to_state: &'a str,
    /// Whether the change entered `to_state` (a step that stays in its state enters none, and
    /// so matches no subscription that asks for a state).
    pub entered: bool,
    pub outcome: Option<&'a str>,
    pub actor: &'a str,
    /// The instance's version after the change.
    pub version: i64,
    pub input: serde_json::Value,
    /// The change's audit event: a receiver can find it in the audit trail and check its hash.
    pub audit: (&'a str, i64, &'a str),
}

/// The body every delivery of a change carries, but for the leading `"id"`, which differs per
/// delivery and is spliced in by the database (see [`enqueue`]).
fn body_after_id(c: &Change<'_>) -> String {
    let occurred_at = crate::clock::rfc3339(c.occurred_at.to_offset(time::UtcOffset::UTC));
    let (stream, seq, hash) = c.audit;
    let body = serde_json::json!({
        "type": c.kind.as_str(),
        "occurred_at": occurred_at,
        "process": c.process,
        "instance": c.instance,
        "event": c.event,
        "from_state": c.from_state,
        "to_state": c.to_state,
        "outcome": c.outcome,
        "actor": c.actor,
        "version": c.version,
        "input": c.input,
        "audit": { "stream": stream, "seq": seq, "hash": hash },
    })
    .to_string();
    // `{"type":...}` without its opening brace: what follows `"id":"...",`.
    body.strip_prefix('{').map(str::to_owned).unwrap_or(body)
}

/// Writes one delivery for every active subscription the change matches, through `c` (the
/// change's transaction). The matching is one statement in the database, so it is right with
/// several servers and costs no read. Each delivery's id is a random token of the change with
/// the subscription's id: unique, and not guessable. Returns how many were written.
pub async fn enqueue<C: ConnectionTrait>(c: &C, change: &Change<'_>) -> Result<u64, DbErr> {
    let token = format!("{}-", crate::people::random_token());
    let prefix = format!("{{\"id\":\"{token}");
    let suffix = format!("\",{}", body_after_id(change));
    // Wall-clock time, not the runtime's: the worker schedules by the wall clock (see
    // `crate::webhooks::worker`), and the delivery is due at once.
    let now = to_micros(OffsetDateTime::now_utc());
    exec(
        c,
        "INSERT INTO webhook_deliveries (subscription_id, delivery_id, event_type, instance_id, body, status, attempts, next_attempt_at, created_at, history)
         SELECT id, $1 || CAST(id AS TEXT), $2, $3, $4 || CAST(id AS TEXT) || $5, $6, 0, $7, $7, '[]'
         FROM webhook_subscriptions
         WHERE active
           AND (process IS NULL OR process = $8)
           AND (event IS NULL OR event = $9)
           AND (state IS NULL OR state = $10)
           AND (NOT finished OR $11)",
        vec![
            token.into(),
            change.kind.as_str().into(),
            change.instance.into(),
            prefix.into(),
            suffix.into(),
            PENDING.into(),
            now.into(),
            change.process.into(),
            change.event.map(str::to_owned).into(),
            change.entered.then(|| change.to_state.to_owned()).into(),
            change.outcome.is_some().into(),
        ],
    )
    .await
}

/// One attempt to deliver, as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// When it was made (microseconds since the epoch, wall clock).
    pub at: i64,
    /// The receiver's HTTP status, when it answered.
    pub code: Option<u16>,
    /// Why it failed without an answer (or the answer's first words).
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub ms: u64,
}

/// The attempts a delivery keeps: the latest, a few more than it is ever tried in one go.
pub const HISTORY: usize = 20;
/// The longest error text kept.
pub const ERROR_MAX: usize = 500;

/// A delivery claimed by a worker: its lease (`locked_until`) is held, committed, before it is sent.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub subscription_id: i64,
    pub delivery_id: String,
    pub event_type: String,
    pub body: String,
    /// Attempts so far, counting this one.
    pub attempts: i64,
    pub history: String,
    /// The lease, which also fences the result: a worker whose lease ran out (and whose
    /// delivery someone else has taken since) records nothing.
    pub lease: i64,
    pub url: String,
    pub secret: String,
}

#[derive(FromQueryResult)]
struct ClaimedRow {
    id: i64,
    subscription_id: i64,
    delivery_id: String,
    event_type: String,
    body: String,
    attempts: i64,
    history: String,
    locked_until: Option<i64>,
}

#[derive(FromQueryResult)]
struct Target {
    id: i64,
    url: String,
    secret: String,
}

/// Claims up to `n` due deliveries of active subscriptions for `lease`, in a committed
/// transaction of its own. A claimed delivery is due again when its lease ends, so a worker
/// killed mid-delivery leaves it to be sent again (at least once). On PostgreSQL rows another
/// server is claiming are skipped (`SKIP LOCKED`); SQLite has a single writer.
pub async fn claim<C: crate::store::db::Conn>(
    db: &C,
    n: u64,
    now: OffsetDateTime,
    lease: time::Duration,
) -> Result<Vec<Claimed>, DbErr> {
    let skip_locked = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => " FOR UPDATE OF d SKIP LOCKED",
        _ => "",
    };
    let until = to_micros(now + lease);
    let txn = begin_write(db).await?;
    let sql = format!(
        "UPDATE webhook_deliveries SET locked_until = $1, next_attempt_at = $1, attempts = attempts + 1
         WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
                      WHERE d.status = $2 AND d.next_attempt_at <= $3 AND s.active
                      ORDER BY d.next_attempt_at, d.id LIMIT $4{skip_locked})
         RETURNING id, subscription_id, delivery_id, event_type, body, attempts, history, locked_until"
    );
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    let claimed: Vec<ClaimedRow> =
        rows(&txn, &sql, vec![until.into(), PENDING.into(), to_micros(now).into(), n.into()]).await?;
    if claimed.is_empty() {
        txn.commit().await?;
        return Ok(Vec::new());
    }
    let ids: Vec<String> = claimed.iter().map(|c| c.subscription_id.to_string()).collect();
    // Ids are numbers read from the database, not input: listing them is safe.
    let targets: Vec<Target> = rows(
        &txn,
        &format!("SELECT id, url, secret FROM webhook_subscriptions WHERE id IN ({})", ids.join(", ")),
        vec![],
    )
    .await?;
    txn.commit().await?;
    Ok(claimed
        .into_iter()
        .filter_map(|c| {
            let target = targets.iter().find(|t| t.id == c.subscription_id)?;
            Some(Claimed {
                id: c.id,
                subscription_id: c.subscription_id,
                delivery_id: c.delivery_id,
                event_type: c.event_type,
                body: c.body,
                attempts: c.attempts,
                history: c.history,
                lease: c.locked_until.unwrap_or(until),
                url: target.url.clone(),
                secret: target.secret.clone(),
            })
        })
        .collect())
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(OffsetDateTime),
    GiveUp,
}

/// Records an attempt and what follows it, if the lease is still this worker's. Returns whether
/// it was recorded.
pub async fn settle<C: ConnectionTrait>(
    c: &C,
    claimed: &Claimed,
    attempt: Attempt,
    next: Next,
    now: OffsetDateTime,
) -> Result<bool, DbErr> {
    let mut history: Vec<Attempt> = serde_json::from_str(&claimed.history).unwrap_or_default();
    history.push(attempt.clone());
    let extra = history.len().saturating_sub(HISTORY);
    history.drain(..extra);
    let history = serde_json::to_string(&history).unwrap_or_else(|_| "[]".to_owned());
    let now = to_micros(now);
    let (status, next_at, delivered_at) = match next {
        Next::Delivered => (DELIVERED, now, Some(now)),
        Next::RetryAt(at) => (PENDING, to_micros(at), None),
        Next::GiveUp => (FAILED, now, None),
    };
    let error = attempt.error.map(|e| bounded(&e, ERROR_MAX));
    Ok(exec(
        c,
        "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, locked_until = NULL, last_status_code = $3,
                last_error = $4, delivered_at = $5, history = $6
         WHERE id = $7 AND locked_until = $8",
        vec![
            status.into(),
            next_at.into(),
            attempt.code.map(i64::from).into(),
            error.into(),
            delivered_at.into(),
            history.into(),
            claimed.id.into(),
            claimed.lease.into(),
        ],
    )
    .await?
        > 0)
}

/// At most `max` characters of `s`.
pub fn bounded(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A delivery as the admin page lists it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct DeliveryRow {
    pub id: i64,
    pub subscription_id: i64,
    pub delivery_id: String,
    pub event_type: String,
    pub instance_id: i64,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    pub created_at: i64,
    pub history: String,
}

impl DeliveryRow {
    /// Its attempts, oldest first (a list that does not read is shown as none).
    pub fn attempts_made(&self) -> Vec<Attempt> {
        serde_json::from_str(&self.history).unwrap_or_default()
    }
}

const DELIVERY_COLUMNS: &str = "id, subscription_id, delivery_id, event_type, instance_id, status, attempts, next_attempt_at, \
     last_status_code, last_error, delivered_at, created_at, history";

/// A page of deliveries, newest first, before the delivery `before` (a key, never an offset).
pub async fn page<C: ConnectionTrait>(c: &C, before: Option<i64>, limit: u64) -> Result<Vec<DeliveryRow>, DbErr> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    match before {
        Some(before) => {
            let sql =
                format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id < $1 ORDER BY id DESC LIMIT $2");
            rows(c, &sql, vec![before.into(), limit.into()]).await
        }
        None => {
            let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries ORDER BY id DESC LIMIT $1");
            rows(c, &sql, vec![limit.into()]).await
        }
    }
}

pub async fn find<C: ConnectionTrait>(c: &C, id: i64) -> Result<Option<DeliveryRow>, DbErr> {
    row(c, &format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1"), vec![id.into()]).await
}

/// Makes a delivery due now with a fresh count of attempts, whatever became of it; returns
/// whether it exists. A worker still sending it may deliver it once more: receivers drop
/// duplicates by id.
pub async fn resend<C: ConnectionTrait>(c: &C, id: i64, now: OffsetDateTime) -> Result<bool, DbErr> {
    Ok(exec(
        c,
        "UPDATE webhook_deliveries SET status = $1, attempts = 0, next_attempt_at = $2, locked_until = NULL WHERE id = $3",
        vec![PENDING.into(), to_micros(now).into(), id.into()],
    )
    .await?
        > 0)
}

/// Forgets deliveries settled (delivered or failed) before `before` (the server's housekeeping):
/// the outbox does not grow with every change for ever. Pending ones are kept whatever their age.
pub async fn purge<C: ConnectionTrait>(c: &C, before: i64) -> Result<u64, DbErr> {
    exec(
        c,
        "DELETE FROM webhook_deliveries WHERE status <> $1 AND created_at < $2",
        vec![PENDING.into(), before.into()],
    )
    .await
}
