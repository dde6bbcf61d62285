//! Appending to the audit chain, reading it back page by page, and verifying it.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, FromQueryResult, TransactionTrait, Value};
use time::OffsetDateTime;

use crate::audit::{AuditRecord, ChainBreak, GENESIS, canonical_json, chain_hash, check_link};
use crate::clock::{from_micros, to_micros};
use crate::store::db::{begin_write, exec, row, rows};

/// What happened, before it is numbered and chained.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub stream: String,
    pub at: OffsetDateTime,
    pub actor: &'a str,
    pub kind: &'a str,
    pub process: Option<&'a str>,
    pub instance_id: Option<i64>,
    pub event: Option<&'a str>,
    pub from_state: Option<&'a str>,
    pub to_state: Option<&'a str>,
    pub data: serde_json::Value,
}

pub fn instance_stream(id: i64) -> String {
    format!("instance:{id}")
}

/// Numbers and hashes an event as the successor of `(prev_seq, prev_hash)` in its stream.
pub fn seal(e: NewEvent<'_>, prev: Option<(i64, &str)>) -> Sealed {
    let (seq, prev_hash) = match prev {
        Some((seq, hash)) => (seq + 1, hash.to_owned()),
        None => (0, GENESIS.to_owned()),
    };
    let record = AuditRecord {
        stream: e.stream,
        seq,
        at: to_micros(e.at),
        actor: e.actor.to_owned(),
        kind: e.kind.to_owned(),
        process: e.process.map(str::to_owned),
        instance_id: e.instance_id,
        event: e.event.map(str::to_owned),
        from_state: e.from_state.map(str::to_owned),
        to_state: e.to_state.map(str::to_owned),
        data: canonical_json(&e.data),
    };
    let hash = chain_hash(&prev_hash, &record);
    Sealed { record, prev_hash, hash }
}

/// An event with its place in the chain, ready to be written.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub record: AuditRecord,
    pub prev_hash: String,
    pub hash: String,
}

