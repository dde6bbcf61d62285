//! A declared report's arithmetic: instances in, one figure per group out. Counts are whole
//! numbers, sums and averages exact decimals (money is summed as written, never through binary
//! floating point), a rate two counts. Pure: the store feeds the instances, a page by key at a time.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

use crate::definition::{Definition, Filter, GroupBy, Measure, Report, ReportKind};
use crate::engine::Data;

/// What a report reads of one instance.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub state: &'a str,
    pub outcome: Option<&'a str>,
    pub data: &'a Data,
    /// The day the instance started, in the configured offset (for `by_period` without `date`).
    pub started: time::Date,
    /// Days spent in each stage so far, from its history (read only for `days_in_stage`).
    pub stage_days: Option<&'a BTreeMap<String, Decimal>>,
}

/// One group's figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Figure {
    Count(u64),
    Sum(Decimal),
    Average { sum: Decimal, n: u64 },
    Rate { numerator: u64, denominator: u64 },
}

impl Figure {
    fn zero(kind: &ReportKind) -> Figure {
        match kind {
            ReportKind::Count(_) => Figure::Count(0),
            ReportKind::Sum(_) => Figure::Sum(Decimal::ZERO),
            ReportKind::Average(_) => Figure::Average { sum: Decimal::ZERO, n: 0 },
            ReportKind::Rate { .. } => Figure::Rate { numerator: 0, denominator: 0 },
            ReportKind::DaysInStage => Figure::Average { sum: Decimal::ZERO, n: 0 },
        }
    }

    /// The mean, to two places rounded half away from zero; none over no values.
    pub fn average(&self) -> Option<Decimal> {
        match self {
            Figure::Average { sum, n } if *n > 0 => Some(
                (sum / Decimal::from(*n)).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero).normalize(),
            ),
            _ => None,
        }
    }

    /// A rate in whole per cent, rounded half up with integers only; none over nothing.
    pub fn percent(&self) -> Option<u64> {
        match self {
            Figure::Rate { numerator, denominator } if *denominator > 0 => {
                Some((numerator * 200 + denominator) / (denominator * 2))
            }
            _ => None,
        }
    }

    /// The figure as a chart shows it beside its bar.
    pub fn text(&self) -> String {
        match self {
            Figure::Count(n) => n.to_string(),
            Figure::Sum(d) => d.to_string(),
            Figure::Average { .. } => self.average().map_or_else(|| "—".to_owned(), |a| a.to_string()),
            Figure::Rate { numerator, denominator } => {
                format!("{}% ({numerator}/{denominator})", self.percent().unwrap_or(0))
            }
        }
    }

    /// The figure's cells in a CSV line, under [`value_columns`].
    pub fn cells(&self) -> Vec<String> {
        match self {
            Figure::Count(n) => vec![n.to_string()],
            Figure::Sum(d) => vec![d.to_string()],
            Figure::Average { n, .. } => vec![self.average().map(|a| a.to_string()).unwrap_or_default(), n.to_string()],
            Figure::Rate { numerator, denominator } => vec![
                numerator.to_string(),
                denominator.to_string(),
                self.percent().map(|p| p.to_string()).unwrap_or_default(),
            ],
        }
    }

    /// The size a bar is drawn to scale by (only the drawing is approximate, never the figure).
    fn magnitude(&self) -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        match self {
            Figure::Count(n) => *n as f64,
            Figure::Sum(d) => d.to_f64().unwrap_or(0.0),
            Figure::Average { .. } => self.average().and_then(|a| a.to_f64()).unwrap_or(0.0),
            Figure::Rate { .. } => self.percent().unwrap_or(0) as f64,
        }
    }
}

/// The CSV columns a report's figure fills.
pub fn value_columns(kind: &ReportKind) -> &'static [&'static str] {
    match kind {
        ReportKind::Count(_) => &["count"],
        ReportKind::Sum(_) => &["sum"],
        ReportKind::Average(_) => &["average", "n"],
        ReportKind::Rate { .. } => &["numerator", "denominator", "rate_percent"],
        ReportKind::DaysInStage => &["average_days", "n"],
    }
}

