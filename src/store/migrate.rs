//! Moving the running instances of a process from one stored version of its definition to another
//! (`unionflow migrate-instances`, and the admin's migrations page). The engine plans each
//! instance (`engine::migrate`); here every instance on the old version is read a page at a time,
//! judged, and — unless it is a dry run — moved in a transaction of its own: the row points at the
//! new version with its new state and data, its timers are replaced, and a `migrate` event is
//! sealed into its audit stream, all committed together.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult};
use serde_json::json;

use crate::clock::to_micros;
use crate::definition::calendar::parse_date;
use crate::definition::{Definition, parse_stored};
use crate::engine::migrate::{Move, PendingTimer, Plan, Running, StateMap, Stay, plan};
use crate::engine::{Context, Data};
use crate::store::audit::{self, NewEvent};
use crate::store::db::{begin_write, exec, row, rows};
use crate::store::instances::{self, COLUMNS, InstanceRow};
use crate::store::timers;

/// Instances read at a time: memory stays bounded however many run on the old version.
pub const PAGE: u64 = 200;

/// The audit kind of a move.
pub const KIND: &str = "migrate";

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("process {process:?} has no stored version {version}")]
    NoVersion { process: String, version: i64 },
    #[error("the versions to move from and to are both {0}: nothing would move")]
    SameVersion(i64),
    #[error(transparent)]
    Map(#[from] crate::engine::migrate::MapError),
    #[error("stored version {version} of {process:?} no longer parses: {problems}")]
    Stored { process: String, version: i64, problems: String },
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A stored version of a process's definition.
#[derive(Debug, Clone)]
pub struct Version {
    pub number: i64,
    /// Its row in `definitions`, which instances point at.
    pub row: i64,
    pub def: Arc<Definition>,
}

/// The stored version `number` of `process`, parsed.
pub async fn version<C: ConnectionTrait>(c: &C, process: &str, number: i64) -> Result<Version, MigrateError> {
    #[derive(FromQueryResult)]
    struct Stored {
        id: i64,
        source: String,
    }
    let found: Option<Stored> = row(
        c,
        "SELECT id, source FROM definitions WHERE process = $1 AND version = $2",
        vec![process.into(), number.into()],
    )
    .await?;
    let Stored { id, source } =
        found.ok_or_else(|| MigrateError::NoVersion { process: process.to_owned(), version: number })?;
    let def = parse_stored(&format!("{process} version {number}"), &source).map_err(|p| MigrateError::Stored {
        process: process.to_owned(),
        version: number,
        problems: p.to_string(),
    })?;
    Ok(Version { number, row: id, def: Arc::new(def) })
}

/// A stored version and how many instances run on it still.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct VersionInUse {
    pub process: String,
    pub version: i64,
    pub open: i64,
}

/// Every stored version of every process with its open instances, to choose a move from.
pub async fn versions_in_use<C: ConnectionTrait>(c: &C) -> Result<Vec<VersionInUse>, DbErr> {
    rows(
        c,
        "SELECT d.process, d.version, COUNT(i.id) AS open FROM definitions d
         LEFT JOIN instances i ON i.definition_id = d.id AND i.outcome IS NULL
         GROUP BY d.process, d.version ORDER BY d.process, d.version",
        vec![],
    )
    .await
}

/// One move to make (or, in a dry run, to report).
pub struct Migration<'a> {
    pub process: &'a str,
    pub from: &'a Version,
    pub to: &'a Version,
    pub map: StateMap,
    pub dry_run: bool,
    /// Who moves the instances, as the audit trail names them.
    pub actor: &'a str,
}

impl<'a> Migration<'a> {
    /// A migration of `process` between two versions with the mapping given as `old=new` pairs;
    /// a mapping to a state the new version lacks is refused before any instance is read.
    pub fn new<S: AsRef<str>>(
        process: &'a str,
        from: &'a Version,
        to: &'a Version,
        pairs: &[S],
        actor: &'a str,
        dry_run: bool,
    ) -> Result<Self, MigrateError> {
        if from.row == to.row {
            return Err(MigrateError::SameVersion(from.number));
        }
        let map = StateMap::parse(pairs, &from.def, &to.def)?;
        Ok(Self { process, from, to, map, dry_run, actor })
    }
}

/// Why an instance planned to move was not, found when its move began.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Skip {
    #[error("it was deleted since the check")]
    Gone,
    #[error("it was moved to another version since the check")]
    OtherVersion,
}

/// What became of one instance.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Moved (in a dry run: would move).
    Moved(Box<Move>),
    Stayed(Vec<Stay>),
    Skipped(Skip),
}

/// One instance in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub instance: i64,
    pub outcome: Outcome,
    /// It changed between the check and its move, and was planned again on the row as it was.
    pub replanned: bool,
}

