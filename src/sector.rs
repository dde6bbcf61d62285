//! The ids of the sector's processes that Rust code relies on — processes, states, fields and
//! events of `workflows/` — declared once, here. Everything else about a process is the
//! definition's own; these few are what the bargaining figures and the training pages read or
//! fire by name.
//!
//! `unionflow validate` and `serve` check a folder of definitions against them: a folder that
//! declares a sector's process must declare every name the sector relies on (renaming a state in
//! TOML would otherwise silently break graduation). A folder without the sector's processes at
//! all simply runs without that sector.

use crate::definition::{DefinitionSet, Problem, Problems};

/// The collective bargaining round (`workflows/bargaining_round.toml`).
pub mod round {
    pub const PROCESS: &str = "bargaining_round";
}

/// A craftsman training cohort (`workflows/training_cohort.toml`).
pub mod cohort {
    pub const PROCESS: &str = "training_cohort";
    /// After the last phase: its trainees are decided by the completion rule.
    pub const GRADUATION: &str = "graduation";
    pub const ENROL: &str = "enrol";
    pub const RAISE_CAPACITY: &str = "raise_capacity";
    pub const TRAINEES: &str = "trainees";
    pub const WAITING_LIST: &str = "waiting_list";
    pub const CAPACITY: &str = "capacity";
    /// The phase under way.
    pub const PHASE: &str = "phase";
}

/// One trainee's way through a cohort (`workflows/trainee_track.toml`).
pub mod track {
    pub const PROCESS: &str = "trainee_track";
    pub const ASSIGNED: &str = "assigned";
    pub const IN_TRAINING: &str = "in_training";
    pub const IN_POOL: &str = "in_talent_pool";
    /// The trainee's code in the cohort.
    pub const TRAINEE: &str = "trainee";
    pub const MENTOR: &str = "mentor";
    pub const REASON: &str = "reason";
    pub const ATTENDANCE_BY_PHASE: &str = "attendance_by_phase";
    pub const COMPETENCE: &str = "competence";
    /// The latest level per competence.
    pub const LEVELS: &str = "levels";
    pub const ASSIGN_MENTOR: &str = "assign_mentor";
    pub const REASSIGN: &str = "reassign";
    pub const BEGIN_TRAINING: &str = "begin_training";
    pub const GRADUATE: &str = "graduate";
    pub const NOT_COMPLETE: &str = "not_complete";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    State,
    Field,
    Event,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::State => "state",
            Kind::Field => "field",
            Kind::Event => "event",
        }
    }
}

/// A sector: its processes, and every (process, kind, id) its Rust code names.
struct Sector {
    name: &'static str,
    processes: &'static [&'static str],
    names: &'static [(&'static str, Kind, &'static str)],
}

const SECTORS: &[Sector] = &[
    Sector { name: "bargaining", processes: &[round::PROCESS], names: &[] },
    Sector {
        name: "training",
        processes: &[cohort::PROCESS, track::PROCESS],
        names: &[
            (cohort::PROCESS, Kind::State, cohort::GRADUATION),
            (cohort::PROCESS, Kind::Event, cohort::ENROL),
            (cohort::PROCESS, Kind::Event, cohort::RAISE_CAPACITY),
            (cohort::PROCESS, Kind::Field, cohort::TRAINEES),
            (cohort::PROCESS, Kind::Field, cohort::WAITING_LIST),
            (cohort::PROCESS, Kind::Field, cohort::CAPACITY),
            (cohort::PROCESS, Kind::Field, cohort::PHASE),
            (track::PROCESS, Kind::State, track::ASSIGNED),
            (track::PROCESS, Kind::State, track::IN_TRAINING),
            (track::PROCESS, Kind::State, track::IN_POOL),
            (track::PROCESS, Kind::Field, track::TRAINEE),
            (track::PROCESS, Kind::Field, track::MENTOR),
            (track::PROCESS, Kind::Field, track::REASON),
            (track::PROCESS, Kind::Field, track::ATTENDANCE_BY_PHASE),
            (track::PROCESS, Kind::Field, track::COMPETENCE),
            (track::PROCESS, Kind::Field, track::LEVELS),
            (track::PROCESS, Kind::Event, track::ASSIGN_MENTOR),
            (track::PROCESS, Kind::Event, track::REASSIGN),
            (track::PROCESS, Kind::Event, track::BEGIN_TRAINING),
            (track::PROCESS, Kind::Event, track::GRADUATE),
            (track::PROCESS, Kind::Event, track::NOT_COMPLETE),
        ],
    },
];

/// Every name a sector relies on that the set lacks, located at the process's `id` (or, for a
/// missing process, at a process of the same sector that is there).
pub fn check(set: &DefinitionSet) -> Vec<Problem> {
    let mut problems = Vec::new();
    for sector in SECTORS {
        let present: Vec<&str> = sector.processes.iter().copied().filter(|p| set.get(p).is_some()).collect();
        let Some(anchor) = present.first() else { continue };
        let at = |process: &str, message: String| {
            let located = set.locations.get(process).or_else(|| set.locations.get(*anchor));
            let (file, line, col) = located.map_or((String::new(), 1, 1), |p| (p.file.clone(), p.line, p.col));
            Problem { file, line, col, message }
        };
        for process in sector.processes.iter().filter(|p| !present.contains(p)) {
            let message = format!("the {} pages need a process {process:?} beside {anchor:?}", sector.name);
            problems.push(at(anchor, message));
        }
        for (process, kind, id) in sector.names {
            let Some(def) = set.get(process) else { continue };
            let declared = match kind {
                Kind::State => def.state(id).is_some(),
                Kind::Field => def.field(id).is_some(),
                Kind::Event => def.transitions.iter().any(|t| t.event == *id),
            };
            if !declared {
                let message = format!(
                    "{process:?} must declare the {} {id:?}: the {} pages rely on it by name (src/sector.rs)",
                    kind.word(),
                    sector.name
                );
                problems.push(at(process, message));
            }
        }
    }
    problems
}

/// The set, if it declares every name the sector relies on.
pub fn checked(set: DefinitionSet) -> Result<DefinitionSet, Problems> {
    let problems = check(&set);
    if problems.is_empty() { Ok(set) } else { Err(Problems(problems)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_definitions_declare_every_name() {
        let set = crate::definition::embedded::load_embedded().expect("built-in definitions");
        assert_eq!(check(&set), Vec::new());
    }
}