/// The CSV column of a group: the field's id, `state`, `stage`, or the period.
pub fn group_column(group: &GroupBy) -> String {
    match group {
        GroupBy::Field(f) => f.clone(),
        GroupBy::MapKeys { map, key } => key.clone().unwrap_or_else(|| map.clone()),
        GroupBy::State => "state".into(),
        GroupBy::Stage => "stage".into(),
        GroupBy::Period { period, .. } => match period {
            crate::definition::Period::Month => "month".into(),
            crate::definition::Period::Quarter => "quarter".into(),
            crate::definition::Period::Year => "year".into(),
        },
    }
}

/// A group's key in words: a choice's, state's or stage's label, a map key with its field's
/// label ("Phase 2"), or the value as stored.
pub fn key_label(def: &Definition, group: &GroupBy, key: &str, lang: &str) -> String {
    let option =
        |field: &str| def.choice_options(field).iter().find(|o| o.id == key).map(|o| o.label.get(lang).to_owned());
    let label = match group {
        GroupBy::Field(f) => option(f),
        GroupBy::MapKeys { key: Some(k), .. } => option(k)
            .or_else(|| def.field(k).filter(|_| !key.is_empty()).map(|f| format!("{} {key}", f.label.get(lang)))),
        GroupBy::State => def.state(key).map(|s| s.label.get(lang).to_owned()),
        GroupBy::Stage => def.stage(key).map(|s| s.label.get(lang).to_owned()),
        GroupBy::MapKeys { key: None, .. } | GroupBy::Period { .. } => None,
    };
    label.unwrap_or_else(|| if key.is_empty() { "—".to_owned() } else { key.to_owned() })
}

/// One line of a report: its group's keys (as stored) and its figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub keys: Vec<String>,
    pub figure: Figure,
}

impl Line {
    /// The bar's length as a share of the chart: a rate's per cent, else the share of the largest.
    pub fn share(&self, lines: &[Line]) -> f64 {
        if matches!(self.figure, Figure::Rate { .. }) {
            return self.figure.magnitude() / 100.0;
        }
        let most = lines.iter().map(|l| l.figure.magnitude()).fold(0.0_f64, f64::max);
        if most > 0.0 { self.figure.magnitude() / most } else { 0.0 }
    }
}

/// A report being summed, instance by instance.
pub struct Tally<'d> {
    def: &'d Definition,
    report: &'d Report,
    groups: BTreeMap<Vec<String>, Figure>,
}

fn is_set(v: Option<&Value>) -> bool {
    v.is_some_and(|v| !v.is_null() && v.as_str() != Some("") && v.as_array().is_none_or(|a| !a.is_empty()))
}

fn passes(filter: &Filter, row: &Row<'_>) -> bool {
    (filter.states.is_empty() || filter.states.iter().any(|s| s == row.state))
        && filter.outcome.as_deref().is_none_or(|o| row.outcome == Some(o))
        && filter.set.as_ref().is_none_or(|f| is_set(row.data.get(f)))
}

/// How many a measure counts of one instance: one, or its list's items; none if it does not pass.
fn counted(m: &Measure, row: &Row<'_>) -> u64 {
    if !passes(&m.filter, row) {
        return 0;
    }
    match &m.of {
        Some(list) => row.data.get(list).and_then(Value::as_array).map_or(0, |a| a.len() as u64),
        None => 1,
    }
}

/// A number as stored: a whole number, or a decimal written as a string ("3500.00").
pub fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => n.as_i64().map(Decimal::from),
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        _ => None,
    }
}

fn key_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

impl<'d> Tally<'d> {
    pub fn new(def: &'d Definition, report: &'d Report) -> Self {
        Self { def, report, groups: BTreeMap::new() }
    }

