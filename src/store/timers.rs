//! Durable timers: started when a state is entered, cancelled when it is left, claimed one at a
//! time by whichever server process gets to it first; their deadlines computed again when the
//! calendars they rest on change.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult};
use time::{Date, OffsetDateTime, UtcOffset};

use crate::clock::{from_micros, to_micros};
use crate::definition::calendar::{format_date, parse_date};
use crate::engine::{self, Actor, Deadline, TimerStart};
use crate::store::audit::{self, NewEvent};
use crate::store::db::begin_write;
use crate::store::db::{exec, row, rows};
use crate::store::definitions::{Registry, RegistryError};
use crate::store::instances;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerRow {
    pub id: i64,
    pub instance_id: i64,
    pub name: String,
    pub event: String,
    pub due_at: OffsetDateTime,
    pub last_day: String,
    pub status: String,
    /// The years without a published calendar the deadline rests on (none: it does not).
    pub provisional: Vec<i32>,
    /// The day its period counts from (none for a timer made before bases were kept).
    pub base: Option<String>,
    /// Which time a recurring timer falls due.
    pub occurrence: i64,
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
    provisional: String,
    base_day: Option<String>,
    occurrence: i64,
}

const COLUMNS: &str = "id, instance_id, name, event, due_at, last_day, status, provisional, base_day, occurrence";

impl From<Stored> for TimerRow {
    fn from(s: Stored) -> Self {
        let Stored { id, instance_id, name, event, due_at, last_day, status, provisional, base_day, occurrence } = s;
        let provisional = parse_years(&provisional);
        let due_at = from_micros(due_at);
        TimerRow { id, instance_id, name, event, due_at, last_day, status, provisional, base: base_day, occurrence }
    }
}

/// Years as stored: comma-separated, in order ("2027,2028"), empty for none.
fn years_text(years: &[i32]) -> String {
    years.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// Years as stored, read back; anything else in the column is not a year and is left out.
fn parse_years(text: &str) -> Vec<i32> {
    text.split(',').filter_map(|y| y.trim().parse().ok()).collect()
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
        "INSERT INTO timers (instance_id, name, event, due_at, last_day, status, created_at, base_day, provisional, occurrence)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        vec![
            instance.into(),
            t.name.clone().into(),
            t.event.clone().into(),
            to_micros(t.deadline.due_at).into(),
            format_date(t.deadline.last_day).into(),
            PENDING.into(),
            to_micros(now).into(),
            format_date(t.base).into(),
            years_text(&t.deadline.provisional).into(),
            i64::from(t.occurrence).into(),
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
         RETURNING {COLUMNS}"
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
    let sql = format!("SELECT {COLUMNS} FROM timers WHERE instance_id = $1 AND status = $2 ORDER BY due_at, id");
    let stored: Vec<Stored> = rows(c, &sql, vec![instance.into(), PENDING.into()]).await?;
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

/// The earliest pending deadline of an instance, and the years without a published calendar it
/// rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earliest {
    pub due: OffsetDateTime,
    pub provisional: Vec<i32>,
}

/// The earliest pending deadline of each of the instances, for work lists.
pub async fn earliest_due<C: ConnectionTrait>(
    c: &C,
    instances: &[i64],
) -> Result<std::collections::BTreeMap<i64, Earliest>, DbErr> {
    #[derive(FromQueryResult)]
    struct Due {
        instance_id: i64,
        due_at: i64,
        provisional: String,
    }
    let mut out = std::collections::BTreeMap::new();
    // Ids are numbers we read ourselves, listed in chunks so no statement grows without bound.
    // An instance has a timer or two pending at a time: the earliest is picked here.
    for chunk in instances.chunks(500) {
        let ids = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!(
            "SELECT instance_id, due_at, provisional FROM timers WHERE status = 'pending' AND instance_id IN ({ids}) ORDER BY due_at DESC, id DESC"
        );
        for Due { instance_id, due_at, provisional } in rows::<Due, _>(c, &sql, vec![]).await? {
            out.insert(instance_id, Earliest { due: from_micros(due_at), provisional: parse_years(&provisional) });
        }
    }
    Ok(out)
}

/// A pending timer with what computing its deadline again needs: its base, and the definition
/// version and state of its instance (not its data: only a timer kept before bases were may need
/// it, and it is read for that one alone).
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub instance_id: i64,
    pub name: String,
    pub last_day: String,
    /// `None` for a timer made before bases were kept.
    pub base: Option<Date>,
    pub provisional: Vec<i32>,
    /// Which time a recurring timer falls due: the deadline is this many periods from its base.
    pub occurrence: u32,
    pub created_at: OffsetDateTime,
    pub definition_id: i64,
    pub state: String,
}

