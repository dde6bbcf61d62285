//! The decision itself: is an event allowed now, and what does it do.

use std::collections::BTreeSet;

use serde_json::Value;
use time::{OffsetDateTime, UtcOffset};

use crate::definition::calendar::{format_date, parse_date};
use crate::definition::values::Period;
use crate::definition::{Calendar, Definition, Effect, Outcome, SYSTEM_ROLE, Transition};
use crate::engine::actor::{Actor, PeopleFacts};
use crate::engine::guards::Facts;
use crate::engine::input::{Data, parse_input};
use crate::engine::refusal::{FieldError, FieldProblem, GuardFailure, Refusal, TallyError};
use crate::engine::timers::{TimerStart, shift, timers_for_state};
use crate::engine::vote::{VoteCounts, count_vote};
use crate::engine::{ESCALATIONS_KEY, VOTE_KEY, guards};

/// What a decision may depend on besides the instance: the time and how days are counted.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub now: OffsetDateTime,
    pub calendar: &'a Calendar,
    pub offset: UtcOffset,
    /// Who holds which role and whose written delegation, where the definition's guards ask.
    pub people: Option<&'a PeopleFacts>,
}

impl Context<'_> {
    /// Today in the configured offset.
    pub fn today(&self) -> time::Date {
        self.now.to_offset(self.offset).date()
    }
}

/// What firing an event does, for the store to apply as one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub event: String,
    pub from: String,
    pub to: String,
    /// The state is entered (even the same one again): its escalations are over. False for a
    /// transition without `to`.
    pub enters: bool,
    /// The old state's timers are cancelled and the new state's started: on entering another
    /// state, or the same one again where the transition says `restart_timers`.
    pub restarts_timers: bool,
    pub data: Data,
    /// The values the actor gave, as parsed: what the audit trail records.
    pub input: Data,
    pub timers: Vec<TimerStart>,
    pub spawns: Vec<SpawnOrder>,
    /// Events to fire (as the engine) on the instance's children still open.
    pub close_children: Vec<String>,
    /// Set when the new state is final.
    pub outcome: Option<Outcome>,
    /// The result of a tally this event made, with the figures that decided it.
    pub vote: Option<serde_json::Value>,
    /// A signature given under a written delegation: for whom, and the letter's number.
    pub delegation: Option<(String, i64)>,
    /// Numbers the store draws, in the step's transaction, into these fields.
    pub numbers: Vec<NumberOrder>,
    /// The rows `add_row` effects added, by table field, for the audit trail.
    pub rows_added: Vec<(String, Value)>,
    /// The file the step carries, for its audit event to record.
    pub attachment: Option<Attached>,
}

/// A file a step carries, as received and stored: what the engine checks against the
/// transition's `attachment`, and what the step's audit event records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    pub id: i64,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
}

/// A number to draw: from the counter `scope`, written into `into` as `pattern` says.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberOrder {
    pub into: String,
    pub scope: String,
    pub year: i32,
    pub pattern: crate::definition::NumberPattern,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpawnOrder {
    pub definition: String,
    pub data: Data,
}

/// A new instance: its first state, data and timers.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub state: String,
    pub data: Data,
    pub timers: Vec<TimerStart>,
}

/// An event the actor could fire from the current state, or the reason they cannot.
#[derive(Debug, Clone)]
pub struct EventOption<'d> {
    pub transition: &'d Transition,
    pub refusal: Option<Refusal>,
}

