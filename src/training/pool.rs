//! The skills talent pool: the graduates of every cohort, searchable by trade, by their cohort's
//! field and by the level of a competence their mentors assessed.

use crate::sector::track;
use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ConnectionTrait, DbErr};
use serde_json::Value;

use crate::store::db::{all, get};
use crate::store::instances::{self, InstanceRow};

/// At most this many graduates are read for one search.
const MAX: usize = 5000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    pub trade: Option<String>,
    /// One of the fields of the graduate's cohort.
    pub field: Option<String>,
    /// A competence and the least level assessed in it.
    pub competence: Option<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graduate {
    pub track: i64,
    pub name: String,
    pub employer: String,
    pub trade: String,
    pub mentor: String,
    /// The fields of the cohort they graduated from.
    pub fields: Vec<String>,
    /// The latest level assessed in each competence.
    pub levels: BTreeMap<String, i64>,
}

fn id_list(ids: impl Iterator<Item = i64>) -> String {
    ids.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

pub async fn search<C: ConnectionTrait>(c: &C, q: &Search) -> Result<Vec<Graduate>, DbErr> {
    let sql = format!(
        "SELECT {} FROM instances WHERE process = $1 AND state = $2 ORDER BY id LIMIT {MAX}",
        instances::COLUMNS
    );
    let tracks: Vec<InstanceRow> = all(c, &sql, vec![track::PROCESS.into(), track::IN_POOL.into()])
        .await?
        .iter()
        .map(instances::from_row)
        .collect::<Result<_, _>>()?;
    if tracks.is_empty() {
        return Ok(Vec::new());
    }
    let cohorts: BTreeSet<i64> = tracks.iter().filter_map(|t| t.parent_id).collect();
    let mut people: BTreeMap<(i64, String), (String, String, String)> = BTreeMap::new();
    for r in all(
        c,
        &format!(
            "SELECT cohort_id, code, name, employer, trade FROM trainees WHERE cohort_id IN ({})",
            id_list(cohorts.iter().copied())
        ),
        vec![],
    )
    .await?
    {
        people.insert(
            (get(&r, "cohort_id")?, get(&r, "code")?),
            (get(&r, "name")?, get(&r, "employer")?, get(&r, "trade")?),
        );
    }
    let mut cohort_fields: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let sql = format!("SELECT id, data FROM instances WHERE id IN ({})", id_list(cohorts.iter().copied()));
    for r in all(c, &sql, vec![]).await? {
        let data: String = get(&r, "data")?;
        let fields = serde_json::from_str::<Value>(&data)
            .ok()
            .and_then(|d| d.get("fields").and_then(Value::as_array).cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|f| f.as_str().map(str::to_owned))
            .collect();
        cohort_fields.insert(get(&r, "id")?, fields);
    }
    Ok(tracks
        .iter()
        .filter_map(|t| {
            let code = t.data.get(track::TRAINEE)?.as_str()?.to_owned();
            let (name, employer, trade) = people.get(&(t.parent_id?, code))?.clone();
            let levels = t
                .data
                .get(track::LEVELS)
                .and_then(Value::as_object)
                .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_i64()?))).collect())
                .unwrap_or_default();
            Some(Graduate {
                track: t.id,
                name,
                employer,
                trade,
                mentor: t.data.get(track::MENTOR).and_then(Value::as_str).unwrap_or_default().to_owned(),
                fields: t.parent_id.and_then(|p| cohort_fields.get(&p)).cloned().unwrap_or_default(),
                levels,
            })
        })
        .filter(|g| q.trade.as_ref().is_none_or(|t| &g.trade == t))
        .filter(|g| q.field.as_ref().is_none_or(|f| g.fields.contains(f)))
        .filter(|g| q.competence.as_ref().is_none_or(|(comp, min)| g.levels.get(comp).is_some_and(|l| l >= min)))
        .collect())
}