    pub fn report(&self) -> &'d Report {
        self.report
    }

    /// Adds one instance to its group (to one group per key of a map it is grouped by); over a
    /// table's rows, each row with the instance's fields.
    pub fn add(&mut self, row: &Row<'_>) {
        let Some(table) = &self.report.rows else {
            return self.add_one(row);
        };
        let Some(rows) = row.data.get(table).and_then(Value::as_array) else { return };
        for columns in rows.iter().filter_map(Value::as_object) {
            let mut data = row.data.clone();
            data.extend(columns.iter().map(|(k, v)| (k.clone(), v.clone())));
            self.add_one(&Row { data: &data, ..*row });
        }
    }

    fn add_one(&mut self, row: &Row<'_>) {
        if !passes(&self.report.filter, row) {
            return;
        }
        if self.report.kind == ReportKind::DaysInStage {
            return self.add_days(row);
        }
        // The groups this instance falls in, each with its map value when grouped by a map.
        let mut keyed: Vec<(Vec<String>, Option<&Value>)> = vec![(Vec::new(), None)];
        for group in &self.report.by {
            match group {
                GroupBy::MapKeys { map, .. } => {
                    let entries: Vec<(&String, &Value)> =
                        row.data.get(map).and_then(Value::as_object).into_iter().flatten().collect();
                    keyed = keyed
                        .into_iter()
                        .flat_map(|(keys, _)| {
                            entries.iter().map(move |(k, v)| {
                                let mut keys = keys.clone();
                                keys.push((*k).clone());
                                (keys, Some(*v))
                            })
                        })
                        .collect();
                }
                _ => {
                    let key = self.key(group, row);
                    for (keys, _) in &mut keyed {
                        keys.push(key.clone());
                    }
                }
            }
        }
        for (keys, in_map) in keyed {
            let figure = self.groups.entry(keys).or_insert_with(|| Figure::zero(&self.report.kind));
            let value = |of: &String| match in_map {
                Some(v) if self.report.by.iter().any(|g| matches!(g, GroupBy::MapKeys { map, .. } if map == of)) => {
                    decimal(v)
                }
                _ => row.data.get(of).and_then(decimal),
            };
            match (&self.report.kind, figure) {
                (ReportKind::Count(m), Figure::Count(n)) => *n += counted(m, row),
                // A sum past what a decimal holds stays at the largest (only a computed field could).
                (ReportKind::Sum(of), Figure::Sum(sum)) => {
                    *sum = sum.checked_add(value(of).unwrap_or_default()).unwrap_or(Decimal::MAX);
                }
                (ReportKind::Average(of), Figure::Average { sum, n }) => {
                    if let Some(v) = value(of) {
                        *sum = sum.checked_add(v).unwrap_or(Decimal::MAX);
                        *n += 1;
                    }
                }
                (ReportKind::Rate { numerator, denominator }, Figure::Rate { numerator: a, denominator: b }) => {
                    *a += counted(numerator, row);
                    *b += counted(denominator, row);
                }
                _ => {}
            }
        }
    }

    /// Each stage of the work the instance has been in, with its days, to that stage's group.
    fn add_days(&mut self, row: &Row<'_>) {
        let Some(days) = row.stage_days else { return };
        for (stage, d) in days {
            if self.def.stage(stage).is_none_or(|s| s.term) {
                continue;
            }
            let keys: Vec<String> = self
                .report
                .by
                .iter()
                .map(|g| if *g == GroupBy::Stage { stage.clone() } else { self.key(g, row) })
                .collect();
            if let Figure::Average { sum, n } =
                self.groups.entry(keys).or_insert_with(|| Figure::zero(&self.report.kind))
            {
                *sum = sum.checked_add(*d).unwrap_or(Decimal::MAX);
                *n += 1;
            }
        }
    }

    fn key(&self, group: &GroupBy, row: &Row<'_>) -> String {
        match group {
            GroupBy::Field(f) => key_of(row.data.get(f)),
            GroupBy::State => row.state.to_owned(),
            GroupBy::Stage => self.def.state(row.state).map(|s| s.stage.clone()).unwrap_or_default(),
            GroupBy::Period { period, date } => {
                let day = match date {
                    Some(f) => row.data.get(f).and_then(Value::as_str).and_then(|d| {
                        let year = d.get(0..4)?.parse().ok()?;
                        let month = d.get(5..7)?.parse().ok()?;
                        Some((year, month))
                    }),
                    None => Some((row.started.year(), u8::from(row.started.month()))),
                };
                day.map(|(y, m)| period.of(y, m)).unwrap_or_default()
            }
            GroupBy::MapKeys { .. } => String::new(),
        }
    }

    /// The report's lines, in the order of the definition (options, states, stages), then of
    /// numbers and text, with groups without a value last.
    pub fn lines(self) -> Vec<Line> {
        let mut lines: Vec<Line> = self.groups.into_iter().map(|(keys, figure)| Line { keys, figure }).collect();
        let def = self.def;
        let by = &self.report.by;
        lines.sort_by_cached_key(|l| l.keys.iter().zip(by).map(|(k, g)| order(def, g, k)).collect::<Vec<_>>());
        lines
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Order {
    Rank(usize),
    Number(i64),
    Text(String),
    Missing,
}

fn order(def: &Definition, group: &GroupBy, key: &str) -> Order {
    if key.is_empty() {
        return Order::Missing;
    }
    let rank = match group {
        GroupBy::Field(f) | GroupBy::MapKeys { key: Some(f), .. } => {
            def.choice_options(f).iter().position(|o| o.id == key)
        }
        GroupBy::State => def.states.iter().position(|s| s.id == key),
        GroupBy::Stage => def.stages.iter().position(|s| s.id == key),
        _ => None,
    };
    match (rank, key.parse::<i64>()) {
        (Some(r), _) => Order::Rank(r),
        (None, Ok(n)) => Order::Number(n),
        (None, Err(_)) => Order::Text(key.to_owned()),
    }
}

/// Sums `rows` into each of `def`'s reports, in one pass.
pub fn tally<'a>(def: &Definition, rows: impl IntoIterator<Item = Row<'a>>) -> Vec<Vec<Line>> {
    let mut tallies: Vec<Tally<'_>> = def.reports.iter().map(|r| Tally::new(def, r)).collect();
    for row in rows {
        for t in &mut tallies {
            t.add(&row);
        }
    }
    tallies.into_iter().map(Tally::lines).collect()
}