fn permitted(def: &Definition, t: &Transition, data: &Data, actor: &Actor) -> Result<(), Refusal> {
    if actor.is_system() {
        return if t.roles.iter().any(|r| r == SYSTEM_ROLE) {
            Ok(())
        } else {
            Err(Refusal::RoleNotAllowed { roles: t.roles.clone() })
        };
    }
    if t.is_system_only() {
        return Err(Refusal::SystemOnly { event: t.event.clone() });
    }
    let human_roles: Vec<String> = t.roles.iter().filter(|r| *r != SYSTEM_ROLE).cloned().collect();
    if !human_roles.iter().any(|r| actor.roles.contains(r)) {
        return Err(Refusal::RoleNotAllowed { roles: human_roles });
    }
    if !actor.acts_as_any(def, data, &human_roles) {
        let field = def
            .scopes
            .iter()
            .find(|s| human_roles.contains(&s.role) && actor.roles.contains(&s.role))
            .map_or_else(String::new, |s| s.field.clone());
        return Err(Refusal::OutOfScope { field });
    }
    Ok(())
}

/// The events a person could fire now, each allowed or refused with its reason. Guards over the
/// values the event asks for are left to the firing, where those values are known.
/// An event declared more than once from the state is one option: the first declaration that
/// would be allowed, else the last one's refusal.
pub fn options<'d>(
    def: &'d Definition,
    state: &str,
    data: &Data,
    actor: &Actor,
    people: Option<&PeopleFacts>,
    today: time::Date,
) -> Vec<EventOption<'d>> {
    let facts = Facts { people, today, tables: def };
    let mut seen = BTreeSet::new();
    def.transitions_from(state)
        .filter(|t| !t.is_system_only() && seen.insert(t.event.as_str()))
        .filter_map(|first| {
            let mut last = None;
            for t in def.transitions_for(state, &first.event) {
                let refusal = option_refusal(def, t, data, actor, &facts);
                if refusal.is_none() {
                    return Some(EventOption { transition: t, refusal });
                }
                last = Some(EventOption { transition: t, refusal });
            }
            last
        })
        .collect()
}

/// Why `actor` could not fire `t` now, judged without the values it asks for.
fn option_refusal(def: &Definition, t: &Transition, data: &Data, actor: &Actor, facts: &Facts<'_>) -> Option<Refusal> {
    permitted(def, t, data, actor).err().or_else(|| {
        t.guards
            .iter()
            .filter(|g| !guards::fields_read(&g.guard).iter().any(|f| t.ask.iter().chain(&t.optional).any(|a| a == f)))
            .find_map(|g| {
                guards::check(&g.guard, data, actor, facts)
                    .err()
                    .map(|e| Refusal::Guard(e, g.message.clone().map(Box::new)))
            })
    })
}

/// Values of fields that pick from a list of the instance which that list does not hold.
fn not_offered(def: &Definition, input: &Data, data: &Data) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (name, value) in input {
        let Some(from) = def.field(name).and_then(|f| f.pick_from.as_ref()) else { continue };
        let offered: Vec<&Value> =
            data.get(from).and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        if let Some(item) = items.into_iter().find(|i| !offered.contains(i)) {
            let item = item.as_str().map_or_else(|| item.to_string(), str::to_owned);
            errors.push(FieldError {
                field: name.clone(),
                problem: FieldProblem::NotOffered { item, from: from.clone() },
            });
        }
    }
    errors
}

/// Two values alike; lists alike whatever their order (a roster pasted in another order is the
/// same roster).
fn same_value(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a.as_array(), b.as_array()) {
        (Some(x), Some(y)) => {
            let key = |v: &serde_json::Value| v.to_string();
            let (mut x, mut y): (Vec<String>, Vec<String>) = (x.iter().map(key).collect(), y.iter().map(key).collect());
            x.sort_unstable();
            y.sort_unstable();
            x == y
        }
        _ => a == b,
    }
}

/// Values given that change what a field holds (the unit's register, for a roster) without the
/// reason its definition asks for such a change.
fn changes_without_reason(def: &Definition, input: &Data, data: &Data) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (name, value) in input {
        let Some(reason) = def.field(name).and_then(|f| f.change_reason.as_ref()) else { continue };
        let changed = data.get(name).is_some_and(|old| !old.is_null() && !same_value(old, value));
        let given = input.get(reason).is_some_and(|r| r.as_str().is_none_or(|s| !s.trim().is_empty()));
        if changed && !given && !errors.iter().any(|e: &FieldError| &e.field == reason) {
            errors.push(FieldError {
                field: reason.clone(),
                problem: FieldProblem::ReasonNeeded { field: name.clone() },
            });
        }
    }
    errors
}

