//! The mentor pool, and each mentor's load: the trainee tracks they follow that are still in a
//! programme. Graduates in the talent pool keep their mentor for services, but do not take a
//! place a new trainee could have.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::clock::to_micros;
use crate::sector::track;
use crate::store::db::{exec, rows};

/// A mentor of the pool as the table holds them.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct MentorRow {
    pub username: String,
    pub name: String,
    pub field: String,
    pub capacity: i64,
}

#[derive(FromQueryResult)]
struct Load {
    mentor: Option<String>,
    n: i64,
}

/// Adds a mentor to the pool, or updates the one with that username.
pub async fn upsert<C: ConnectionTrait>(
    c: &C,
    username: &str,
    name: &str,
    field: &str,
    capacity: i64,
    now: time::OffsetDateTime,
) -> Result<(), DbErr> {
    exec(
        c,
        "INSERT INTO mentors (username, name, field, capacity, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (username) DO UPDATE SET name = $2, field = $3, capacity = $4",
        vec![username.into(), name.into(), field.into(), capacity.into(), to_micros(now).into()],
    )
    .await?;
    Ok(())
}

/// The pool, by field and username.
pub async fn list<C: ConnectionTrait>(c: &C) -> Result<Vec<MentorRow>, DbErr> {
    rows(c, "SELECT username, name, field, capacity FROM mentors ORDER BY field, username", vec![]).await
}

/// How many open tracks outside the talent pool each mentor follows, counted in the index on
/// open instances' mentor field (no track's data is read).
pub async fn loads<C: ConnectionTrait>(c: &C) -> Result<BTreeMap<String, usize>, DbErr> {
    let Some(mentor) = crate::store::instances::json_text(c, track::MENTOR) else { return Ok(BTreeMap::new()) };
    let sql = format!(
        "SELECT {mentor} AS mentor, COUNT(*) AS n FROM instances
         WHERE process = $1 AND outcome IS NULL AND state <> $2 AND {mentor} IS NOT NULL GROUP BY {mentor}"
    );
    let loads: Vec<Load> = rows(c, &sql, vec![track::PROCESS.into(), track::IN_POOL.into()]).await?;
    Ok(loads.into_iter().filter_map(|l| Some((l.mentor?, usize::try_from(l.n).unwrap_or(0)))).collect())
}
