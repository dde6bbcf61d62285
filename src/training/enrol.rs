//! Enrolling trainees in a cohort: an import adds them in the file's order, up to the cohort's
//! capacity, and puts the rest on the waiting list; raising the capacity admits from the list in
//! that order. The cohort instance's `trainees` and `waiting_list` follow the records.

use std::collections::BTreeSet;

use sea_orm::DbErr;
use serde_json::{Value, json};

use crate::clock::to_micros;
use crate::engine::{Actor, Data};
use crate::runtime::{Runtime, RuntimeError};
use crate::sector::cohort;
use crate::store::db::{Conn, begin_write};
use crate::store::trainees::NewTrainee;
use crate::store::{self, instances};
use crate::training::import::{self, Checked, FileEncoding, FileProblem, TraineeRow};

pub const ENROLLED: &str = "enrolled";
pub const WAITING: &str = "waiting";

/// The roster's records and reads, from the store, where the pages and tests look for them.
pub use crate::store::trainees::{TraineeRecord, count, list as trainees, name_of, page};

#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error(transparent)]
    File(#[from] FileProblem),
    /// The file has bad rows and only a clean file is taken: nothing was imported.
    #[error("{} rows have problems", .0.errors.len())]
    Rows(Checked),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<crate::store::definitions::RegistryError> for EnrolError {
    fn from(e: crate::store::definitions::RegistryError) -> Self {
        EnrolError::Runtime(e.into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub enrolled: usize,
    pub waiting: usize,
    /// Rows left out because they had problems (only when the valid rows were taken).
    pub skipped: Vec<import::RowError>,
}

fn capacity(data: &Data) -> usize {
    data.get(cohort::CAPACITY).and_then(Value::as_u64).and_then(|c| usize::try_from(c).ok()).unwrap_or(0)
}

/// Imports a CSV file into a cohort, its encoding detected (see [`import_csv_as`]).
pub async fn import_csv<C: Conn>(
    rt: &Runtime,
    conn: &C,
    cohort: i64,
    actor: &Actor,
    bytes: &[u8],
    valid_only: bool,
) -> Result<Imported, EnrolError> {
    import_csv_as(rt, conn, cohort, actor, bytes, FileEncoding::Detect, valid_only).await
}

/// Adds one trainee typed into a form (name, employer, trade, skill level, contact): checked as a
/// row of an imported file is, so both ways in keep one rule.
pub async fn add_one<C: Conn>(
    rt: &Runtime,
    conn: &C,
    cohort: i64,
    actor: &Actor,
    row: [&str; 5],
) -> Result<Imported, EnrolError> {
    let mut file = csv::Writer::from_writer(Vec::new());
    // Writing into memory cannot fail but for a bug in the writer: then it is a file nobody can read.
    let written =
        file.write_record(crate::training::import::COLUMNS.map(|(en, _)| en)).and_then(|()| file.write_record(row));
    let bytes = written.ok().and_then(|()| file.into_inner().ok());
    let bytes = bytes.ok_or(EnrolError::File(crate::training::import::FileProblem::Undecodable))?;
    import_csv(rt, conn, cohort, actor, &bytes, false).await
}

/// Imports a CSV file read in the encoding the uploader chose (or detected), all or nothing: the
/// trainees and the cohort's `enrol` step commit together in one transaction (through `conn`:
/// the pool, or a transaction the import then belongs to). The cohort's row is held from the
/// start, so a second import into the same cohort waits for this one and numbers its trainees
/// after it. With `valid_only`, rows with problems are left out and the rest taken; otherwise
/// any problem takes nothing.
pub async fn import_csv_as<C: Conn>(
    rt: &Runtime,
    conn: &C,
    cohort: i64,
    actor: &Actor,
    bytes: &[u8],
    encoding: FileEncoding,
    valid_only: bool,
) -> Result<Imported, EnrolError> {
    let txn = begin_write(conn).await?;
    let row = instances::lock(&txn, cohort).await?.ok_or(RuntimeError::NotFound(cohort))?;
    let inst = rt.instance_in(&txn, row.id).await?;
    if inst.definition.id != cohort::PROCESS {
        return Err(EnrolError::Runtime(RuntimeError::NotFound(cohort)));
    }
    // The cohort must be taking enrolments before anything is written.
    let enrol = crate::engine::options(&inst.definition, &inst.row.state, &inst.row.data, actor, None, rt.today())
        .into_iter()
        .find(|o| o.transition.event == cohort::ENROL);
    match enrol {
        Some(o) if o.refusal.is_none() => {}
        Some(o) => {
            return Err(EnrolError::Runtime(RuntimeError::Refused(
                o.refusal.unwrap_or(crate::engine::Refusal::NotStartable),
            )));
        }
        None => {
            let refusal =
                crate::engine::Refusal::NotFromState { event: cohort::ENROL.into(), state: inst.row.state.clone() };
            return Err(EnrolError::Runtime(RuntimeError::Refused(refusal)));
        }
    }
    let existing = trainees(&txn, cohort).await?;
    let known: BTreeSet<(String, String)> = existing.iter().map(|t| (t.name.clone(), t.contact.clone())).collect();
    let checked = import::check(bytes, encoding, &known)?;
    if !checked.errors.is_empty() && !valid_only {
        return Err(EnrolError::Rows(checked));
    }
    let room = capacity(&inst.row.data).saturating_sub(existing.iter().filter(|t| t.status == ENROLLED).count());
    let next_position = existing.iter().map(|t| t.position).max().unwrap_or(0);
    let next_code = existing.len();
    let now = to_micros(rt.clock().now());
    let (mut enrolled, mut waiting) = (0, 0);
    for (i, row) in checked.rows.iter().enumerate() {
        let status = if i < room { ENROLLED } else { WAITING };
        let code = format!("T{:04}", next_code + i + 1);
        store::trainees::insert(&txn, cohort, &code, &new_trainee(row), status, next_position + i as i64 + 1, now)
            .await?;
        if status == ENROLLED { enrolled += 1 } else { waiting += 1 }
    }
    sync_cohort(rt, &txn, cohort, actor).await?;
    txn.commit().await?;
    Ok(Imported { enrolled, waiting, skipped: checked.errors })
}

fn new_trainee(r: &TraineeRow) -> NewTrainee<'_> {
    NewTrainee {
        name: &r.name,
        employer: &r.employer,
        trade: &r.trade,
        skill_level: r.skill_level.recorded(),
        contact: &r.contact,
    }
}

/// Raises the cohort's capacity and admits from the waiting list, in its order, as far as the
/// new capacity allows: the new capacity, the admissions and the cohort's record of them commit
/// together.
pub async fn raise_capacity(rt: &Runtime, cohort: i64, actor: &Actor, new_capacity: i64) -> Result<usize, EnrolError> {
    let txn = begin_write(rt.db()).await?;
    let given = Data::from_iter([(cohort::CAPACITY.to_owned(), json!(new_capacity))]);
    rt.fire_in(&txn, cohort, None, actor, cohort::RAISE_CAPACITY, &given).await?;
    let inst = rt.instance_in(&txn, cohort).await?;
    let list = trainees(&txn, cohort).await?;
    let room = capacity(&inst.row.data).saturating_sub(list.iter().filter(|t| t.status == ENROLLED).count());
    let admitted: Vec<&TraineeRecord> = list.iter().filter(|t| t.status == WAITING).take(room).collect();
    for t in &admitted {
        store::trainees::set_status(&txn, cohort, &t.code, ENROLLED).await?;
    }
    sync_cohort(rt, &txn, cohort, actor).await?;
    txn.commit().await?;
    Ok(admitted.len())
}

/// Records the enrolment on the cohort instance: who is in, who waits.
async fn sync_cohort<C: Conn>(rt: &Runtime, conn: &C, cohort: i64, actor: &Actor) -> Result<(), EnrolError> {
    let list = trainees(conn, cohort).await?;
    let codes = |status: &str| list.iter().filter(|t| t.status == status).map(|t| t.code.clone()).collect::<Vec<_>>();
    let (enrolled, waiting) = (codes(ENROLLED), codes(WAITING));
    if enrolled.is_empty() && waiting.is_empty() {
        return Ok(());
    }
    let mut given = Data::from_iter([(cohort::TRAINEES.to_owned(), json!(enrolled))]);
    if !waiting.is_empty() {
        given.insert(cohort::WAITING_LIST.into(), json!(waiting));
    }
    rt.fire_in(conn, cohort, None, actor, cohort::ENROL, &given).await?;
    Ok(())
}