pub fn decide(
    def: &Definition,
    state: &str,
    data: &Data,
    actor: &Actor,
    event: &str,
    given: &Data,
    ctx: Context<'_>,
) -> Result<Decision, Refusal> {
    decide_attached(def, state, data, actor, event, given, None, ctx)
}

/// [`decide`] for a step that may carry a file: a transition that requires one is refused
/// without it, and one that takes none is refused with it.
#[expect(clippy::too_many_arguments, reason = "decide's inputs and the file the step carries")]
pub fn decide_attached(
    def: &Definition,
    state: &str,
    data: &Data,
    actor: &Actor,
    event: &str,
    given: &Data,
    attached: Option<&Attached>,
    ctx: Context<'_>,
) -> Result<Decision, Refusal> {
    if def.state(state).is_some_and(|s| s.is_final) {
        return Err(Refusal::Finished { state: state.to_owned() });
    }
    // The first declaration whose roles and guards hold is taken, and what it does is then its
    // own to succeed or fail: a failing effect does not fall through to the next declaration.
    let mut refused = None;
    for t in def.transitions_for(state, event) {
        match admitted(def, t, data, actor, given, ctx).and_then(|ok| carries(t, attached).map(|()| ok)) {
            Ok((input, next)) => {
                let mut decision = decide_by(def, t, state, input, next, actor, event, ctx)?;
                decision.attachment = attached.cloned();
                return Ok(decision);
            }
            Err(refusal) => refused = Some(refusal),
        }
    }
    // Declared more than once, the event is refused for the last declaration's reason: the
    // others are its exceptions, and the last is the rule.
    Err(refused.unwrap_or_else(|| {
        if def.has_event(event) {
            Refusal::NotFromState { event: event.to_owned(), state: state.to_owned() }
        } else {
            Refusal::UnknownEvent { event: event.to_owned() }
        }
    }))
}

/// Whether the step carries the file its declaration asks for, and none it does not take.
fn carries(t: &Transition, attached: Option<&Attached>) -> Result<(), Refusal> {
    match (&t.attachment, attached) {
        (Some(spec), None) if spec.required => Err(Refusal::AttachmentRequired(Box::new(spec.label.clone()))),
        (None, Some(_)) => Err(Refusal::AttachmentNotTaken),
        _ => Ok(()),
    }
}

/// Whether one declaration of the event takes it: the actor may, the values given parse, and its
/// guards hold over the data with them. Gives the values as parsed and the data with them.
fn admitted(
    def: &Definition,
    t: &Transition,
    data: &Data,
    actor: &Actor,
    given: &Data,
    ctx: Context<'_>,
) -> Result<(Data, Data), Refusal> {
    permitted(def, t, data, actor)?;
    let input = parse_input(|f| def.field(f), &t.ask, &t.optional, given).map_err(Refusal::Input)?;
    let mut errors = not_offered(def, &input, data);
    errors.extend(changes_without_reason(def, &input, data));
    if !errors.is_empty() {
        return Err(Refusal::Input(errors));
    }
    let mut next = data.clone();
    next.extend(input.clone());
    let facts = Facts { people: ctx.people, today: ctx.today(), tables: def };
    for g in &t.guards {
        guards::check(&g.guard, &next, actor, &facts)
            .map_err(|e| Refusal::Guard(e, g.message.clone().map(Box::new)))?;
    }
    Ok((input, next))
}

