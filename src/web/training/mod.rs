//! A cohort's trainees page and what a coordinator does there: the enrolled (a page at a time)
//! and the waiting list, the CSV import (checked whole, every bad row shown with its line),
//! adding one trainee, raising the capacity, beginning training for the ticked trainees, the mentor pool, automatic assignment, giving
//! trainees to another mentor, and graduating the cohort by its rule.

mod actions;
mod dashboard;
mod page;

pub use actions::{add_mentor, add_trainee, assign, begin, capacity, graduate, import, reassign};
pub use page::trainees_page;