/// Writes a sealed event. The caller has made sure its place is still free (by holding the
/// instance row, or the stream's head row).
pub async fn insert<C: ConnectionTrait>(c: &C, s: Sealed) -> Result<(), DbErr> {
    let r = s.record;
    exec(
        c,
        "INSERT INTO audit_events (stream, seq, at, actor, kind, process, instance_id, event, from_state, to_state, data, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        vec![
            r.stream.into(),
            r.seq.into(),
            r.at.into(),
            r.actor.into(),
            r.kind.into(),
            r.process.into(),
            r.instance_id.into(),
            r.event.into(),
            r.from_state.into(),
            r.to_state.into(),
            r.data.into(),
            s.prev_hash.into(),
            s.hash.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Takes a stream's head row (making it if the stream is new) and holds it until the transaction
/// ends: on PostgreSQL the upsert locks the row, on SQLite the transaction holds the write lock
/// from its start (`begin_write`). Appenders to one stream so go one after another.
async fn lock_head(c: &DatabaseTransaction, stream: &str) -> Result<Option<(i64, String)>, DbErr> {
    #[derive(FromQueryResult)]
    struct Head {
        seq: i64,
        hash: String,
    }
    let head: Head = row(
        c,
        "INSERT INTO audit_heads (stream, seq, hash) VALUES ($1, -1, $2)
         ON CONFLICT (stream) DO UPDATE SET seq = audit_heads.seq
         RETURNING seq, hash",
        vec![stream.into(), GENESIS.into()],
    )
    .await?
    .ok_or(DbErr::RecordNotInserted)?;
    Ok((head.seq >= 0).then_some((head.seq, head.hash)))
}

/// A change outside any instance (a user, a unit, a sign-in, an import) that commits together
/// with its audit event or not at all: begin, make the change through [`Audited::conn`], then
/// [`Audited::commit`] with what happened. Dropped without committing, nothing of it is kept.
///
/// The stream's head is taken when the change begins, so changes recorded in one stream are
/// made one after another (two admins granting roles to one person at once cannot interleave).
pub struct Audited {
    txn: DatabaseTransaction,
    stream: &'static str,
    head: Option<(i64, String)>,
    actor: String,
    at: OffsetDateTime,
}

/// What an [`Audited`] change records: its kind, its event name, and the details.
pub struct Record<'a> {
    pub kind: &'a str,
    pub event: Option<&'a str>,
    pub data: serde_json::Value,
}

impl Audited {
    /// Begins a write transaction for a change by `actor`, recorded in `stream` at `at`.
    pub async fn begin<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        db: &C,
        stream: &'static str,
        actor: &str,
        at: OffsetDateTime,
    ) -> Result<Self, DbErr> {
        let txn = begin_write(db).await?;
        let head = lock_head(&txn, stream).await?;
        Ok(Self { txn, stream, head, actor: actor.to_owned(), at })
    }

    /// The transaction the change is made through.
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Appends the change's audit event after the stream's head and commits both.
    pub async fn commit(self, record: Record<'_>) -> Result<(), DbErr> {
        let event = NewEvent {
            stream: self.stream.to_owned(),
            at: self.at,
            actor: &self.actor,
            kind: record.kind,
            process: None,
            instance_id: None,
            event: record.event,
            from_state: None,
            to_state: None,
            data: record.data,
        };
        let sealed = seal(event, self.head.as_ref().map(|(seq, hash)| (*seq, hash.as_str())));
        let (seq, hash) = (sealed.record.seq, sealed.hash.clone());
        insert(&self.txn, sealed).await?;
        exec(
            &self.txn,
            "UPDATE audit_heads SET seq = $1, hash = $2 WHERE stream = $3",
            vec![seq.into(), hash.into(), self.stream.into()],
        )
        .await?;
        self.txn.commit().await
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub record: AuditRecord,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    pub fn at(&self) -> OffsetDateTime {
        from_micros(self.record.at)
    }
    pub fn data(&self) -> serde_json::Value {
        serde_json::from_str(&self.record.data).unwrap_or(serde_json::Value::Null)
    }
}

const COLUMNS: &str =
    "id, stream, seq, at, actor, kind, process, instance_id, event, from_state, to_state, data, prev_hash, hash";

/// An event's columns as stored.
#[derive(FromQueryResult)]
struct Stored {
    id: i64,
    stream: String,
    seq: i64,
    at: i64,
    actor: String,
    kind: String,
    process: Option<String>,
    instance_id: Option<i64>,
    event: Option<String>,
    from_state: Option<String>,
    to_state: Option<String>,
    data: String,
    prev_hash: String,
    hash: String,
}

impl From<Stored> for AuditRow {
    fn from(s: Stored) -> Self {
        let Stored {
            id, stream, seq, at, actor, kind, process, instance_id, event, from_state, to_state, data, ..
        } = s;
        let record =
            AuditRecord { stream, seq, at, actor, kind, process, instance_id, event, from_state, to_state, data };
        AuditRow { id, record, prev_hash: s.prev_hash, hash: s.hash }
    }
}

/// The events a query selects ([`COLUMNS`]).
async fn select<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Result<Vec<AuditRow>, DbErr> {
    Ok(rows::<Stored, _>(c, sql, values).await?.into_iter().map(AuditRow::from).collect())
}

/// A stream's place: its name and a sequence number (a head, or where a break was found).
#[derive(FromQueryResult)]
struct StreamSeq {
    stream: String,
    seq: i64,
}

/// A stream whose last event is past its head.
#[derive(FromQueryResult)]
struct PastHead {
    stream: String,
    seq: i64,
    last: i64,
}

/// Filters of the audit trail; every one is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub process: Option<String>,
    pub instance_id: Option<i64>,
    pub actor: Option<String>,
    pub kind: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

/// One page of events, newest first, strictly older than the id `before` (keyset paging: the
/// cost of a page does not grow with how deep it is).
pub async fn page<C: ConnectionTrait>(
    c: &C,
    f: &Filter,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<AuditRow>, DbErr> {
    let mut clauses = vec!["id < $1".to_owned()];
    let mut values: Vec<Value> = vec![before.unwrap_or(i64::MAX).into()];
    let mut add = |clause: &str, v: Value| {
        values.push(v);
        clauses.push(clause.replace('?', &format!("${}", values.len())));
    };
    if let Some(p) = &f.process {
        add("process = ?", p.clone().into());
    }
    if let Some(i) = f.instance_id {
        add("instance_id = ?", i.into());
    }
    if let Some(a) = &f.actor {
        add("actor = ?", a.clone().into());
    }
    if let Some(k) = &f.kind {
        add("kind = ?", k.clone().into());
    }
    if let Some(t) = f.from {
        add("at >= ?", to_micros(t).into());
    }
    if let Some(t) = f.until {
        add("at < ?", to_micros(t).into());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE {} ORDER BY id DESC LIMIT {}",
        clauses.join(" AND "),
        limit.min(10_000)
    );
    select(c, &sql, values).await
}

/// Events oldest first after the id `after`, of changes made before `settled` (microseconds):
/// another system mirrors the trail page by page.
pub async fn after<C: ConnectionTrait>(c: &C, after: i64, settled: i64, limit: u64) -> Result<Vec<AuditRow>, DbErr> {
    let sql =
        format!("SELECT {COLUMNS} FROM audit_events WHERE id > $1 AND at < $2 ORDER BY id LIMIT {}", limit.min(1000));
    select(c, &sql, vec![after.into(), settled.into()]).await
}

/// A page of one stream, oldest first, after the sequence number `after`.
pub async fn stream_after<C: ConnectionTrait>(
    c: &C,
    stream: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<AuditRow>, DbErr> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE stream = $1 AND seq > $2 ORDER BY seq LIMIT {}",
        limit.min(1000)
    );
    select(c, &sql, vec![stream.into(), after.into()]).await
}

/// The history of one instance, oldest first.
pub async fn stream<C: ConnectionTrait>(c: &C, stream: &str) -> Result<Vec<AuditRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM audit_events WHERE stream = $1 ORDER BY seq");
    select(c, &sql, vec![stream.into()]).await
}

