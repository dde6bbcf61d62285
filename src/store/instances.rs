//! Reading instances.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use time::OffsetDateTime;

use crate::clock::from_micros;
use crate::engine::Data;
use crate::store::db::{row, rows};

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

/// An instance's columns as stored; [`InstanceRow`] is the same with its data parsed and its
/// times as times.
#[derive(FromQueryResult)]
struct Stored {
    id: i64,
    definition_id: i64,
    process: String,
    state: String,
    data: String,
    version: i64,
    parent_id: Option<i64>,
    fanout: i64,
    fanouts: i64,
    outcome: Option<String>,
    audit_seq: i64,
    audit_hash: String,
    created_by: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Stored> for InstanceRow {
    type Error = DbErr;

    fn try_from(s: Stored) -> Result<Self, DbErr> {
        Ok(InstanceRow {
            id: s.id,
            definition_id: s.definition_id,
            process: s.process,
            state: s.state,
            data: serde_json::from_str(&s.data).map_err(|e| DbErr::Json(e.to_string()))?,
            version: s.version,
            parent_id: s.parent_id,
            fanout: s.fanout,
            fanouts: s.fanouts,
            outcome: s.outcome,
            audit_seq: s.audit_seq,
            audit_hash: s.audit_hash,
            created_by: s.created_by,
            created_at: from_micros(s.created_at),
            updated_at: from_micros(s.updated_at),
        })
    }
}

/// The instances a query selects ([`COLUMNS`]), read and parsed.
pub(crate) async fn select<C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<InstanceRow>, DbErr> {
    rows::<Stored, _>(c, sql, values).await?.into_iter().map(InstanceRow::try_from).collect()
}

/// The first instance a query selects, if any.
async fn select_one<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Result<Option<InstanceRow>, DbErr> {
    row::<Stored, _>(c, sql, values).await?.map(InstanceRow::try_from).transpose()
}

pub async fn find<C: ConnectionTrait>(c: &C, id: i64) -> Result<Option<InstanceRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE id = $1");
    select_one(c, &sql, vec![id.into()]).await
}

/// Reads an instance and, on PostgreSQL, locks its row until the transaction ends.
pub async fn lock<C: ConnectionTrait>(c: &C, id: i64) -> Result<Option<InstanceRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE id = $1{}", crate::store::db::for_update(c));
    select_one(c, &sql, vec![id.into()]).await
}

/// The children of an instance, latest fan-out first, then in the order they were spawned.
pub async fn children<C: ConnectionTrait>(c: &C, parent: i64) -> Result<Vec<InstanceRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE parent_id = $1 ORDER BY fanout DESC, id");
    select(c, &sql, vec![parent.into()]).await
}

/// The children of one fan-out, in the order they were spawned.
pub async fn fanout_children<C: ConnectionTrait>(c: &C, parent: i64, fanout: i64) -> Result<Vec<InstanceRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE parent_id = $1 AND fanout = $2 ORDER BY id");
    select(c, &sql, vec![parent.into(), fanout.into()]).await
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
    select(c, &sql, vec![process.into(), before.unwrap_or(i64::MAX).into()]).await
}

/// Instances oldest first after the id `after`, of a process and in a state when given (keyset
/// paging for the API's search).
pub async fn scan<C: ConnectionTrait>(
    c: &C,
    process: Option<&str>,
    state: Option<&str>,
    after: i64,
    limit: u64,
) -> Result<Vec<InstanceRow>, DbErr> {
    let mut values: Vec<Value> = vec![after.into()];
    let mut clauses = vec!["id > $1".to_owned()];
    for (column, value) in [("process", process), ("state", state)] {
        if let Some(v) = value {
            values.push(v.into());
            clauses.push(format!("{column} = ${}", values.len()));
        }
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM instances WHERE {} ORDER BY id LIMIT {}",
        clauses.join(" AND "),
        limit.min(1000)
    );
    select(c, &sql, values).await
}