/// The counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Instances on the old version, finished ones included.
    pub checked: u64,
    pub moved: u64,
    pub stayed: u64,
    /// Ended instances: they stay on the version they ended on.
    pub finished: u64,
    pub skipped: u64,
    pub replanned: u64,
}

/// Checks every instance of the process on the old version, oldest first, and moves each that
/// can (unless it is a dry run), each in its own transaction. Every instance but the finished
/// ones is handed to `each` as it is done, so a caller streams the report rather than holding it.
#[tracing::instrument(skip_all, fields(process = m.process, from = m.from.number, to = m.to.number, dry_run = m.dry_run))]
pub async fn run(
    db: &DatabaseConnection,
    m: &Migration<'_>,
    ctx: Context<'_>,
    mut each: impl FnMut(Line),
) -> Result<Summary, MigrateError> {
    let mut summary = Summary::default();
    let mut after = 0;
    loop {
        let sql = format!(
            "SELECT {COLUMNS} FROM instances WHERE process = $1 AND definition_id = $2 AND id > $3 ORDER BY id LIMIT {PAGE}"
        );
        let page = instances::select(db, &sql, vec![m.process.into(), m.from.row.into(), after.into()]).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for inst in page {
            summary.checked += 1;
            let planned = plan_row(db, m, &inst, ctx).await?;
            let (outcome, replanned) = match planned {
                Plan::Finished => {
                    summary.finished += 1;
                    continue;
                }
                Plan::Stay(reasons) => (Outcome::Stayed(reasons), false),
                Plan::Move(mv) if m.dry_run => (Outcome::Moved(mv), false),
                Plan::Move(mv) => match move_one(db, m, &inst, mv, ctx).await? {
                    (None, _) => {
                        summary.finished += 1;
                        continue;
                    }
                    (Some(outcome), replanned) => (outcome, replanned),
                },
            };
            match &outcome {
                Outcome::Moved(_) => summary.moved += 1,
                Outcome::Stayed(_) => summary.stayed += 1,
                Outcome::Skipped(_) => summary.skipped += 1,
            }
            summary.replanned += u64::from(replanned);
            each(Line { instance: inst.id, outcome, replanned });
        }
    }
    Ok(summary)
}

/// Plans the move of an instance as `c` sees it (inside a move's transaction: as locked).
async fn plan_row<C: ConnectionTrait>(
    c: &C,
    m: &Migration<'_>,
    inst: &InstanceRow,
    ctx: Context<'_>,
) -> Result<Plan, DbErr> {
    let pending: Vec<PendingTimer> = timers::pending_for(c, inst.id)
        .await?
        .into_iter()
        .map(|t| PendingTimer {
            base: t.base.as_deref().and_then(parse_date),
            occurrence: u32::try_from(t.occurrence).unwrap_or(1),
            name: t.name,
        })
        .collect();
    let running = Running { state: &inst.state, data: &inst.data, finished: inst.outcome.is_some(), timers: &pending };
    Ok(plan(&m.from.def, &m.to.def, &m.map, running, ctx))
}

/// Moves one instance in a transaction of its own. The row is locked and compared with the one
/// the check read: if it took a step since, it is planned again as it now is (and may stay).
/// `None`: it has ended since the check.
async fn move_one(
    db: &DatabaseConnection,
    m: &Migration<'_>,
    checked: &InstanceRow,
    planned: Box<Move>,
    ctx: Context<'_>,
) -> Result<(Option<Outcome>, bool), MigrateError> {
    let txn = begin_write(db).await?;
    // The scheduler takes a due timer, then its instance: the move takes them in that order too
    // (the instance's pending timers first), so the two never wait on each other.
    if let sea_orm::DbBackend::Postgres = txn.get_database_backend() {
        crate::store::db::exec(
            &txn,
            "SELECT id FROM timers WHERE instance_id = $1 AND status = $2 ORDER BY id FOR UPDATE",
            vec![checked.id.into(), crate::store::timers::PENDING.into()],
        )
        .await?;
    }
    let Some(inst) = instances::lock(&txn, checked.id).await? else {
        txn.rollback().await?;
        return Ok((Some(Outcome::Skipped(Skip::Gone)), false));
    };
    if inst.definition_id != m.from.row {
        txn.rollback().await?;
        return Ok((Some(Outcome::Skipped(Skip::OtherVersion)), false));
    }
    let replanned = inst.version != checked.version || inst.audit_hash != checked.audit_hash;
    let mv = if replanned {
        match plan_row(&txn, m, &inst, ctx).await? {
            Plan::Move(mv) => mv,
            other => {
                txn.rollback().await?;
                return Ok(match other {
                    Plan::Stay(reasons) => (Some(Outcome::Stayed(reasons)), true),
                    _ => (None, true),
                });
            }
        }
    } else {
        planned
    };
    apply(&txn, m, &inst, &mv, ctx).await?;
    txn.commit().await?;
    Ok((Some(Outcome::Moved(mv)), replanned))
}

