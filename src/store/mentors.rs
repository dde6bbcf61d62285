//! The mentor pool, and each mentor's load: the trainee tracks they follow that are still in a
//! programme. Graduates in the talent pool keep their mentor for services, but do not take a
//! place a new trainee could have.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde_json::Value;

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
struct TrackData {
    data: String,
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

/// How many open tracks outside the talent pool each mentor follows. The mentor is a field of
/// the track's JSON data, read here rather than in SQL, whose JSON functions differ between the
/// backends.
pub async fn loads<C: ConnectionTrait>(c: &C) -> Result<BTreeMap<String, usize>, DbErr> {
    let tracks: Vec<TrackData> = rows(
        c,
        "SELECT data FROM instances WHERE process = $1 AND outcome IS NULL AND state <> $2",
        vec![track::PROCESS.into(), track::IN_POOL.into()],
    )
    .await?;
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for t in &tracks {
        if let Some(m) = serde_json::from_str::<Value>(&t.data)
            .ok()
            .and_then(|d| d.get(track::MENTOR).and_then(Value::as_str).map(str::to_owned))
        {
            *count.entry(m).or_default() += 1;
        }
    }
    Ok(count)
}
