//! The skills talent pool: the graduates of every cohort, searchable by trade, by their cohort's
//! field and by the level of a competence their mentors assessed.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ConnectionTrait, DbErr};
use serde_json::Value;

use crate::sector::track;
use crate::store::{self, instances::InstanceRow};

/// At most this many graduates are read for one search.
const MAX: u64 = 5000;

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
    /// The track's data, by which the reader's scope says whether its page opens for them.
    pub data: crate::engine::Data,
}

pub async fn search<C: ConnectionTrait>(c: &C, q: &Search) -> Result<Vec<Graduate>, DbErr> {
    let tracks: Vec<InstanceRow> = store::tracks::in_state(c, track::IN_POOL, MAX).await?;
    if tracks.is_empty() {
        return Ok(Vec::new());
    }
    let cohorts: Vec<i64> = tracks.iter().filter_map(|t| t.parent_id).collect::<BTreeSet<_>>().into_iter().collect();
    let people: BTreeMap<(i64, String), store::trainees::Person> = store::trainees::of_cohorts(c, &cohorts)
        .await?
        .into_iter()
        .map(|p| ((p.cohort_id, p.code.clone()), p))
        .collect();
    let cohort_fields: BTreeMap<i64, Vec<String>> = store::tracks::data_of(c, &cohorts)
        .await?
        .into_iter()
        .map(|(id, data)| {
            let fields = data
                .get("fields")
                .and_then(Value::as_array)
                .map(|fs| fs.iter().filter_map(|f| f.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            (id, fields)
        })
        .collect();
    Ok(tracks
        .iter()
        .filter_map(|t| {
            let code = t.data.get(track::TRAINEE)?.as_str()?.to_owned();
            let store::trainees::Person { name, employer, trade, .. } = people.get(&(t.parent_id?, code))?.clone();
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
                data: t.data.clone(),
            })
        })
        .filter(|g| q.trade.as_ref().is_none_or(|t| &g.trade == t))
        .filter(|g| q.field.as_ref().is_none_or(|f| g.fields.contains(f)))
        .filter(|g| q.competence.as_ref().is_none_or(|(comp, min)| g.levels.get(comp).is_some_and(|l| l >= min)))
        .collect())
}
