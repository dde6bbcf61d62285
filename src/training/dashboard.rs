//! The figures of a cohort's dashboard, summed from its trainees' tracks: where they stand, how
//! many have each phase recorded and with what attendance, and how the assessed levels of each
//! competence are spread. Pure: the tracks are read by the caller.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::engine::Data;
use crate::sector::track;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhaseFigures {
    pub phase: i64,
    /// Trainees with this phase recorded, of those not withdrawn.
    pub recorded: usize,
    pub active: usize,
    /// The average attendance of the recorded trainees, in percent.
    pub attendance: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CohortFigures {
    /// How many tracks are in each state.
    pub states: BTreeMap<String, usize>,
    pub phases: Vec<PhaseFigures>,
    /// For each competence, how many trainees were last assessed at each level (index 0 = the
    /// lowest level of the scale).
    pub competences: BTreeMap<String, Vec<usize>>,
}

fn map<'a>(data: &'a Data, name: &str) -> impl Iterator<Item = (&'a String, i64)> {
    data.get(name).and_then(Value::as_object).into_iter().flatten().filter_map(|(k, v)| Some((k, v.as_i64()?)))
}

/// Sums the figures of `tracks` (state, data) over `phases` phases and a scale `lowest..=highest`.
pub fn summarise<'a>(
    tracks: impl IntoIterator<Item = (&'a str, &'a Data)>,
    phases: i64,
    (lowest, highest): (i64, i64),
) -> CohortFigures {
    let mut figures = CohortFigures::default();
    let width = usize::try_from(highest - lowest + 1).unwrap_or(0);
    let mut sums: BTreeMap<i64, (usize, i64)> = BTreeMap::new();
    let mut active = 0;
    for (state, data) in tracks {
        *figures.states.entry(state.to_owned()).or_default() += 1;
        if state == track::WITHDRAWN {
            continue;
        }
        active += 1;
        for (phase, attendance) in map(data, track::ATTENDANCE_BY_PHASE) {
            if let Ok(phase) = phase.parse::<i64>() {
                let e = sums.entry(phase).or_default();
                e.0 += 1;
                e.1 += attendance;
            }
        }
        for (competence, level) in map(data, track::LEVELS) {
            let spread = figures.competences.entry(competence.clone()).or_insert_with(|| vec![0; width]);
            if let Some(slot) = usize::try_from(level - lowest).ok().and_then(|i| spread.get_mut(i)) {
                *slot += 1;
            }
        }
    }
    figures.phases = (1..=phases)
        .map(|phase| {
            let (recorded, total) = sums.get(&phase).copied().unwrap_or_default();
            PhaseFigures { phase, recorded, active, attendance: (recorded > 0).then(|| total as f64 / recorded as f64) }
        })
        .collect();
    figures
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn track(attendance: Value, levels: Value) -> Data {
        json!({ track::ATTENDANCE_BY_PHASE: attendance, track::LEVELS: levels }).as_object().cloned().unwrap()
    }

    #[test]
    fn phases_count_recorded_trainees_and_average_their_attendance() {
        let a = track(json!({ "1": 90, "2": 70 }), json!({ "practice": 3 }));
        let b = track(json!({ "1": 80 }), json!({ "practice": 5, "innovation": 1 }));
        let gone = track(json!({ "1": 10 }), json!({ "practice": 1 }));
        let f = summarise([("in_training", &a), ("in_training", &b), ("withdrawn", &gone)], 3, (1, 5));
        assert_eq!(f.states["in_training"], 2);
        assert_eq!(f.states["withdrawn"], 1);
        assert_eq!(f.phases[0], PhaseFigures { phase: 1, recorded: 2, active: 2, attendance: Some(85.0) });
        assert_eq!(f.phases[1].recorded, 1);
        assert_eq!(f.phases[2], PhaseFigures { phase: 3, recorded: 0, active: 2, attendance: None });
        assert_eq!(f.competences["practice"], vec![0, 0, 1, 0, 1], "the withdrawn trainee is not counted");
        assert_eq!(f.competences["innovation"], vec![1, 0, 0, 0, 0]);
    }
}
