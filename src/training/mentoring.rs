//! A mentor's own trainees and what is due for each: the growth records of the phases their
//! cohort has reached, the competences not yet assessed, services once they are in the pool.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbErr};
use serde_json::Value;

use crate::engine::Data;
use crate::sector::track;
use crate::store;
use crate::store::instances::{self, InstanceRow};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Training has not begun for this trainee yet.
    AwaitingStart,
    /// The growth record of a phase the cohort has reached.
    PhaseRecord(i64),
    /// Competences assessed so far, of all.
    Assessments { done: usize, of: usize },
    /// In the talent pool: services can be logged.
    Services,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mentored {
    pub track: i64,
    pub cohort: Option<i64>,
    pub name: String,
    pub state: String,
    pub due: Vec<Due>,
}

/// What is due for one track, given the phase its cohort is in and the competences assessed.
pub fn due(state: &str, data: &Data, cohort_phase: i64, competences: &[String]) -> Vec<Due> {
    let keys = |map: &str| -> Vec<String> {
        data.get(map).and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default()
    };
    match state {
        track::ASSIGNED => vec![Due::AwaitingStart],
        track::IN_TRAINING => {
            let recorded = keys(track::ATTENDANCE_BY_PHASE);
            let mut due: Vec<Due> =
                (1..=cohort_phase).filter(|p| !recorded.contains(&p.to_string())).map(Due::PhaseRecord).collect();
            let assessed = keys(track::LEVELS);
            let done = competences.iter().filter(|c| assessed.contains(c)).count();
            if done < competences.len() {
                due.push(Due::Assessments { done, of: competences.len() });
            }
            due
        }
        track::IN_POOL => vec![Due::Services],
        _ => Vec::new(),
    }
}

/// The trainees `mentor` follows whose tracks have not ended, with what is due for each.
pub async fn my_trainees<C: ConnectionTrait>(
    c: &C,
    mentor: &str,
    competences: &[String],
) -> Result<Vec<Mentored>, DbErr> {
    let tracks: Vec<InstanceRow> = store::tracks::open_of_mentor(c, mentor).await?;
    let mut cohorts: BTreeMap<i64, i64> = BTreeMap::new();
    let mut names: BTreeMap<(i64, String), String> = BTreeMap::new();
    for cohort in tracks.iter().filter_map(|t| t.parent_id).collect::<std::collections::BTreeSet<_>>() {
        let row = instances::find(c, cohort).await?;
        cohorts.insert(
            cohort,
            row.and_then(|r| r.data.get(crate::sector::cohort::PHASE).and_then(Value::as_i64)).unwrap_or(0),
        );
        // Only the mentor's own trainees are named: a cohort may have hundreds.
        let codes: Vec<&str> = tracks
            .iter()
            .filter(|t| t.parent_id == Some(cohort))
            .filter_map(|t| t.data.get(track::TRAINEE).and_then(Value::as_str))
            .collect();
        for (code, name) in store::trainees::names_of(c, cohort, &codes).await? {
            names.insert((cohort, code), name);
        }
    }
    Ok(tracks
        .into_iter()
        .map(|t| {
            let code = t.data.get(track::TRAINEE).and_then(Value::as_str).unwrap_or_default().to_owned();
            let phase = t.parent_id.and_then(|p| cohorts.get(&p)).copied().unwrap_or(0);
            Mentored {
                track: t.id,
                cohort: t.parent_id,
                name: t.parent_id.and_then(|p| names.get(&(p, code.clone()))).cloned().unwrap_or(code),
                due: due(&t.state, &t.data, phase, competences),
                state: t.state,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_phases_reached_and_not_recorded_are_due_with_missing_assessments() {
        let data = json!({ track::ATTENDANCE_BY_PHASE: { "1": 90 }, track::LEVELS: { "practice": 3 } })
            .as_object()
            .cloned()
            .unwrap();
        let all = ["practice".to_owned(), "innovation".to_owned()];
        assert_eq!(
            due(track::IN_TRAINING, &data, 3, &all),
            vec![Due::PhaseRecord(2), Due::PhaseRecord(3), Due::Assessments { done: 1, of: 2 }]
        );
        assert_eq!(due(track::IN_TRAINING, &data, 1, &all[..1]), Vec::<Due>::new(), "nothing due");
        assert_eq!(due(track::IN_POOL, &data, 6, &all), vec![Due::Services]);
    }
}
