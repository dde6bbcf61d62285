//! Durable timers: started when a state is entered, cancelled when it is left, claimed one at a
//! time by whichever server process gets to it first.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use time::OffsetDateTime;

use crate::clock::{from_micros, to_micros};
use crate::engine::TimerStart;
use crate::store::db::{exec, row, rows};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerRow {
    pub id: i64,
    pub instance_id: i64,
    pub name: String,
    pub event: String,
    pub due_at: OffsetDateTime,
    pub last_day: String,
    pub status: String,
}

/// A timer's columns as stored.
#[derive(FromQueryResult)]
struct Stored {
    id: i64,
    instance_id: i64,
    name: String,
    event: String,
    due_at: i64,
    last_day: String,
    status: String,
}

impl From<Stored> for TimerRow {
    fn from(s: Stored) -> Self {
        let Stored { id, instance_id, name, event, due_at, last_day, status } = s;
        TimerRow { id, instance_id, name, event, due_at: from_micros(due_at), last_day, status }
    }
}

#[derive(FromQueryResult)]
struct Due {
    instance_id: i64,
    due: Option<i64>,
}

pub const PENDING: &str = "pending";
pub const FIRED: &str = "fired";
pub const CANCELLED: &str = "cancelled";
/// The timer fell due but its event was no longer allowed (the refusal is in the audit trail).
pub const REFUSED: &str = "refused";

pub async fn insert<C: ConnectionTrait>(
    c: &C,
    instance: i64,
    t: &TimerStart,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    exec(
        c,
        "INSERT INTO timers (instance_id, name, event, due_at, last_day, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            instance.into(),
            t.name.clone().into(),
            t.event.clone().into(),
            to_micros(t.due_at).into(),
            crate::definition::calendar::format_date(t.last_day).into(),
            PENDING.into(),
            to_micros(now).into(),
        ],
    )
    .await?;
    Ok(())
}

pub async fn cancel_pending<C: ConnectionTrait>(c: &C, instance: i64, now: OffsetDateTime) -> Result<u64, DbErr> {
    exec(
        c,
        "UPDATE timers SET status = $1, done_at = $2 WHERE instance_id = $3 AND status = $4",
        vec![CANCELLED.into(), to_micros(now).into(), instance.into(), PENDING.into()],
    )
    .await
}

/// Claims the earliest due timer, marking it fired. On PostgreSQL a timer another process is
/// firing is skipped (`SKIP LOCKED`), so each fires once; SQLite has a single writer.
pub async fn claim_due<C: ConnectionTrait>(c: &C, now: OffsetDateTime) -> Result<Option<TimerRow>, DbErr> {
    let skip_locked = match c.get_database_backend() {
        sea_orm::DbBackend::Postgres => " FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let sql = format!(
        "UPDATE timers SET status = $1, done_at = $2
         WHERE status = $3 AND id = (SELECT id FROM timers WHERE status = $3 AND due_at <= $4 ORDER BY due_at, id LIMIT 1{skip_locked})
         RETURNING id, instance_id, name, event, due_at, last_day, status"
    );
    let now = to_micros(now);
    Ok(row::<Stored, _>(c, &sql, vec![FIRED.into(), now.into(), PENDING.into(), now.into()]).await?.map(TimerRow::from))
}

/// Closes a timer that is still pending; false when another process has taken it meanwhile.
pub async fn close_if_pending<C: ConnectionTrait>(c: &C, id: i64, status: &str) -> Result<bool, DbErr> {
    Ok(exec(
        c,
        "UPDATE timers SET status = $1 WHERE id = $2 AND status = $3",
        vec![status.into(), id.into(), PENDING.into()],
    )
    .await?
        > 0)
}

pub async fn pending_for<C: ConnectionTrait>(c: &C, instance: i64) -> Result<Vec<TimerRow>, DbErr> {
    let stored: Vec<Stored> = rows(
        c,
        "SELECT id, instance_id, name, event, due_at, last_day, status FROM timers WHERE instance_id = $1 AND status = $2 ORDER BY due_at, id",
        vec![instance.into(), PENDING.into()],
    )
    .await?;
    Ok(stored.into_iter().map(TimerRow::from).collect())
}

pub async fn next_due<C: ConnectionTrait>(c: &C) -> Result<Option<OffsetDateTime>, DbErr> {
    #[derive(FromQueryResult)]
    struct Next {
        due: Option<i64>,
    }
    let next: Option<Next> =
        row(c, "SELECT MIN(due_at) AS due FROM timers WHERE status = $1", vec![PENDING.into()]).await?;
    Ok(next.and_then(|n| n.due).map(from_micros))
}

/// The earliest pending deadline of each of the instances, for work lists.
pub async fn earliest_due<C: ConnectionTrait>(
    c: &C,
    instances: &[i64],
) -> Result<std::collections::BTreeMap<i64, OffsetDateTime>, DbErr> {
    let mut out = std::collections::BTreeMap::new();
    // Ids are numbers we read ourselves, listed in chunks so no statement grows without bound.
    for chunk in instances.chunks(500) {
        let ids = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!(
            "SELECT instance_id, MIN(due_at) AS due FROM timers WHERE status = 'pending' AND instance_id IN ({ids}) GROUP BY instance_id"
        );
        for Due { instance_id, due } in rows::<Due, _>(c, &sql, vec![]).await? {
            if let Some(due) = due {
                out.insert(instance_id, from_micros(due));
            }
        }
    }
    Ok(out)
}
