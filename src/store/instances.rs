//! Reading instances.

use sea_orm::{ConnectionTrait, DbErr, QueryResult};
use time::OffsetDateTime;

use crate::clock::from_micros;
use crate::engine::Data;
use crate::store::db::{all, get, one};

#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRow {
    pub id: i64,
    pub definition_id: i64,
    pub process: String,
    pub state: String,
    pub data: Data,
    pub version: i64,
    pub parent_id: Option<i64>,
    /// Which fan-out of the parent spawned this instance.
    pub fanout: i64,
    /// How many fan-outs this instance has made; its join counts the children of the latest.
    pub fanouts: i64,
    pub outcome: Option<String>,
    /// The head of the instance's audit stream: its last event's sequence number and hash. It
    /// lives in the row so a fire appends to the chain without another round trip.
    pub audit_seq: i64,
    pub audit_hash: String,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl InstanceRow {
    /// The last event of the instance's audit stream, if it has one.
    pub fn audit_head(&self) -> Option<(i64, &str)> {
        (self.audit_seq >= 0).then_some((self.audit_seq, self.audit_hash.as_str()))
    }
}

pub const COLUMNS: &str = "id, definition_id, process, state, data, version, parent_id, fanout, fanouts, outcome, audit_seq, audit_hash, created_by, created_at, updated_at";

pub fn from_row(row: &QueryResult) -> Result<InstanceRow, DbErr> {
    let data: String = get(row, "data")?;
    Ok(InstanceRow {
        id: get(row, "id")?,
        definition_id: get(row, "definition_id")?,
        process: get(row, "process")?,
        state: get(row, "state")?,
        data: serde_json::from_str(&data).map_err(|e| DbErr::Json(e.to_string()))?,
        version: get(row, "version")?,
        parent_id: get(row, "parent_id")?,
        fanout: get(row, "fanout")?,
        fanouts: get(row, "fanouts")?,
        outcome: get(row, "outcome")?,
        audit_seq: get(row, "audit_seq")?,
        audit_hash: get(row, "audit_hash")?,
        created_by: get(row, "created_by")?,
        created_at: from_micros(get(row, "created_at")?),
        updated_at: from_micros(get(row, "updated_at")?),
    })
}

pub async fn find<C: ConnectionTrait>(c: &C, id: i64) -> Result<Option<InstanceRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE id = $1");
    one(c, &sql, vec![id.into()]).await?.as_ref().map(from_row).transpose()
}

/// Reads an instance and, on PostgreSQL, locks its row until the transaction ends.
pub async fn lock<C: ConnectionTrait>(c: &C, id: i64) -> Result<Option<InstanceRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE id = $1{}", crate::store::db::for_update(c));
    one(c, &sql, vec![id.into()]).await?.as_ref().map(from_row).transpose()
}

/// The children of an instance, latest fan-out first, then in the order they were spawned.
pub async fn children<C: ConnectionTrait>(c: &C, parent: i64) -> Result<Vec<InstanceRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE parent_id = $1 ORDER BY fanout DESC, id");
    all(c, &sql, vec![parent.into()]).await?.iter().map(from_row).collect()
}

/// A page of instances of a process, newest first, after the id `before` (keyset paging).
pub async fn list<C: ConnectionTrait>(
    c: &C,
    process: &str,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<InstanceRow>, DbErr> {
    let sql = format!(
        "SELECT {COLUMNS} FROM instances WHERE process = $1 AND id < $2 ORDER BY id DESC LIMIT {}",
        limit.min(1000)
    );
    all(c, &sql, vec![process.into(), before.unwrap_or(i64::MAX).into()]).await?.iter().map(from_row).collect()
}

/// The outcomes so far of the children of one fan-out.
pub async fn child_tally<C: ConnectionTrait>(
    c: &C,
    parent: i64,
    fanout: i64,
) -> Result<crate::engine::ChildTally, DbErr> {
    let rows = all(
        c,
        "SELECT outcome, COUNT(*) AS n FROM instances WHERE parent_id = $1 AND fanout = $2 GROUP BY outcome",
        vec![parent.into(), fanout.into()],
    )
    .await?;
    let mut tally = crate::engine::ChildTally::default();
    for row in &rows {
        let outcome: Option<String> = get(row, "outcome")?;
        let n: i64 = get(row, "n")?;
        let n = u64::try_from(n).unwrap_or(0);
        tally.total += n;
        match outcome.as_deref() {
            Some("passed") => tally.passed += n,
            Some("failed") => tally.failed += n,
            _ => {}
        }
    }
    Ok(tally)
}

/// Open instances of `process` in any of `states`, newest first, at most `limit` (the candidates
/// of a work list; `limit` bounds what one person's list reads).
pub async fn open_in_states<C: ConnectionTrait>(
    c: &C,
    process: &str,
    states: &[&str],
    limit: u64,
) -> Result<Vec<InstanceRow>, DbErr> {
    if states.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..states.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM instances WHERE outcome IS NULL AND process = $1 AND state IN ({}) ORDER BY id DESC LIMIT {limit}",
        placeholders.join(", ")
    );
    let mut values: Vec<sea_orm::Value> = vec![process.into()];
    values.extend(states.iter().map(|s| (*s).into()));
    all(c, &sql, values).await?.iter().map(from_row).collect()
}

/// How many instances each process has.
pub async fn count_by_process<C: ConnectionTrait>(c: &C) -> Result<std::collections::BTreeMap<String, i64>, DbErr> {
    all(c, "SELECT process, COUNT(*) AS n FROM instances GROUP BY process", vec![])
        .await?
        .iter()
        .map(|r| Ok((get(r, "process")?, get(r, "n")?)))
        .collect()
}

/// Moves an instance's audit head and version after an event written outside a transition (a
/// timer refused): a fire that read the instance before conflicts cleanly instead of colliding in
/// the chain.
pub async fn advance_audit_head<C: ConnectionTrait>(c: &C, id: i64, seq: i64, hash: &str) -> Result<(), DbErr> {
    crate::store::db::exec(
        c,
        "UPDATE instances SET audit_seq = $1, audit_hash = $2, version = version + 1 WHERE id = $3",
        vec![seq.into(), hash.into(), id.into()],
    )
    .await?;
    Ok(())
}
