//! The trainee tracks and their cohorts as the talent pool and a mentor's own list read them:
//! the graduates in the pool, the tracks still open, and the data of a set of cohorts.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::engine::Data;
use crate::sector::track;
use crate::store::db::rows;
use crate::store::instances::{self, InstanceRow};

#[derive(FromQueryResult)]
struct IdData {
    id: i64,
    data: String,
}

/// The tracks in `state`, oldest first, at most `limit`.
pub async fn in_state<C: ConnectionTrait>(c: &C, state: &str, limit: u64) -> Result<Vec<InstanceRow>, DbErr> {
    let sql = format!(
        "SELECT {} FROM instances WHERE process = $1 AND state = $2 ORDER BY id LIMIT {limit}",
        instances::COLUMNS
    );
    instances::select(c, &sql, vec![track::PROCESS.into(), state.into()]).await
}

/// The tracks `mentor` follows that have not ended, oldest first, through the index on open
/// instances' mentor field.
pub async fn open_of_mentor<C: ConnectionTrait>(c: &C, mentor: &str) -> Result<Vec<InstanceRow>, DbErr> {
    let Some(field) = instances::json_text(c, track::MENTOR) else { return Ok(Vec::new()) };
    let sql = format!(
        "SELECT {} FROM instances WHERE process = $1 AND outcome IS NULL AND {field} = $2 ORDER BY id",
        instances::COLUMNS
    );
    instances::select(c, &sql, vec![track::PROCESS.into(), mentor.into()]).await
}

/// The data of each of the given instances (the cohorts of some tracks), by id. The ids are
/// numbers written into the statement: an `IN` list of any length, with nothing to inject.
pub async fn data_of<C: ConnectionTrait>(c: &C, ids: &[i64]) -> Result<BTreeMap<i64, Data>, DbErr> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let found: Vec<IdData> = rows(c, &format!("SELECT id, data FROM instances WHERE id IN ({list})"), vec![]).await?;
    found
        .into_iter()
        .map(|r| Ok((r.id, serde_json::from_str(&r.data).map_err(|e| DbErr::Json(e.to_string()))?)))
        .collect()
}