/// What one instance adds to one group of a report, in parts that add up across instances: a
/// summary kept as instances change is the sum of these (see `store::summaries`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    /// Instances in the group: a group is shown while some instance falls in it, even at zero.
    pub visits: i64,
    /// A count, an average's number of values, or a rate's numerator.
    pub n: i64,
    /// A rate's denominator.
    pub d: i64,
    /// A sum, or an average's sum.
    pub total: Decimal,
}

impl Part {
    fn of(figure: &Figure) -> Part {
        let whole = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let (n, d, total) = match figure {
            Figure::Count(n) => (whole(*n), 0, Decimal::ZERO),
            Figure::Sum(s) => (0, 0, *s),
            Figure::Average { sum, n } => (whole(*n), 0, *sum),
            Figure::Rate { numerator, denominator } => (whole(*numerator), whole(*denominator), Decimal::ZERO),
        };
        Part { visits: 1, n, d, total }
    }

    pub fn add(&mut self, other: &Part, sign: i64) {
        self.visits += sign * other.visits;
        self.n += sign * other.n;
        self.d += sign * other.d;
        self.total = if sign < 0 { self.total - other.total } else { self.total + other.total };
    }

    pub fn is_zero(&self) -> bool {
        self.visits == 0 && self.n == 0 && self.d == 0 && self.total.is_zero()
    }

    /// The figure these parts make for a report of `kind`.
    pub fn figure(&self, kind: &ReportKind) -> Figure {
        let whole = |v: i64| u64::try_from(v).unwrap_or(0);
        match kind {
            ReportKind::Count(_) => Figure::Count(whole(self.n)),
            ReportKind::Sum(_) => Figure::Sum(self.total),
            ReportKind::Average(_) | ReportKind::DaysInStage => Figure::Average { sum: self.total, n: whole(self.n) },
            ReportKind::Rate { .. } => Figure::Rate { numerator: whole(self.n), denominator: whole(self.d) },
        }
    }
}

