//! Moving a running instance to another version of its definition: whether it can move, and what
//! the move does to its state, its data and its timers. Pure: the store reads the instance and
//! applies the plan (see `store::migrate`).
//!
//! An instance runs on the version it started on to its end (see `store::definitions`); a move is
//! the one deliberate exception, so every condition under which the new version could not run the
//! instance is checked here, and an instance that fails any of them stays where it is.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use time::Date;

use crate::definition::{Definition, FieldKind, State, TimerWhen};
use crate::engine::decide::{Context, compute_fields};
use crate::engine::input::{Data, parse_kind};
use crate::engine::refusal::{FieldProblem, Refusal};
use crate::engine::timers::{TimerStart, base_of, deadline_of, timers_for_state};

/// Which state of the old version becomes which of the new, for states the new version renamed
/// or merged. A state not named here moves to the state of the same id, if the new version has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateMap(BTreeMap<String, String>);

/// Why a mapping is refused before any instance is looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("{0:?} is not a mapping: write old_state=new_state")]
    Malformed(String),
    #[error("state {state:?} is mapped twice")]
    Twice { state: String },
    #[error("the old version has no state {state:?} to map from")]
    UnknownFrom { state: String },
    #[error("the new version has no state {state:?} to map to")]
    UnknownTo { state: String },
    #[error("{state:?} is a final state of the old version: finished instances are not moved")]
    FromFinal { state: String },
    #[error("{state:?} is a final state of the new version: an instance ends by its own steps, not by a move")]
    ToFinal { state: String },
}

impl StateMap {
    /// Parses `old=new` pairs against the two versions: each side must name a state of its
    /// version, and neither may be final.
    pub fn parse<S: AsRef<str>>(pairs: &[S], from: &Definition, to: &Definition) -> Result<Self, MapError> {
        let mut map = BTreeMap::new();
        for pair in pairs {
            let pair = pair.as_ref().trim();
            let Some((old, new)) = pair.split_once('=').map(|(o, n)| (o.trim(), n.trim())) else {
                return Err(MapError::Malformed(pair.to_owned()));
            };
            if old.is_empty() || new.is_empty() {
                return Err(MapError::Malformed(pair.to_owned()));
            }
            match from.state(old) {
                None => return Err(MapError::UnknownFrom { state: old.to_owned() }),
                Some(s) if s.is_final => return Err(MapError::FromFinal { state: old.to_owned() }),
                Some(_) => {}
            }
            match to.state(new) {
                None => return Err(MapError::UnknownTo { state: new.to_owned() }),
                Some(s) if s.is_final => return Err(MapError::ToFinal { state: new.to_owned() }),
                Some(_) => {}
            }
            if map.insert(old.to_owned(), new.to_owned()).is_some() {
                return Err(MapError::Twice { state: old.to_owned() });
            }
        }
        Ok(Self(map))
    }

    /// The state of the new version an instance in `state` moves to, as mapped.
    pub fn get(&self, state: &str) -> Option<&str> {
        self.0.get(state).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pairs, for the audit trail: `{"old": "new"}`.
    pub fn to_json(&self) -> Value {
        Value::Object(self.0.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// A timer of the instance still pending, as the plan needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTimer {
    pub name: String,
    /// The day its period counts from; `None` for a timer made before bases were kept.
    pub base: Option<Date>,
    pub occurrence: u32,
}

/// The instance as the plan judges it.
#[derive(Debug, Clone, Copy)]
pub struct Running<'a> {
    pub state: &'a str,
    pub data: &'a Data,
    /// It has an outcome: it ended, and stays on the version it ended on.
    pub finished: bool,
    pub timers: &'a [PendingTimer],
}

/// What a move does to one instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub from_state: String,
    pub to_state: String,
    /// The data as the new version keeps it.
    pub data: Data,
    /// Fields the new version no longer has: their values are not carried over.
    pub dropped: Vec<String>,
    /// Fields whose value the new version keeps in another form (or as empty).
    pub changed: Vec<String>,
    /// The timers the instance has pending after the move: those it kept (counted from the same
    /// day as before) and those the new state adds (counted from now, or from their field).
    pub timers: Vec<TimerStart>,
    pub kept: Vec<String>,
    pub added: Vec<String>,
    pub cancelled: Vec<String>,
}

/// Why an instance stays on its version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stay {
    #[error("its state {state:?} is neither in the new version nor mapped")]
    StateGone { state: String },
    #[error("its state {state:?} is final in the new version: an instance ends by its own steps")]
    TargetFinal { state: String },
    #[error("{field:?} holds {value}, which the new version's field does not take: it {problem}")]
    Value { field: String, value: String, problem: ValueProblem },
    #[error("{0}")]
    Computed(Refusal),
    #[error("its timers cannot be counted on the new version: {0}")]
    Timer(Refusal),
}