/// Writes a move: the row on the new version with its state and data, its audit event, and its
/// timers replaced. The row is held (locked, or SQLite's single writer), so the version check
/// cannot fail but is kept as the guard every change of a row carries.
async fn apply<C: ConnectionTrait>(
    c: &C,
    m: &Migration<'_>,
    inst: &InstanceRow,
    mv: &Move,
    ctx: Context<'_>,
) -> Result<(), MigrateError> {
    let dropped: Data = mv.dropped.iter().filter_map(|f| inst.data.get(f).map(|v| (f.clone(), v.clone()))).collect();
    let sealed = audit::seal(
        NewEvent {
            stream: audit::instance_stream(inst.id),
            at: ctx.now,
            actor: m.actor,
            kind: KIND,
            process: Some(m.process),
            instance_id: Some(inst.id),
            event: None,
            from_state: Some(&mv.from_state),
            to_state: Some(&mv.to_state),
            // The values of dropped fields are kept here: the row no longer holds them.
            data: json!({
                "from_version": m.from.number,
                "to_version": m.to.number,
                "state_map": m.map.to_json(),
                "dropped": dropped,
                "changed": mv.changed,
                "timers": { "kept": mv.kept, "added": mv.added, "cancelled": mv.cancelled },
            }),
        },
        inst.audit_head(),
    );
    let changed = exec(
        c,
        "UPDATE instances SET definition_id = $1, state = $2, data = $3, version = version + 1, updated_at = $4,
                audit_seq = $5, audit_hash = $6
         WHERE id = $7 AND version = $8 AND audit_hash = $9",
        vec![
            m.to.row.into(),
            mv.to_state.clone().into(),
            serde_json::Value::Object(mv.data.clone()).to_string().into(),
            to_micros(ctx.now).into(),
            sealed.record.seq.into(),
            sealed.hash.clone().into(),
            inst.id.into(),
            inst.version.into(),
            inst.audit_hash.clone().into(),
        ],
    )
    .await?;
    if changed == 0 {
        return Err(DbErr::RecordNotUpdated.into());
    }
    audit::insert(c, sealed).await?;
    timers::cancel_pending(c, inst.id, ctx.now).await?;
    for t in &mv.timers {
        timers::insert(c, inst.id, t, ctx.now).await?;
    }
    // The instance now counts in its parent's summaries by the new version's reports.
    let moved = InstanceRow { state: mv.to_state.clone(), data: mv.data.clone(), ..inst.clone() };
    let mut sums = crate::store::summaries::Changes::default();
    sums.change(
        crate::store::summaries::Child::of(&m.from.def, inst, ctx.offset).as_ref(),
        crate::store::summaries::Child::of(&m.to.def, &moved, ctx.offset).as_ref(),
    );
    sums.write(c).await?;
    Ok(())
}

/// A run's report as people read it: the moves counted by state and by what they did to fields
/// and timers (a few lines however many moved), and the instances that stay, each with its
/// reasons — up to `limit` of them listed, the rest counted.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub moves: std::collections::BTreeMap<(String, String), u64>,
    pub dropped: std::collections::BTreeMap<String, u64>,
    pub changed: std::collections::BTreeMap<String, u64>,
    pub kept: std::collections::BTreeMap<String, u64>,
    pub added: std::collections::BTreeMap<String, u64>,
    pub cancelled: std::collections::BTreeMap<String, u64>,
    pub stays: Vec<(i64, Vec<Stay>)>,
    pub skipped: Vec<(i64, Skip)>,
    /// Instances that stay or were skipped past `limit`.
    pub unlisted: u64,
    limit: usize,
}

impl Report {
    pub fn new(limit: usize) -> Self {
        Self { limit, ..Self::default() }
    }

    pub fn add(&mut self, line: Line) {
        fn count(map: &mut std::collections::BTreeMap<String, u64>, names: &[String]) {
            for n in names {
                *map.entry(n.clone()).or_default() += 1;
            }
        }
        match line.outcome {
            Outcome::Moved(mv) => {
                *self.moves.entry((mv.from_state.clone(), mv.to_state.clone())).or_default() += 1;
                count(&mut self.dropped, &mv.dropped);
                count(&mut self.changed, &mv.changed);
                count(&mut self.kept, &mv.kept);
                count(&mut self.added, &mv.added);
                count(&mut self.cancelled, &mv.cancelled);
            }
            Outcome::Stayed(reasons) if self.stays.len() + self.skipped.len() < self.limit => {
                self.stays.push((line.instance, reasons));
            }
            Outcome::Skipped(skip) if self.stays.len() + self.skipped.len() < self.limit => {
                self.skipped.push((line.instance, skip));
            }
            Outcome::Stayed(_) | Outcome::Skipped(_) => self.unlisted += 1,
        }
    }
}