/// The outcomes so far of the children of one fan-out.
pub async fn child_tally<C: ConnectionTrait>(
    c: &C,
    parent: i64,
    fanout: i64,
) -> Result<crate::engine::ChildTally, DbErr> {
    #[derive(FromQueryResult)]
    struct Outcomes {
        outcome: Option<String>,
        n: i64,
    }
    let counted: Vec<Outcomes> = rows(
        c,
        "SELECT outcome, COUNT(*) AS n FROM instances WHERE parent_id = $1 AND fanout = $2 GROUP BY outcome",
        vec![parent.into(), fanout.into()],
    )
    .await?;
    let mut tally = crate::engine::ChildTally::default();
    for Outcomes { outcome, n } in counted {
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

/// A field of an instance's JSON data as text, spelled as the indexes on such fields are
/// (migration `m20261203_000012_read_paths`), so that a filter on it is served by them. None for
/// a name that is not a plain field id (it is written into the statement).
pub fn json_text<C: ConnectionTrait>(c: &C, field: &str) -> Option<String> {
    if field.is_empty() || !field.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return None;
    }
    Some(match c.get_database_backend() {
        sea_orm::DbBackend::Postgres => format!("(data::json ->> '{field}')"),
        _ => format!("json_extract(data, '$.{field}')"),
    })
}

/// Which instances a person may act on by their data: any of the alternatives, each a set of
/// fields that must all hold one of their values (a role's scopes: the mentor field is their
/// username, the unit field one of their units).
pub type Within = Vec<Vec<(String, Vec<String>)>>;

/// Open instances of `process` in any of `states`, newest first, at most `limit` (the candidates
/// of a work list; `limit` bounds what one person's list reads); only those `within` the person's
/// scope when given, found through the indexes on scope fields rather than read and dropped.
pub async fn open_in_states<C: ConnectionTrait>(
    c: &C,
    process: &str,
    states: &[&str],
    within: Option<&Within>,
    limit: u64,
) -> Result<Vec<InstanceRow>, DbErr> {
    if states.is_empty() || within.is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let mut values: Vec<Value> = vec![process.into()];
    let mark = |v: &str, values: &mut Vec<Value>| {
        values.push(v.into());
        format!("${}", values.len())
    };
    let states: Vec<String> = states.iter().map(|s| mark(s, &mut values)).collect();
    // A field no index could name is left to the caller's own check: read, not filtered.
    let plain = within.is_some_and(|w| w.iter().flatten().all(|(field, _)| json_text(c, field).is_some()));
    let mut scope = String::new();
    if let (Some(within), true) = (within, plain) {
        let mut any = Vec::new();
        for all in within {
            let mut each = Vec::new();
            for (field, allowed) in all {
                let json = json_text(c, field).unwrap_or_default();
                let marks: Vec<String> = allowed.iter().map(|v| mark(v, &mut values)).collect();
                each.push(if marks.is_empty() {
                    "1 = 0".to_owned()
                } else {
                    format!("{json} IN ({})", marks.join(", "))
                });
            }
            any.push(format!("({})", if each.is_empty() { "1 = 1".to_owned() } else { each.join(" AND ") }));
        }
        scope = format!(" AND ({})", any.join(" OR "));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM instances WHERE outcome IS NULL AND process = $1 AND state IN ({}){scope} ORDER BY id DESC LIMIT {limit}",
        states.join(", ")
    );
    select(c, &sql, values).await
}

/// The children of `parent` whose data field `field` holds one of `values` (a cohort's tracks of
/// the trainees a page shows), through the index on the field within a parent.
pub async fn children_with<C: ConnectionTrait>(
    c: &C,
    parent: i64,
    field: &str,
    values: &[&str],
) -> Result<Vec<InstanceRow>, DbErr> {
    let Some(json) = json_text(c, field) else { return Ok(Vec::new()) };
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (0..values.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM instances WHERE parent_id = $1 AND {json} IN ({}) ORDER BY id",
        marks.join(", ")
    );
    let mut bound: Vec<Value> = vec![parent.into()];
    bound.extend(values.iter().map(|v| (*v).into()));
    select(c, &sql, bound).await
}

/// Whether some child of `parent` is in `state`.
pub async fn has_child_in<C: ConnectionTrait>(c: &C, parent: i64, state: &str) -> Result<bool, DbErr> {
    #[derive(FromQueryResult)]
    struct Found {
        #[expect(dead_code, reason = "only whether a row comes back is read")]
        id: i64,
    }
    let found: Option<Found> = row(
        c,
        "SELECT id FROM instances WHERE parent_id = $1 AND state = $2 LIMIT 1",
        vec![parent.into(), state.into()],
    )
    .await?;
    Ok(found.is_some())
}

/// How many instances each process has.
pub async fn count_by_process<C: ConnectionTrait>(c: &C) -> Result<std::collections::BTreeMap<String, i64>, DbErr> {
    #[derive(FromQueryResult)]
    struct PerProcess {
        process: String,
        n: i64,
    }
    let counted: Vec<PerProcess> =
        rows(c, "SELECT process, COUNT(*) AS n FROM instances GROUP BY process", vec![]).await?;
    Ok(counted.into_iter().map(|r| (r.process, r.n)).collect())
}

/// Moves an instance's audit head and version after an event written outside a transition (a
/// timer refused): a fire that read the instance before conflicts cleanly instead of colliding in
/// the chain.
/// Moves the instance's audit head for an event that changes nothing a step decides on (a
/// comment): its version stays, so a form open on it does not go stale.
pub async fn advance_audit_head_only<C: ConnectionTrait>(c: &C, id: i64, seq: i64, hash: &str) -> Result<(), DbErr> {
    crate::store::db::exec(
        c,
        "UPDATE instances SET audit_seq = $1, audit_hash = $2 WHERE id = $3",
        vec![seq.into(), hash.into(), id.into()],
    )
    .await?;
    Ok(())
}

pub async fn advance_audit_head<C: ConnectionTrait>(c: &C, id: i64, seq: i64, hash: &str) -> Result<(), DbErr> {
    crate::store::db::exec(
        c,
        "UPDATE instances SET audit_seq = $1, audit_hash = $2, version = version + 1 WHERE id = $3",
        vec![seq.into(), hash.into(), id.into()],
    )
    .await?;
    Ok(())
}
