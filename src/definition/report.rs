//! Reports a definition declares (`[[report]]`): what to count, sum, average or divide over its
//! instances, grouped by fields, by state or stage, or by period. The figures page and the
//! dashboards draw them; the arithmetic is `engine::report`, the reading `store::reports`.

use serde::Deserialize;
use toml::Spanned;

use crate::definition::model::Label;
use crate::definition::raw::S;

/// A `[[report]]` as the file gives it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    pub id: S,
    pub label: Label,
    pub kind: S,
    /// One name (`by = "sector"`) or several (`by = ["sector", "year"]`).
    pub by: Option<Spanned<toml::Value>>,
    pub by_period: Option<S>,
    pub date: Option<S>,
    pub of: Option<S>,
    #[serde(default)]
    pub states: Vec<S>,
    pub outcome: Option<S>,
    pub set: Option<S>,
    pub numerator: Option<Spanned<RawMeasure>>,
    pub denominator: Option<Spanned<RawMeasure>>,
    /// A table field whose rows the report reads, each row with its instance's fields (the
    /// assistance given per month, from every case's measures).
    pub rows: Option<S>,
}

/// One side of a rate: which instances it counts, and optionally the items of a list field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeasure {
    #[serde(default)]
    pub states: Vec<S>,
    pub outcome: Option<S>,
    pub set: Option<S>,
    pub of: Option<S>,
}

/// A report, checked against its definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: String,
    pub label: Label,
    pub kind: ReportKind,
    /// The groups, outermost first; none gives one figure over all instances.
    pub by: Vec<GroupBy>,
    /// Which instances the report reads at all.
    pub filter: Filter,
    /// The table field whose rows it reads instead of the instances themselves: its columns are
    /// named like fields.
    pub rows: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReportKind {
    /// How many instances (or, with `of`, how many items their list field holds).
    Count(Measure),
    /// The sum of a number field (whole numbers, or money as exact decimals).
    Sum(String),
    /// The mean of a number field over the instances that hold a value.
    Average(String),
    /// One count over another, as a percentage.
    Rate { numerator: Measure, denominator: Measure },
    /// The average days an instance spends in each stage of the work (not a term stage), over
    /// the instances that passed through it, from their histories; grouped by stage last.
    DaysInStage,
}

impl ReportKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReportKind::Count(_) => "count",
            ReportKind::Sum(_) => "sum",
            ReportKind::Average(_) => "average",
            ReportKind::Rate { .. } => "rate",
            ReportKind::DaysInStage => "days_in_stage",
        }
    }
}

/// What a count counts: the instances that pass `filter`, or the items of their list `of`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measure {
    pub filter: Filter,
    pub of: Option<String>,
}

/// Instances in one of `states` (any, when empty), with `outcome` (any, when none), whose field
/// `set` holds a value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub states: Vec<String>,
    pub outcome: Option<String>,
    pub set: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GroupBy {
    /// A choice, text or int field's value.
    Field(String),
    /// The keys of a map field, one group per key an instance holds; `key` is the field the
    /// map is kept by (its labels name the groups).
    MapKeys {
        map: String,
        key: Option<String>,
    },
    State,
    Stage,
    /// The month, quarter or year of a date field, or of the instance's start when `date` is none.
    Period {
        period: Period,
        date: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month,
    Quarter,
    Year,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        match s {
            "month" => Some(Period::Month),
            "quarter" => Some(Period::Quarter),
            "year" => Some(Period::Year),
            _ => None,
        }
    }

    /// The period a day falls in, as text that sorts in time order: "2026-03", "2026-Q1", "2026".
    pub fn of(self, year: i32, month: u8) -> String {
        match self {
            Period::Month => format!("{year:04}-{month:02}"),
            Period::Quarter => format!("{year:04}-Q{}", month.div_ceil(3)),
            Period::Year => format!("{year:04}"),
        }
    }
}

/// The reserved group names: an instance's state and its stage.
pub const BY_STATE: &str = "state";
pub const BY_STAGE: &str = "stage";
