//! Craftsman training as a sector: the trainee roster of a cohort (imported from CSV, within its
//! capacity, the rest on a waiting list in order) and the assignment of mentors. The cohort and
//! each trainee's track are processes of the engine (`workflows/training_cohort.toml`,
//! `workflows/trainee_track.toml`); these are the records around them.

pub mod assign;
pub mod begin;
pub mod enrol;
pub mod graduate;
pub mod import;
pub mod mentoring;
pub mod mentors;
pub mod pool;
