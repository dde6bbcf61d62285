//! Substitutions: who stands in for whom over which days. Ending one early stamps the row;
//! nothing is deleted. Dates are kept as YYYY-MM-DD, so their text orders them.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::clock::to_micros;
use crate::store::db::{exec, row, rows};

/// A substitution as kept.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct SubstitutionRow {
    pub id: i64,
    pub absent_user: String,
    pub substitute_user: String,
    pub valid_from: String,
    pub valid_until: String,
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub ended_at: Option<i64>,
    pub ended_by: Option<String>,
}

const COLUMNS: &str =
    "id, absent_user, substitute_user, valid_from, valid_until, reason, created_by, created_at, ended_at, ended_by";

/// How many substitutions one person may have recorded for themselves that are current or to
/// come: enough for every leave of a year, few enough that nothing reading them grows.
pub const MAX_PENDING: i64 = 20;

/// For how many absent people one person may stand in at once: their work list reads each
/// absent person's work as well as their own.
pub const MAX_HELD: i64 = 10;

/// What a new substitution says.
pub struct NewSubstitution<'a> {
    pub absent: &'a str,
    pub substitute: &'a str,
    pub from: &'a str,
    pub until: &'a str,
    pub reason: Option<&'a str>,
}

#[derive(FromQueryResult)]
struct Id {
    id: i64,
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

pub async fn insert<C: ConnectionTrait>(
    c: &C,
    s: &NewSubstitution<'_>,
    by: &str,
    now: time::OffsetDateTime,
) -> Result<i64, DbErr> {
    let id = row::<Id, _>(
        c,
        "INSERT INTO substitutions (absent_user, substitute_user, valid_from, valid_until, reason, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        vec![
            s.absent.into(),
            s.substitute.into(),
            s.from.into(),
            s.until.into(),
            s.reason.map(str::to_owned).into(),
            by.into(),
            to_micros(now).into(),
        ],
    )
    .await?
    .ok_or(DbErr::RecordNotInserted)?;
    Ok(id.id)
}

/// Ends a substitution not ended yet (at once, whether it has begun or not); false when it had
/// already ended.
pub async fn end<C: ConnectionTrait>(c: &C, id: i64, by: &str, now: time::OffsetDateTime) -> Result<bool, DbErr> {
    let n = exec(
        c,
        "UPDATE substitutions SET ended_at = $1, ended_by = $2 WHERE id = $3 AND ended_at IS NULL",
        vec![to_micros(now).into(), by.into(), id.into()],
    )
    .await?;
    Ok(n == 1)
}

pub async fn find<C: ConnectionTrait>(c: &C, id: i64) -> Result<Option<SubstitutionRow>, DbErr> {
    row(c, &format!("SELECT {COLUMNS} FROM substitutions WHERE id = $1"), vec![id.into()]).await
}

/// The newest substitutions first, at most `limit` (at most 500). With `person`, only those where
/// they are the absent person or the substitute.
pub async fn latest<C: ConnectionTrait>(
    c: &C,
    person: Option<&str>,
    limit: u64,
) -> Result<Vec<SubstitutionRow>, DbErr> {
    let limit = limit.min(500);
    match person {
        Some(p) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM substitutions WHERE absent_user = $1 OR substitute_user = $1
                 ORDER BY id DESC LIMIT {limit}"
            );
            rows(c, &sql, vec![p.into()]).await
        }
        None => rows(c, &format!("SELECT {COLUMNS} FROM substitutions ORDER BY id DESC LIMIT {limit}"), vec![]).await,
    }
}

/// A substitution for `absent` not ended whose period shares a day with `from..=until`.
pub async fn overlapping<C: ConnectionTrait>(
    c: &C,
    absent: &str,
    from: &str,
    until: &str,
) -> Result<Option<SubstitutionRow>, DbErr> {
    row(
        c,
        &format!(
            "SELECT {COLUMNS} FROM substitutions WHERE absent_user = $1 AND ended_at IS NULL
             AND valid_from <= $3 AND valid_until >= $2 ORDER BY valid_from LIMIT 1"
        ),
        vec![absent.into(), from.into(), until.into()],
    )
    .await
}

/// How many substitutions not ended and not over by `today` have `person` in `column`
/// (`absent_user` or `substitute_user`).
async fn pending<C: ConnectionTrait>(c: &C, column: &str, person: &str, today: &str) -> Result<i64, DbErr> {
    let sql = format!(
        "SELECT COUNT(*) AS n FROM substitutions WHERE {column} = $1 AND ended_at IS NULL AND valid_until >= $2"
    );
    Ok(row::<Count, _>(c, &sql, vec![person.into(), today.into()]).await?.map_or(0, |n| n.n))
}

/// How many substitutions for `absent` are current or to come.
pub async fn pending_for<C: ConnectionTrait>(c: &C, absent: &str, today: &str) -> Result<i64, DbErr> {
    pending(c, "absent_user", absent, today).await
}

/// How many substitutions `substitute` holds that are current or to come.
pub async fn pending_held<C: ConnectionTrait>(c: &C, substitute: &str, today: &str) -> Result<i64, DbErr> {
    pending(c, "substitute_user", substitute, today).await
}

/// The substitutions `substitute` holds on `today`: not ended, begun, not over. At most
/// [`MAX_HELD`], the earliest recorded first.
pub async fn held<C: ConnectionTrait>(c: &C, substitute: &str, today: &str) -> Result<Vec<SubstitutionRow>, DbErr> {
    rows(
        c,
        &format!(
            "SELECT {COLUMNS} FROM substitutions WHERE substitute_user = $1 AND ended_at IS NULL
             AND valid_from <= $2 AND valid_until >= $2 ORDER BY id LIMIT {MAX_HELD}"
        ),
        vec![substitute.into(), today.into()],
    )
    .await
}

/// The substitutions between `absent` and `substitute`, the newest first (at most 20): what says
/// why one is not in force today.
pub async fn between<C: ConnectionTrait>(c: &C, absent: &str, substitute: &str) -> Result<Vec<SubstitutionRow>, DbErr> {
    rows(
        c,
        &format!(
            "SELECT {COLUMNS} FROM substitutions WHERE absent_user = $1 AND substitute_user = $2
             ORDER BY id DESC LIMIT 20"
        ),
        vec![absent.into(), substitute.into()],
    )
    .await
}

/// Which of `people` are away on `today` (a substitution in force for them), with it: at most one
/// each, as substitutions for one person never overlap.
pub async fn absent_among<C: ConnectionTrait>(
    c: &C,
    people: &[String],
    today: &str,
) -> Result<Vec<SubstitutionRow>, DbErr> {
    let mut found = Vec::new();
    for chunk in people.chunks(100) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM substitutions WHERE ended_at IS NULL AND valid_from <= $1 AND valid_until >= $1
             AND absent_user IN ({}) ORDER BY id",
            marks.join(", ")
        );
        let mut values: Vec<sea_orm::Value> = vec![today.into()];
        values.extend(chunk.iter().map(|p| p.clone().into()));
        found.extend(rows::<SubstitutionRow, _>(c, &sql, values).await?);
    }
    Ok(found)
}
