//! The sign-in throttle's counters (see [`crate::people::throttle`] for the rule): one row per
//! user name from a client address, and per client address.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use time::OffsetDateTime;

use crate::clock::{from_micros, to_micros};
use crate::store::db::{exec, row};

/// One counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub failures: i64,
    pub window_start: OffsetDateTime,
    pub locked_until: OffsetDateTime,
    /// Locks reached in a row, for the back-off.
    pub lockouts: i64,
    pub updated_at: OffsetDateTime,
}

impl Counter {
    pub fn fresh(now: OffsetDateTime) -> Self {
        Self { failures: 0, window_start: now, locked_until: now, lockouts: 0, updated_at: now }
    }
}

#[derive(FromQueryResult)]
struct CounterRow {
    failures: i64,
    window_start: i64,
    locked_until: i64,
    lockouts: i64,
    updated_at: i64,
}

/// Reads a counter (made if new) and holds it until the transaction ends: the upsert takes the
/// row's lock on PostgreSQL, and the transaction already holds SQLite's write lock
/// (`begin_write`).
pub async fn lock<C: ConnectionTrait>(c: &C, key: &str, now: OffsetDateTime) -> Result<Counter, DbErr> {
    let now = to_micros(now);
    let r: CounterRow = row(
        c,
        "INSERT INTO sign_in_throttle (key, failures, window_start, locked_until, lockouts, updated_at)
         VALUES ($1, 0, $2, 0, 0, $2)
         ON CONFLICT (key) DO UPDATE SET failures = sign_in_throttle.failures
         RETURNING failures, window_start, locked_until, lockouts, updated_at",
        vec![key.into(), now.into()],
    )
    .await?
    .ok_or(DbErr::RecordNotInserted)?;
    Ok(Counter {
        failures: r.failures,
        window_start: from_micros(r.window_start),
        locked_until: from_micros(r.locked_until),
        lockouts: r.lockouts,
        updated_at: from_micros(r.updated_at),
    })
}

pub async fn write<C: ConnectionTrait>(c: &C, key: &str, v: &Counter) -> Result<(), DbErr> {
    exec(
        c,
        "UPDATE sign_in_throttle SET failures = $1, window_start = $2, locked_until = $3, lockouts = $4, updated_at = $5 WHERE key = $6",
        vec![
            v.failures.into(),
            to_micros(v.window_start).into(),
            to_micros(v.locked_until).into(),
            v.lockouts.into(),
            to_micros(v.updated_at).into(),
            key.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Deletes the counters untouched, and unlocked, since `before`.
pub async fn prune<C: ConnectionTrait>(c: &C, before: OffsetDateTime) -> Result<(), DbErr> {
    let before = to_micros(before);
    exec(
        c,
        "DELETE FROM sign_in_throttle WHERE updated_at < $1 AND locked_until < $2",
        vec![before.into(), before.into()],
    )
    .await?;
    Ok(())
}

pub async fn delete<C: ConnectionTrait>(c: &C, key: &str) -> Result<(), DbErr> {
    exec(c, "DELETE FROM sign_in_throttle WHERE key = $1", vec![key.into()]).await?;
    Ok(())
}

/// Takes one failure off a counter (a reservation given back).
pub async fn decrement<C: ConnectionTrait>(c: &C, key: &str) -> Result<(), DbErr> {
    exec(c, "UPDATE sign_in_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0", vec![key.into()])
        .await?;
    Ok(())
}
