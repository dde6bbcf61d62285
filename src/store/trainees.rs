//! The trainees table: the records of a cohort's trainees, enrolled or waiting in order. The
//! rules (who is admitted, in what order) are `training::enrol`'s; this reads and writes rows.
//! `page` is keyset paging by position, written by hand so it stays one indexed range scan.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::store::db::{exec, row, rows};

/// One trainee of a cohort as the roster shows it.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct TraineeRecord {
    pub code: String,
    pub name: String,
    pub employer: String,
    pub trade: String,
    pub skill_level: String,
    pub contact: String,
    pub status: String,
    pub position: i64,
}

/// What a new trainee's row holds; the cohort, code, status and position are given beside it.
pub struct NewTrainee<'a> {
    pub name: &'a str,
    pub employer: &'a str,
    pub trade: &'a str,
    pub skill_level: &'a str,
    pub contact: &'a str,
}

/// A trainee as the talent pool reads them: who they are, by cohort and code.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Person {
    pub cohort_id: i64,
    pub code: String,
    pub name: String,
    pub employer: String,
    pub trade: String,
}

#[derive(FromQueryResult)]
struct Name {
    code: String,
    name: String,
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

const RECORD: &str = "code, name, employer, trade, skill_level, contact, status, position";

/// The cohort's trainees: enrolled first, then the waiting list, each in order.
pub async fn list<C: ConnectionTrait>(c: &C, cohort: i64) -> Result<Vec<TraineeRecord>, DbErr> {
    let sql = format!(
        "SELECT {RECORD} FROM trainees WHERE cohort_id = $1
         ORDER BY CASE status WHEN 'enrolled' THEN 0 ELSE 1 END, position"
    );
    rows(c, &sql, vec![cohort.into()]).await
}

/// One page of a cohort's trainees with one status, in order, after position `after`.
pub async fn page<C: ConnectionTrait>(
    c: &C,
    cohort: i64,
    status: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<TraineeRecord>, DbErr> {
    let sql = format!(
        "SELECT {RECORD} FROM trainees WHERE cohort_id = $1 AND status = $2 AND position > $3
         ORDER BY position LIMIT {limit}"
    );
    rows(c, &sql, vec![cohort.into(), status.into(), after.into()]).await
}

/// The number of trainees of a cohort with a status.
pub async fn count<C: ConnectionTrait>(c: &C, cohort: i64, status: &str) -> Result<i64, DbErr> {
    let n: Option<Count> = row(
        c,
        "SELECT COUNT(*) AS n FROM trainees WHERE cohort_id = $1 AND status = $2",
        vec![cohort.into(), status.into()],
    )
    .await?;
    Ok(n.map_or(0, |n| n.n))
}

/// The name of one trainee of a cohort.
pub async fn name_of<C: ConnectionTrait>(c: &C, cohort: i64, code: &str) -> Result<Option<String>, DbErr> {
    let found: Option<Name> =
        row(c, "SELECT code, name FROM trainees WHERE cohort_id = $1 AND code = $2", vec![cohort.into(), code.into()])
            .await?;
    Ok(found.map(|n| n.name))
}

/// The name of each of the trainees `codes` of a cohort, by code.
pub async fn names_of<C: ConnectionTrait>(c: &C, cohort: i64, codes: &[&str]) -> Result<Vec<(String, String)>, DbErr> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (0..codes.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!("SELECT code, name FROM trainees WHERE cohort_id = $1 AND code IN ({})", marks.join(", "));
    let mut values: Vec<sea_orm::Value> = vec![cohort.into()];
    values.extend(codes.iter().map(|c| (*c).into()));
    let found: Vec<Name> = rows(c, &sql, values).await?;
    Ok(found.into_iter().map(|n| (n.code, n.name)).collect())
}

/// The trainees of the given cohorts. The ids are numbers written into the statement: an `IN`
/// list of any length, with nothing a caller could inject.
pub async fn of_cohorts<C: ConnectionTrait>(c: &C, cohorts: &[i64]) -> Result<Vec<Person>, DbErr> {
    if cohorts.is_empty() {
        return Ok(Vec::new());
    }
    let ids = cohorts.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    rows(c, &format!("SELECT cohort_id, code, name, employer, trade FROM trainees WHERE cohort_id IN ({ids})"), vec![])
        .await
}

/// Adds a trainee to a cohort.
pub async fn insert<C: ConnectionTrait>(
    c: &C,
    cohort: i64,
    code: &str,
    t: &NewTrainee<'_>,
    status: &str,
    position: i64,
    now_micros: i64,
) -> Result<(), DbErr> {
    exec(
        c,
        "INSERT INTO trainees (cohort_id, code, name, employer, trade, skill_level, contact, status, position, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        vec![
            cohort.into(),
            code.into(),
            t.name.into(),
            t.employer.into(),
            t.trade.into(),
            t.skill_level.into(),
            t.contact.into(),
            status.into(),
            position.into(),
            now_micros.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Sets the status of one trainee of a cohort.
pub async fn set_status<C: ConnectionTrait>(c: &C, cohort: i64, code: &str, status: &str) -> Result<(), DbErr> {
    exec(
        c,
        "UPDATE trainees SET status = $1 WHERE cohort_id = $2 AND code = $3",
        vec![status.into(), cohort.into(), code.into()],
    )
    .await?;
    Ok(())
}