/// The decision of the declaration that took the event: its effects, the state it enters, the
/// timers that start.
#[expect(clippy::too_many_arguments, reason = "the decision's inputs, passed through as they are")]
fn decide_by(
    def: &Definition,
    t: &Transition,
    state: &str,
    input: Data,
    mut next: Data,
    actor: &Actor,
    event: &str,
    ctx: Context<'_>,
) -> Result<Decision, Refusal> {
    let mut spawns = Vec::new();
    let mut rows_added = Vec::new();
    for effect in &t.effects {
        if let Effect::AddRow { table, from } = effect {
            rows_added.push((table.clone(), add_row(def, table, from, &input, &mut next)?));
        }
        apply_effect(def, effect, &mut next, &mut spawns, actor, event, ctx)?;
    }
    compute_fields(def, &mut next, ctx.today())?;
    let tallied = t.effects.iter().any(|e| matches!(e, Effect::Tally(_) | Effect::RollCall(_)));
    let vote = if tallied { next.get(VOTE_KEY).cloned() } else { None };
    let to = t.to.clone().unwrap_or_else(|| state.to_owned());
    let target = def.state(&to).ok_or_else(|| Refusal::UnknownEvent { event: event.to_owned() })?;
    let enters = t.to.is_some();
    // Back into the same state, its timers run on (a schedule belongs to the state, not to the
    // last step taken in it) unless the transition restarts them.
    let restarts_timers = enters && (to != state || t.restart_timers);
    if enters {
        next.remove(ESCALATIONS_KEY);
    }
    let timers =
        if restarts_timers { timers_for_state(target, &next, ctx.now, ctx.calendar, ctx.offset)? } else { Vec::new() };
    let year = ctx.now.to_offset(ctx.offset).year();
    let numbers = t
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Number { into, pattern } => Some(NumberOrder {
                into: into.clone(),
                scope: pattern.scope(&def.id, year),
                year,
                pattern: pattern.clone(),
            }),
            _ => None,
        })
        .collect();
    let delegation = t.effects.iter().find_map(|e| match e {
        Effect::Sign { for_field, .. } => {
            let person = next.get(for_field).and_then(Value::as_str)?;
            Some((person.to_owned(), actor.acts_for(person).flatten()?))
        }
        _ => None,
    });
    Ok(Decision {
        event: event.to_owned(),
        from: state.to_owned(),
        to,
        enters,
        restarts_timers,
        data: next,
        input,
        timers,
        spawns,
        close_children: t
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::CloseChildren(event) => Some(event.clone()),
                _ => None,
            })
            .collect(),
        outcome: if target.is_final { target.outcome } else { None },
        vote,
        delegation,
        numbers,
        rows_added,
        attachment: None,
    })
}

/// Adds a row to a table field from the fields the transition took, each value checked against
/// its column (its bounds, its options): the row that was added. Two rows alike are two rows.
/// A row from the values this step was given (never from what an earlier row left), added to the
/// table; the fields it was typed into are the row's form, so they are emptied once it is added.
fn add_row(
    def: &Definition,
    table: &str,
    from: &[(String, String)],
    given: &Data,
    data: &mut Data,
) -> Result<Value, Refusal> {
    let (columns, max_rows) = def.table(table).ok_or_else(|| Refusal::UnknownEvent { event: table.to_owned() })?;
    let mut row = serde_json::Map::new();
    let mut errors = Vec::new();
    for column in columns {
        let Some((_, field)) = from.iter().find(|(c, _)| c == &column.id) else { continue };
        let value = given.get(field).cloned().unwrap_or(Value::Null);
        match crate::engine::input::parse_kind(&column.kind.field_kind(), &value) {
            Ok(Some(value)) => {
                row.insert(column.id.clone(), value);
            }
            Ok(None) => {}
            Err(problem) => errors.push(FieldError { field: field.clone(), problem }),
        }
    }
    if !errors.is_empty() {
        return Err(Refusal::Input(errors));
    }
    let row = Value::Object(row);
    let rows = data.entry(table.to_owned()).or_insert_with(|| Value::Array(Vec::new()));
    if !rows.is_array() {
        *rows = Value::Array(Vec::new());
    }
    if let Value::Array(rows) = rows {
        if rows.len() >= max_rows {
            return Err(Refusal::TableFull { table: table.to_owned(), max: max_rows });
        }
        rows.push(row.clone());
    }
    for (_, field) in from {
        data.remove(field);
    }
    Ok(row)
}

