//! Process definitions: the files under `workflows/`, loaded and checked into typed values.

pub mod calendar;
pub mod embedded;
pub mod load;
pub mod model;
pub mod money;
pub mod problem;
mod raw;
pub mod report;
pub mod schema;
pub mod values;

pub use calendar::Calendar;
pub use load::{DefinitionSet, SourceFile, load, load_dir, parse_stored};
pub use model::*;
pub use problem::{Problem, Problems};
pub use report::{Filter, GroupBy, Measure, Period, Report, ReportKind};
