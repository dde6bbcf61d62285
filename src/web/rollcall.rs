//! A roll call as a table of ticks: one row per person of the roster, present and how they
//! voted, instead of typing every name into four boxes. The rows are decoded here, at the edge,
//! into the lists the engine counts (the `roll_call` effect's fields).

use serde_json::Value;

use crate::definition::{Definition, Effect, TallySpec, Transition};
use crate::engine::{Data, Refusal, TallyError};
use crate::web::i18n::Tr;
use crate::web::view::tally_text;

/// The form says it sent the table (an unticked table sends nothing else).
pub const MARKER: &str = "_rollcall";
/// A person's vote is sent as `ballot:NAME` = `yes`, `no` or `abstain` (nothing: no vote).
const BALLOT_PREFIX: &str = "ballot:";

pub struct RollCallView {
    pub prefix: String,
    /// The field the "present" ticks are sent as.
    pub present_field: String,
    pub rows: Vec<RollRow>,
    /// Names the refusal named that are not on the roster (sent by hand): shown above the table.
    pub strays: Vec<String>,
}

pub struct RollRow {
    /// The row's id in the page (`EVENT-rcN`), naming its controls.
    pub id: String,
    pub name: String,
    pub present: bool,
    /// `yes`, `no`, `abstain`, or empty for no vote.
    pub vote: &'static str,
    pub error: Option<String>,
}

/// The roll call a transition records, if it records one.
fn spec(t: &Transition) -> Option<&TallySpec> {
    t.effects.iter().find_map(|e| match e {
        Effect::RollCall(spec) => Some(spec),
        _ => None,
    })
}

/// The fields the table stands for: not shown as boxes of their own.
pub fn is_ballot(t: &Transition, field: &str) -> bool {
    spec(t).is_some_and(|s| [&s.present, &s.yes, &s.no, &s.abstain].iter().any(|f| *f == field))
}

fn names(data: &Data, field: &str) -> Vec<String> {
    match data.get(field) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::String(s)) => s.lines().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// The table for a transition that records a roll call, once the instance holds its roster;
/// `given` is what was sent back with a refusal, kept tick for tick.
pub fn view(tr: &Tr, t: &Transition, current: &Data, given: &Data, refusal: Option<&Refusal>) -> Option<RollCallView> {
    let spec = spec(t)?;
    let roster = names(current, &spec.roster);
    if roster.is_empty() {
        return None;
    }
    // By name, so a roster of thousands is drawn in one pass, not one scan of every list a row.
    let present: std::collections::HashSet<String> = names(given, &spec.present).into_iter().collect();
    let mut votes: std::collections::HashMap<String, &'static str> = std::collections::HashMap::new();
    for (vote, field) in [("yes", &spec.yes), ("no", &spec.no), ("abstain", &spec.abstain)] {
        for name in names(given, field) {
            votes.entry(name).or_insert(vote);
        }
    }
    let problems: &[TallyError] = match refusal {
        Some(Refusal::Ballots(all)) => all,
        _ => &[],
    };
    let named = |e: &TallyError| match e {
        TallyError::NotOnRoster { name } | TallyError::VotedButAbsent { name } | TallyError::VotedTwice { name } => {
            Some(name.clone())
        }
        _ => None,
    };
    let mut errors_of: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for e in problems {
        if let Some(name) = named(e) {
            errors_of.entry(name).or_default().push(tally_text(tr, None, e));
        }
    }
    let on_roster: std::collections::HashSet<&String> = roster.iter().collect();
    let rows = roster
        .iter()
        .enumerate()
        .map(|(i, name)| RollRow {
            id: format!("{}-rc{}", t.event, i + 1),
            name: name.clone(),
            present: present.contains(name),
            vote: votes.get(name).copied().unwrap_or(""),
            error: errors_of.get(name).map(|errors| errors.join(tr.t("punct.list"))),
        })
        .collect();
    let strays = problems
        .iter()
        .filter(|e| named(e).is_some_and(|n| !on_roster.contains(&n)))
        .map(|e| tally_text(tr, None, e))
        .collect();
    Some(RollCallView { prefix: t.event.clone(), present_field: spec.present.clone(), rows, strays })
}

/// The ticks of a roll-call table as the lists the engine counts, in the roster's order as
/// sent. A form without the table (lists typed one per line) is left as it is.
pub fn decode(def: &Definition, t: &Transition, form: &[(String, String)], given: &mut Data) {
    let Some(spec) = spec(t) else { return };
    if !form.iter().any(|(k, _)| k == MARKER) {
        return;
    }
    let mut lists: [(&str, Vec<String>); 4] =
        [("present", Vec::new()), ("yes", Vec::new()), ("no", Vec::new()), ("abstain", Vec::new())];
    // Names already taken per list, so a hostile form of many names costs one look-up each.
    let mut seen: [std::collections::HashSet<&str>; 4] = Default::default();
    for (key, value) in form {
        let (list, name) = if key == &spec.present {
            ("present", value.as_str())
        } else if let Some(name) = key.strip_prefix(BALLOT_PREFIX) {
            (value.as_str(), name)
        } else {
            continue;
        };
        if let Some(i) = lists.iter().position(|(l, _)| *l == list)
            && seen[i].insert(name)
        {
            lists[i].1.push(name.to_owned());
        }
    }
    let fields = [&spec.present, &spec.yes, &spec.no, &spec.abstain];
    for (field, (_, names)) in fields.into_iter().zip(lists) {
        if def.field(field).is_some() {
            given.insert(field.clone(), Value::Array(names.into_iter().map(Value::String).collect()));
        }
    }
}