fn int(data: &Data, field: &str) -> Option<i64> {
    data.get(field).and_then(Value::as_i64)
}

fn apply_effect(
    def: &Definition,
    effect: &Effect,
    data: &mut Data,
    spawns: &mut Vec<SpawnOrder>,
    actor: &Actor,
    event: &str,
    ctx: Context<'_>,
) -> Result<(), Refusal> {
    let today = ctx.now.to_offset(ctx.offset).date();
    match effect {
        Effect::Spawn(spec) => {
            let items = match data.get(&spec.for_each) {
                Some(Value::Array(items)) => items.clone(),
                _ => Vec::new(),
            };
            for item in items {
                let mut child = Data::new();
                child.insert(spec.as_field.clone(), item);
                for f in &spec.copy {
                    if let Some(v) = data.get(f) {
                        child.insert(f.clone(), v.clone());
                    }
                }
                spawns.push(SpawnOrder { definition: spec.definition.clone(), data: child });
            }
        }
        Effect::Tally(spec) => {
            let count = |field: &String| {
                int(data, field)
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or_else(|| Refusal::Tally(TallyError::MissingCount { field: field.clone() }))
            };
            let counts = VoteCounts {
                roster: count(&spec.roster)?,
                present: count(&spec.present)?,
                yes: count(&spec.yes)?,
                no: count(&spec.no)?,
                abstain: count(&spec.abstain)?,
            };
            record_vote(def, &spec.rule, counts, data, event)?;
        }
        Effect::RollCall(spec) => {
            let counts = roll_call(data, spec).map_err(Refusal::Ballots)?;
            record_vote(def, &spec.rule, counts, data, event)?;
        }
        Effect::Append { list, value } => {
            // A list given appends each of its items: publication in many units at once.
            let new: Vec<Value> = match data.get(value) {
                Some(Value::Array(items)) => items.clone(),
                Some(Value::Null) | None => Vec::new(),
                Some(item) => vec![item.clone()],
            };
            if !new.is_empty() {
                let items = data.entry(list.clone()).or_insert_with(|| Value::Array(Vec::new()));
                if !items.is_array() {
                    *items = Value::Array(Vec::new());
                }
                if let Value::Array(items) = items {
                    for item in new {
                        if !items.contains(&item) {
                            items.push(item);
                        }
                    }
                }
            }
        }
        Effect::Keep { map, key, value } => {
            let key = data.get(key).and_then(|k| match k {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            if let (Some(key), Some(v)) = (key, data.get(value).cloned().filter(Value::is_i64)) {
                match data.get_mut(map) {
                    Some(Value::Object(m)) => {
                        m.insert(key, v);
                    }
                    _ => {
                        data.insert(map.clone(), serde_json::json!({ key: v }));
                    }
                }
            }
        }
        Effect::Count { list, into } => {
            let n = data.get(list).and_then(Value::as_array).map_or(0, Vec::len);
            data.insert(into.clone(), Value::from(n));
        }
        Effect::Set { field, value } => {
            data.insert(field.clone(), value.clone());
        }
        Effect::Clear(field) => {
            data.remove(field);
        }
        Effect::Stamp(field) => {
            data.insert(field.clone(), Value::String(format_date(today)));
        }
        Effect::Sign { for_field, on, signer, delegation } => {
            data.insert(on.clone(), Value::String(format_date(today)));
            data.insert(signer.clone(), Value::String(actor.name.clone()));
            let letter = data.get(for_field).and_then(Value::as_str).and_then(|p| actor.acts_for(p)).flatten();
            if let Some(field) = delegation {
                match letter {
                    Some(id) => data.insert(field.clone(), Value::from(id)),
                    None => data.remove(field),
                };
            }
        }
        Effect::AddYears { into, date, years, last_day } => {
            let start = data.get(date).and_then(Value::as_str).and_then(parse_date);
            let years = int(data, years).and_then(|y| u32::try_from(y).ok());
            let anniversary =
                start.zip(years).and_then(|(start, years)| shift(start, Period::Months(years * 12), false));
            // A term from 2026-10-09 of three years runs to 2029-10-08, the day before.
            let end = if *last_day { anniversary.and_then(time::Date::previous_day) } else { anniversary };
            if let Some(end) = end {
                data.insert(into.clone(), Value::String(format_date(end)));
            }
        }
        Effect::Increment(field) => {
            let n = int(data, field).unwrap_or(0);
            data.insert(field.clone(), Value::from(n + 1));
        }
        // Carried out by the store, on the children (see `Decision::close_children`), and with
        // the counter (see `Decision::numbers`).
        Effect::CloseChildren(_) | Effect::Number { .. } => {}
        // Added before the other effects of its step run, where the row is kept for the audit.
        Effect::AddRow { .. } => {}
        Effect::Escalate(role) => {
            let entry = serde_json::json!({ "role": role, "event": event, "by": actor.name, "on": format_date(today) });
            match data.get_mut(ESCALATIONS_KEY) {
                Some(Value::Array(list)) => list.push(entry),
                _ => {
                    data.insert(ESCALATIONS_KEY.into(), Value::Array(vec![entry]));
                }
            }
        }
    }
    Ok(())
}

/// Counts a vote by the rule and keeps the result, with its figures, in the instance's data.
fn record_vote(def: &Definition, rule: &str, counts: VoteCounts, data: &mut Data, event: &str) -> Result<(), Refusal> {
    let rule_spec = def.vote_rules.get(rule).ok_or_else(|| Refusal::UnknownEvent { event: event.to_owned() })?;
    let result = count_vote(rule_spec, counts).map_err(Refusal::Tally)?;
    let mut value = serde_json::to_value(&result).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("rule".into(), Value::String(rule.to_owned()));
    }
    data.insert(VOTE_KEY.into(), value);
    Ok(())
}

/// The counts of a vote by name, after checking that every name adds up: those present are on
/// the roster, those who voted are present, and nobody voted twice. Every name that does not
/// add up is named at once, so a roll call of 48 is corrected in one go.
fn roll_call(data: &Data, spec: &crate::definition::TallySpec) -> Result<VoteCounts, Vec<TallyError>> {
    let names = |field: &str| -> Vec<String> {
        data.get(field)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let (roster, present) = (names(&spec.roster), names(&spec.present));
    // Looked up by name: a roll call of thousands is checked in one pass.
    let (on_roster, here): (BTreeSet<&String>, BTreeSet<&String>) = (roster.iter().collect(), present.iter().collect());
    let mut problems: Vec<TallyError> = present
        .iter()
        .filter(|p| !on_roster.contains(p))
        .map(|name| TallyError::NotOnRoster { name: name.clone() })
        .collect();
    let (yes, no, abstain) = (names(&spec.yes), names(&spec.no), names(&spec.abstain));
    let mut voted = BTreeSet::new();
    for name in yes.iter().chain(&no).chain(&abstain) {
        if !voted.insert(name) {
            problems.push(TallyError::VotedTwice { name: name.clone() });
        } else if !here.contains(name) {
            problems.push(TallyError::VotedButAbsent { name: name.clone() });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let n = |v: &Vec<String>| v.len() as u64;
    Ok(VoteCounts { roster: n(&roster), present: n(&present), yes: n(&yes), no: n(&no), abstain: n(&abstain) })
}

/// Starting an instance by hand: the actor must hold a start role, and give what it asks.
pub fn start(def: &Definition, actor: &Actor, given: &Data, ctx: Context<'_>) -> Result<Started, Refusal> {
    let rule = def.start.as_ref().ok_or(Refusal::NotStartable)?;
    if !actor.is_system() && !rule.roles.iter().any(|r| actor.roles.contains(r)) {
        return Err(Refusal::RoleNotAllowed { roles: rule.roles.clone() });
    }
    let data = parse_input(|f| def.field(f), &rule.ask, &rule.optional, given).map_err(Refusal::Input)?;
    if !actor.is_system() && !rule.roles.iter().any(|r| actor.acts_as(def, &data, r)) {
        return Err(Refusal::OutOfScope { field: def.scopes.first().map_or_else(String::new, |s| s.field.clone()) });
    }
    spawned(def, data, ctx)
}

/// Every computed field from the data as it now is, in declaration order (one may read those
/// before it). A field whose inputs are not all given yet has no value; one that cannot be
/// computed (no row in a reference table, a division by zero) refuses the step, naming why.
pub fn compute_fields(def: &Definition, data: &mut Data, today: time::Date) -> Result<(), Refusal> {
    if !def.fields.iter().any(|f| f.compute.is_some()) {
        return Ok(());
    }
    // Later computed fields read the earlier ones exact; only what is kept is rounded to the fen
    // (a figure per person of 1179.9966 is below a standard of 1180, though it is kept as 1180.00).
    // The exact values are written in as they are computed, and replaced by the kept ones after.
    let mut kept = Vec::new();
    for f in &def.fields {
        let Some(expr) = &f.compute else { continue };
        match expr.eval(&crate::expr::Env { data, today, tables: def }) {
            Ok(v) => {
                // A whole number where money is kept is money (the sum of no measures is 0.00).
                let v = match (&f.kind, v) {
                    (crate::definition::FieldKind::Money { .. }, crate::expr::Value::Int(i)) => {
                        crate::expr::Value::Decimal(i.into())
                    }
                    (_, v) => v,
                };
                data.insert(f.id.clone(), v.to_exact_json());
                let value = v.to_json();
                let options = def.choice_options(&f.id);
                if !options.is_empty() && !options.iter().any(|o| value.as_str() == Some(o.id.as_str())) {
                    let why = crate::expr::EvalError::NotAnOption(v.to_string());
                    return Err(Refusal::Guard(GuardFailure::NotComputed { field: f.id.clone(), why }, None));
                }
                kept.push((f.id.clone(), value));
            }
            Err(crate::expr::EvalError::Unset(_)) => {
                data.remove(&f.id);
            }
            Err(why) => return Err(Refusal::Guard(GuardFailure::NotComputed { field: f.id.clone(), why }, None)),
        }
    }
    data.extend(kept);
    Ok(())
}

/// An instance started by a parent's fan-out, with the data the parent gave it.
pub fn spawned(def: &Definition, mut data: Data, ctx: Context<'_>) -> Result<Started, Refusal> {
    compute_fields(def, &mut data, ctx.today())?;
    let initial = def.state(&def.initial).ok_or(Refusal::NotStartable)?;
    let timers = timers_for_state(initial, &data, ctx.now, ctx.calendar, ctx.offset)?;
    Ok(Started { state: def.initial.clone(), data, timers })
}

#[cfg(test)]
mod tests {
    use super::same_value;
    use serde_json::json;

    #[test]
    fn a_list_in_another_order_is_the_same_value() {
        assert!(same_value(&json!(["王伟", "李娜"]), &json!(["李娜", "王伟"])), "a roster pasted in another order");
        assert!(!same_value(&json!(["王伟", "李娜"]), &json!(["王伟"])), "one name fewer is a change");
        assert!(!same_value(&json!(["王伟", "王伟"]), &json!(["王伟", "李娜"])));
        assert!(same_value(&json!(48), &json!(48)) && !same_value(&json!(48), &json!(30)));
    }
}