/// The first event that breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub id: Option<i64>,
    pub stream: String,
    pub seq: i64,
    pub reason: ChainBreak,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.id {
            Some(id) => write!(f, "event {id} ({} #{}): {}", self.stream, self.seq, self.reason),
            None => write!(f, "stream {}: {}", self.stream, self.reason),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub checked: u64,
    pub broken: Option<Broken>,
}

const VERIFY_BATCH: u64 = 2000;

/// Walks every stream in order, checking each link, then that no stream lost its last events.
pub async fn verify<C: ConnectionTrait>(c: &C) -> Result<Verification, DbErr> {
    let mut checked = 0u64;
    let mut cursor: Option<(String, i64)> = None;
    let mut prev: Option<(String, i64, String)> = None;
    loop {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events WHERE (stream > $1 OR (stream = $1 AND seq > $2)) ORDER BY stream, seq LIMIT {VERIFY_BATCH}"
        );
        let (s, q) = cursor.clone().unwrap_or_else(|| (String::new(), i64::MIN));
        let batch = select(c, &sql, vec![s.into(), q.into()]).await?;
        if batch.is_empty() {
            break;
        }
        for row in batch {
            let link = prev
                .as_ref()
                .filter(|(stream, ..)| *stream == row.record.stream)
                .map(|(_, seq, hash)| (*seq, hash.as_str()));
            if let Err(reason) = check_link(link, &row.record, &row.prev_hash, &row.hash) {
                return Ok(Verification {
                    checked,
                    broken: Some(Broken { id: Some(row.id), stream: row.record.stream, seq: row.record.seq, reason }),
                });
            }
            checked += 1;
            cursor = Some((row.record.stream.clone(), row.record.seq));
            prev = Some((row.record.stream, row.record.seq, row.hash));
        }
    }
    // A stream whose head is ahead of its last event lost events at its end (or had its last
    // event rewritten): instances keep their head in their row, other streams in audit_heads.
    let truncated = [
        "SELECT h.stream, h.seq FROM audit_heads h
         LEFT JOIN audit_events e ON e.stream = h.stream AND e.seq = h.seq
         WHERE e.id IS NULL OR e.hash <> h.hash
         ORDER BY h.stream LIMIT 1",
        "SELECT 'instance:' || i.id AS stream, i.audit_seq AS seq FROM instances i
         LEFT JOIN audit_events e ON e.stream = 'instance:' || i.id AND e.seq = i.audit_seq
         WHERE i.audit_seq >= 0 AND (e.id IS NULL OR e.hash <> i.audit_hash)
         ORDER BY i.id LIMIT 1",
    ];
    for sql in truncated {
        if let Some(StreamSeq { stream, seq }) = row(c, sql, vec![]).await? {
            let reason = ChainBreak::Truncated { expected: seq };
            return Ok(Verification { checked, broken: Some(Broken { id: None, stream, seq, reason }) });
        }
    }
    // A stream with events past its head, or with no head at all, had an append that never
    // finished (its change may have been kept without it): the head must name the last event.
    let unrecorded = [
        "SELECT h.stream, h.seq, e.seq AS last FROM audit_heads h
         JOIN audit_events e ON e.stream = h.stream AND e.seq > h.seq
         ORDER BY h.stream, e.seq DESC LIMIT 1",
        "SELECT 'instance:' || i.id AS stream, i.audit_seq AS seq, e.seq AS last FROM instances i
         JOIN audit_events e ON e.stream = 'instance:' || i.id AND e.seq > i.audit_seq
         ORDER BY i.id, e.seq DESC LIMIT 1",
        "SELECT e.stream, CAST(-1 AS BIGINT) AS seq, MAX(e.seq) AS last FROM audit_events e
         WHERE e.instance_id IS NULL AND NOT EXISTS (SELECT 1 FROM audit_heads h WHERE h.stream = e.stream)
         GROUP BY e.stream ORDER BY e.stream LIMIT 1",
    ];
    for sql in unrecorded {
        if let Some(PastHead { stream, seq: head, last }) = row(c, sql, vec![]).await? {
            let reason = ChainBreak::PastHead { head, last };
            return Ok(Verification { checked, broken: Some(Broken { id: None, stream, seq: last, reason }) });
        }
    }
    Ok(Verification { checked, broken: None })
}