/// What is wrong with a value under the new version's field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueProblem {
    #[error("{0}")]
    Field(FieldProblem),
    #[error("must be whole numbers by key")]
    NotAMap,
    #[error("must be rows: {0}")]
    Rows(String),
}

/// What the plan says of one instance.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Move(Box<Move>),
    Stay(Vec<Stay>),
    /// It has ended: it stays on the version it ended on.
    Finished,
}

/// Plans the move of one instance from `from` to `to`: every reason it cannot move, or what the
/// move does. `ctx.now` is when the timers the new state adds start counting.
pub fn plan(from: &Definition, to: &Definition, map: &StateMap, inst: Running<'_>, ctx: Context<'_>) -> Plan {
    let old_state = from.state(inst.state);
    if inst.finished || old_state.is_some_and(|s| s.is_final) {
        return Plan::Finished;
    }
    let mut reasons = Vec::new();
    let target = match map.get(inst.state).or_else(|| to.state(inst.state).map(|s| s.id.as_str())) {
        None => {
            reasons.push(Stay::StateGone { state: inst.state.to_owned() });
            None
        }
        // A mapping to a final state is refused when it is parsed; the same id may still be final.
        Some(id) => match to.state(id) {
            Some(s) if s.is_final => {
                reasons.push(Stay::TargetFinal { state: id.to_owned() });
                None
            }
            other => other,
        },
    };
    let (mut data, dropped, mut changed) = match carry_data(from, to, inst.data) {
        Ok(carried) => carried,
        Err(problems) => {
            reasons.extend(problems);
            (Data::new(), Vec::new(), Vec::new())
        }
    };
    if reasons.is_empty() {
        // Computed fields read the data as the new version keeps it; a new one appears here.
        let before = data.clone();
        if let Err(r) = compute_fields(to, &mut data, ctx.today()) {
            reasons.push(Stay::Computed(r));
        }
        for f in to.fields.iter().filter(|f| f.compute.is_some()) {
            if before.get(&f.id) != data.get(&f.id) && !changed.contains(&f.id) {
                changed.push(f.id.clone());
            }
        }
    }
    let Some(target) = target.filter(|_| reasons.is_empty()) else { return Plan::Stay(reasons) };
    match plan_timers(old_state, target, &data, inst.timers, ctx) {
        Ok(timers) => Plan::Move(Box::new(Move {
            from_state: inst.state.to_owned(),
            to_state: target.id.clone(),
            data,
            dropped,
            changed,
            timers: timers.start,
            kept: timers.kept,
            added: timers.added,
            cancelled: timers.cancelled,
        })),
        Err(r) => Plan::Stay(vec![Stay::Timer(r)]),
    }
}

/// The data as the new version keeps it: every value of one of its fields parsed as that field's
/// type (every problem reported), values of fields it no longer has left out and named. Entries
/// that are no field of either version are the engine's own (the last vote, escalations) and
/// are carried as they are.
fn carry_data(from: &Definition, to: &Definition, data: &Data) -> Result<(Data, Vec<String>, Vec<String>), Vec<Stay>> {
    let (mut out, mut dropped, mut changed, mut problems) = (Data::new(), Vec::new(), Vec::new(), Vec::new());
    for (key, value) in data {
        let Some(field) = to.field(key) else {
            if from.field(key).is_some() {
                dropped.push(key.clone());
            } else {
                out.insert(key.clone(), value.clone());
            }
            continue;
        };
        match carry_value(&field.kind, value) {
            Ok(Some(v)) => {
                if &v != value {
                    changed.push(key.clone());
                }
                out.insert(key.clone(), v);
            }
            Ok(None) => changed.push(key.clone()),
            Err(problem) => problems.push(Stay::Value { field: key.clone(), value: shown(value), problem }),
        }
    }
    if problems.is_empty() { Ok((out, dropped, changed)) } else { Err(problems) }
}