/// The pending timers after the id `after`, in id order, at most `limit` (keyset paging).
pub async fn pending_page<C: ConnectionTrait>(c: &C, after: i64, limit: u64) -> Result<Vec<Pending>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        instance_id: i64,
        name: String,
        last_day: String,
        base_day: Option<String>,
        provisional: String,
        occurrence: i64,
        created_at: i64,
        definition_id: i64,
        state: String,
    }
    let sql = format!(
        "SELECT t.id, t.instance_id, t.name, t.last_day, t.base_day, t.provisional, t.occurrence, t.created_at, i.definition_id, i.state
         FROM timers t JOIN instances i ON i.id = t.instance_id
         WHERE t.status = $1 AND t.id > $2 ORDER BY t.id LIMIT {}",
        limit.clamp(1, 1000)
    );
    Ok(rows::<Row, _>(c, &sql, vec![PENDING.into(), after.into()])
        .await?
        .into_iter()
        .map(|r| Pending {
            id: r.id,
            instance_id: r.instance_id,
            name: r.name,
            last_day: r.last_day,
            base: r.base_day.as_deref().and_then(parse_date),
            provisional: parse_years(&r.provisional),
            occurrence: u32::try_from(r.occurrence).unwrap_or(1),
            created_at: from_micros(r.created_at),
            definition_id: r.definition_id,
            state: r.state,
        })
        .collect())
}

/// Sets a pending timer's deadline computed again from `base`, if it is still pending with the
/// last day `was` (else another process has fired or moved it meanwhile: false).
pub async fn reschedule<C: ConnectionTrait>(
    c: &C,
    id: i64,
    was: &str,
    base: Date,
    d: &Deadline,
) -> Result<bool, DbErr> {
    Ok(exec(
        c,
        "UPDATE timers SET due_at = $1, last_day = $2, base_day = $3, provisional = $4
         WHERE id = $5 AND status = $6 AND last_day = $7",
        vec![
            to_micros(d.due_at).into(),
            format_date(d.last_day).into(),
            format_date(base).into(),
            years_text(&d.provisional).into(),
            id.into(),
            PENDING.into(),
            was.into(),
        ],
    )
    .await?
        > 0)
}

/// Pending timers read at a time while deadlines are computed again.
pub const RECOMPUTE_PAGE: u64 = 500;

/// The audit kind of a deadline computed again on a changed calendar.
pub const DEADLINE_MOVED: &str = "deadline_moved";

/// Computes every pending deadline that moves past rest days again on the calendars of
/// `registry` (a calendar file added, published or corrected since the timer started), and returns
/// how many moved. A deadline that moves is rewritten and audited in its instance's chain, at
/// `now`, in one transaction; one that does not is left alone, so a second run moves nothing.
/// Timers are read `page` at a time, by id (see [`RECOMPUTE_PAGE`]).
pub async fn recompute_deadlines(
    db: &DatabaseConnection,
    registry: &Registry,
    offset: UtcOffset,
    now: OffsetDateTime,
    page: u64,
) -> Result<usize, RegistryError> {
    let mut moved = 0;
    let mut after = 0;
    loop {
        let timers = pending_page(db, after, page).await?;
        let Some(last) = timers.last() else { return Ok(moved) };
        after = last.id;
        for timer in timers {
            if recompute_one(db, registry, timer, offset, now).await? {
                moved += 1;
            }
        }
    }
}

/// Computes one pending deadline again; true when its last day moved.
async fn recompute_one(
    db: &DatabaseConnection,
    registry: &Registry,
    timer: Pending,
    offset: UtcOffset,
    now: OffsetDateTime,
) -> Result<bool, RegistryError> {
    let def = registry.by_row(db, timer.definition_id).await?;
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
        None => {
            let data = instances::find(db, timer.instance_id).await?.map(|i| i.data).unwrap_or_default();
            match engine::base_of(spec, &data, timer.created_at, offset) {
                Ok(base) => base,
                Err(_) => return Ok(false),
            }
        }
    };
    let Some(deadline) = engine::deadline_of(spec, base, timer.occurrence, &registry.set.calendar, offset) else {
        return Ok(false);
    };
    let after = format_date(deadline.last_day);
    if after == timer.last_day && deadline.provisional == timer.provisional && timer.base.is_some() {
        return Ok(false);
    }
    let txn = begin_write(db).await?;
    let Some(inst) = instances::lock(&txn, timer.instance_id).await? else {
        return Ok(false);
    };
    if !reschedule(&txn, timer.id, &timer.last_day, base, &deadline).await? {
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
                at: now,
                actor: &system.name,
                kind: DEADLINE_MOVED,
                process: Some(&inst.process),
                instance_id: Some(inst.id),
                event: None,
                from_state: Some(&inst.state),
                to_state: Some(&inst.state),
                data: serde_json::json!({
                    "timer": timer.name,
                    "base": format_date(base),
                    "before": timer.last_day,
                    "after": after,
                    "provisional": deadline.provisional,
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