/// What one instance adds to each group of each of `def`'s reports, by report id and group keys.
/// Days in stage are left out: they grow with the clock, not with changes.
pub fn parts(def: &Definition, row: &Row<'_>) -> BTreeMap<(String, Vec<String>), Part> {
    let mut out = BTreeMap::new();
    for report in def.reports.iter().filter(|r| r.kind != ReportKind::DaysInStage) {
        let mut tally = Tally::new(def, report);
        tally.add(row);
        for (keys, figure) in tally.groups {
            out.insert((report.id.clone(), keys), Part::of(&figure));
        }
    }
    out
}

/// A report's lines from its groups' summed parts, in the order [`Tally::lines`] gives.
pub fn lines_of(def: &Definition, report: &Report, groups: impl IntoIterator<Item = (Vec<String>, Part)>) -> Vec<Line> {
    let groups = groups.into_iter().map(|(keys, part)| (keys, part.figure(&report.kind))).collect();
    Tally { def, report, groups }.lines()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_is_summed_exactly_as_written() {
        let values = ["0.10", "0.20", "3500.00", "1180.05"];
        let sum: Decimal = values.iter().filter_map(|v| decimal(&json!(v))).sum();
        assert_eq!(sum.to_string(), "4680.35", "0.10 + 0.20 is 0.30, not 0.30000000000000004");
        assert_eq!(decimal(&json!(7)), Some(Decimal::from(7)));
        assert_eq!(decimal(&json!(0.5)), None, "a binary float is never read as money");
    }

    #[test]
    fn a_rate_is_rounded_half_up_in_whole_per_cent() {
        let rate = |numerator, denominator| Figure::Rate { numerator, denominator }.percent();
        assert_eq!(rate(7, 12), Some(58));
        assert_eq!(rate(1, 8), Some(13), "12.5 rounds up");
        assert_eq!(rate(12, 12), Some(100));
        assert_eq!(rate(0, 0), None);
        assert_eq!(Figure::Rate { numerator: 7, denominator: 12 }.text(), "58% (7/12)");
    }

    #[test]
    fn an_average_keeps_two_places() {
        let avg = Figure::Average { sum: Decimal::from(170), n: 3 };
        assert_eq!(avg.average().unwrap().to_string(), "56.67");
        assert_eq!(Figure::Average { sum: Decimal::ZERO, n: 0 }.text(), "—");
    }

    #[test]
    fn parts_of_each_instance_add_up_to_the_tally_of_all() {
        let def =
            crate::definition::load::parse_stored("trainee_track", include_str!("../../workflows/trainee_track.toml"))
                .expect("the track definition loads");
        let datas = [
            json!({ "attendance_by_phase": { "1": 90, "2": 75 }, "levels": { "practice": 3 } }),
            json!({ "attendance_by_phase": { "1": 60 } }),
            json!({}),
        ];
        let datas: Vec<Data> = datas.iter().map(|d| d.as_object().cloned().unwrap()).collect();
        let day = time::macros::date!(2026 - 03 - 02);
        let rows: Vec<Row<'_>> = datas
            .iter()
            .zip(["in_training", "in_training", "assigned"])
            .map(|(data, state)| Row { state, outcome: None, data, started: day, stage_days: None })
            .collect();
        let mut summed: BTreeMap<(String, Vec<String>), Part> = BTreeMap::new();
        for row in &rows {
            for (key, part) in parts(&def, row) {
                summed.entry(key).or_default().add(&part, 1);
            }
        }
        let whole = tally(&def, rows.iter().copied());
        for (report, lines) in def.reports.iter().zip(whole) {
            let groups = summed.iter().filter(|((r, _), _)| *r == report.id).map(|((_, k), p)| (k.clone(), p.clone()));
            assert_eq!(lines_of(&def, report, groups), lines, "report {}", report.id);
        }
    }
}