/// A value as a field of `kind` keeps it (`None`: empty), or why it cannot.
fn carry_value(kind: &FieldKind, value: &Value) -> Result<Option<Value>, ValueProblem> {
    match kind {
        // Written only by effects, never parsed from a form: their shape is checked here.
        FieldKind::Map => match value {
            Value::Object(m) if m.values().all(Value::is_i64) => Ok(Some(value.clone())),
            _ => Err(ValueProblem::NotAMap),
        },
        FieldKind::Table { columns, max_rows } => {
            let Value::Array(rows) = value else { return Err(ValueProblem::Rows("not a list".into())) };
            if rows.len() > *max_rows {
                return Err(ValueProblem::Rows(format!("{} rows, at most {max_rows}", rows.len())));
            }
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let Value::Object(cells) = row else { return Err(ValueProblem::Rows("a row is not a record".into())) };
                let mut kept = serde_json::Map::new();
                for column in columns {
                    let Some(cell) = cells.get(&column.id).filter(|c| !c.is_null()) else { continue };
                    let cell =
                        column.kind.parse(cell).map_err(|e| ValueProblem::Rows(format!("{}: {e}", column.id)))?;
                    kept.insert(column.id.clone(), cell);
                }
                out.push(Value::Object(kept));
            }
            Ok(Some(Value::Array(out)))
        }
        _ => parse_kind(kind, value).map_err(ValueProblem::Field),
    }
}

/// A value as a report shows it: short, on one line.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

struct TimerPlan {
    start: Vec<TimerStart>,
    kept: Vec<String>,
    added: Vec<String>,
    cancelled: Vec<String>,
}

/// The timers of the new state: one the instance has pending under the same id is kept, counted
/// again from the same base (the day it entered its state, or its field's date) and at the same
/// occurrence; one the old state also had but that is no longer pending has fallen due already
/// and is not started again; any other is started as entering the state now would. Pending
/// timers the new state does not have are cancelled.
fn plan_timers(
    old_state: Option<&State>,
    to: &State,
    data: &Data,
    pending: &[PendingTimer],
    ctx: Context<'_>,
) -> Result<TimerPlan, Refusal> {
    let mut plan = TimerPlan { start: Vec::new(), kept: Vec::new(), added: Vec::new(), cancelled: Vec::new() };
    let had = |id: &str| old_state.is_some_and(|s| s.timers.iter().any(|t| t.id == id));
    for spec in &to.timers {
        if let Some(p) = pending.iter().find(|p| p.name == spec.id) {
            let base = match (&spec.when, p.base) {
                (TimerWhen::AfterEntry(_), Some(base)) => base,
                _ => base_of(spec, data, ctx.now, ctx.offset)?,
            };
            let occurrence = if spec.repeat.is_some() { p.occurrence.max(1) } else { 1 };
            if spec.repeat.as_ref().and_then(|r| r.count).is_some_and(|count| occurrence > count) {
                continue;
            }
            let deadline = deadline_of(spec, base, occurrence, ctx.calendar, ctx.offset)
                .ok_or_else(|| Refusal::DeadlineOutOfRange { event: spec.fires.clone() })?;
            plan.start.push(TimerStart {
                name: spec.id.clone(),
                event: spec.fires.clone(),
                base,
                deadline,
                occurrence,
            });
            plan.kept.push(spec.id.clone());
        } else if !had(&spec.id) {
            // Started as entering the state would start it, `until` and all.
            let alone = State { timers: vec![spec.clone()], ..to.clone() };
            for t in timers_for_state(&alone, data, ctx.now, ctx.calendar, ctx.offset)? {
                plan.added.push(t.name.clone());
                plan.start.push(t);
            }
        }
    }
    let names: BTreeSet<&str> = plan.start.iter().map(|t| t.name.as_str()).collect();
    plan.cancelled = pending.iter().filter(|p| !names.contains(p.name.as_str())).map(|p| p.name.clone()).collect();
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::{Calendar, SourceFile, load};
    use serde_json::json;
    use time::macros::{date, datetime, offset};

    const ROLES: &str = "[role.admin]\nlabel = { zh = \"管理员\", en = \"Admin\" }\n";

    fn def(text: &str) -> Definition {
        let files = [
            SourceFile { path: "roles.toml".into(), text: ROLES.into() },
            SourceFile { path: "p.toml".into(), text: text.into() },
        ];
        let set = load(&files).unwrap_or_else(|p| panic!("{p}"));
        set.definitions.get("p").expect("p").as_ref().clone()
    }

    const V1: &str = r#"
id = "p"
label = { zh = "p", en = "p" }
initial = "a"
[start]
roles = ["admin"]
[[stage]]
id = "m"
label = { zh = "m", en = "m" }
[[state]]
id = "a"
stage = "m"
label = { zh = "a", en = "a" }
[[state.timer]]
id = "t"
fires = "go"
after = "10d"
[[state]]
id = "b"
stage = "m"
label = { zh = "b", en = "b" }
[[state]]
id = "z"
stage = "m"
final = true
outcome = "passed"
label = { zh = "z", en = "z" }
[[field]]
id = "n"
type = "text"
label = { zh = "n", en = "n" }
[[field]]
id = "old"
type = "text"
label = { zh = "o", en = "o" }
[[transition]]
event = "next"
from = "a"
to = "b"
roles = ["admin"]
label = { zh = "n", en = "n" }
[[transition]]
event = "go"
from = ["a", "b"]
to = "z"
roles = ["admin", "system"]
label = { zh = "g", en = "g" }
"#;

    fn v2() -> Definition {
        def(&V1
            .replace("id = \"b\"\nstage", "id = \"c\"\nstage")
            .replace("from = [\"a\", \"b\"]", "from = [\"a\", \"c\"]")
            .replace("to = \"b\"", "to = \"c\"")
            .replace("after = \"10d\"", "after = \"20d\"")
            .replace("id = \"n\"\ntype = \"text\"", "id = \"n\"\ntype = \"int\"\nmin = 0\nmax = 9")
            .replace("id = \"old\"", "id = \"new\""))
    }

    fn ctx(cal: &Calendar) -> Context<'_> {
        Context { now: datetime!(2026-03-10 09:00 +08:00), calendar: cal, offset: offset!(+8), people: None }
    }

    #[test]
    fn a_mapping_must_name_states_of_both_versions() {
        let (from, to) = (def(V1), v2());
        assert_eq!(StateMap::parse(&["b=x"], &from, &to), Err(MapError::UnknownTo { state: "x".into() }));
        assert_eq!(StateMap::parse(&["q=c"], &from, &to), Err(MapError::UnknownFrom { state: "q".into() }));
        assert_eq!(StateMap::parse(&["b=z"], &from, &to), Err(MapError::ToFinal { state: "z".into() }));
        assert_eq!(StateMap::parse(&["bc"], &from, &to), Err(MapError::Malformed("bc".into())));
        assert!(StateMap::parse(&["b = c"], &from, &to).is_ok());
    }

    #[test]
    fn a_kept_timer_counts_from_its_old_base_with_the_new_period() {
        let (from, to, cal) = (def(V1), v2(), Calendar::default());
        let data = json!({ "n": "3", "old": "x" }).as_object().cloned().unwrap();
        let timers = [PendingTimer { name: "t".into(), base: Some(date!(2026 - 03 - 02)), occurrence: 1 }];
        let running = Running { state: "a", data: &data, finished: false, timers: &timers };
        let Plan::Move(m) = plan(&from, &to, &StateMap::default(), running, ctx(&cal)) else { panic!("moves") };
        assert_eq!((m.dropped.clone(), m.changed.clone()), (vec!["old".to_owned()], vec!["n".to_owned()]));
        assert_eq!(m.data.get("n"), Some(&json!(3)));
        assert_eq!(m.kept, ["t"]);
        assert_eq!(m.timers[0].base, date!(2026 - 03 - 02));
        assert_eq!(m.timers[0].deadline.last_day, date!(2026 - 03 - 23), "20 days from the same base, past Sunday");
    }

    #[test]
    fn an_instance_stays_for_every_reason_it_has() {
        let (from, to, cal) = (def(V1), v2(), Calendar::default());
        let data = json!({ "n": "many" }).as_object().cloned().unwrap();
        let running = Running { state: "b", data: &data, finished: false, timers: &[] };
        let Plan::Stay(reasons) = plan(&from, &to, &StateMap::default(), running, ctx(&cal)) else { panic!("stays") };
        assert!(matches!(&reasons[0], Stay::StateGone { state } if state == "b"), "{reasons:?}");
        assert!(matches!(&reasons[1], Stay::Value { field, .. } if field == "n"), "{reasons:?}");
        let map = StateMap::parse(&["b=c"], &from, &to).unwrap();
        let data = json!({ "n": 4 }).as_object().cloned().unwrap();
        let running = Running { state: "b", data: &data, finished: false, timers: &[] };
        assert!(matches!(plan(&from, &to, &map, running, ctx(&cal)), Plan::Move(m) if m.to_state == "c"));
        let finished = Running { state: "z", data: &data, finished: true, timers: &[] };
        assert_eq!(plan(&from, &to, &map, finished, ctx(&cal)), Plan::Finished);
    }
}
