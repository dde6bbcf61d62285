//! "My work": the instances where a person may do something now, and those escalated to a role
//! they hold, most urgent first. The rule lives here, once; the page only words it.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;
use time::OffsetDateTime;

use crate::definition::{Definition, Effect, SYSTEM_ROLE, ScopeMatch};
use crate::engine::{self, Actor, ESCALATIONS_KEY};
use crate::runtime::{Runtime, RuntimeError};
use crate::store::instances::{self, InstanceRow};
use crate::store::timers;

/// At most this many candidates are read per process: the list is a work list, not a report.
const CANDIDATES: u64 = 500;

/// One instance waiting for the person.
pub struct Waiting {
    pub row: InstanceRow,
    pub definition: Arc<Definition>,
    /// The tasks (events required of someone) the person may do now.
    pub allowed: Vec<String>,
    /// Escalated to one of the person's roles.
    pub escalated: bool,
    /// The earliest pending deadline.
    pub due: Option<OffsetDateTime>,
    /// The years without a published calendar the earliest deadline rests on.
    pub due_provisional: Vec<i32>,
}

/// The states of `def` where `actor` might have a task (a step that is not a task — a record
/// made any day — puts nothing on a list) or find an escalation: only there are candidates read.
fn states_for<'a>(def: &'a Definition, actor: &Actor) -> BTreeSet<&'a str> {
    def.transitions
        .iter()
        .filter(|t| {
            (t.task && t.roles.iter().any(|r| r != SYSTEM_ROLE && actor.roles.contains(r)))
                || t.effects.iter().any(|e| matches!(e, Effect::Escalate(role) if actor.roles.contains(role)))
        })
        .flat_map(|t| t.from.iter().map(String::as_str))
        .collect()
}

/// The instances of `def` the actor could act on by their data, as the engine's scope check
/// judges them (any of the roles that bring them to the list, within all of its scopes), so the
/// list reads only those. None (every candidate is read) when one of those roles has no scope,
/// or when escalations go to one of the actor's roles: an escalation reaches all who hold it.
fn within(def: &Definition, actor: &Actor) -> Option<instances::Within> {
    let escalated = def
        .transitions
        .iter()
        .flat_map(|t| &t.effects)
        .any(|e| matches!(e, Effect::Escalate(role) if actor.roles.contains(role)));
    if escalated {
        return None;
    }
    let acting: BTreeSet<&String> = def
        .transitions
        .iter()
        .filter(|t| t.task)
        .flat_map(|t| &t.roles)
        .filter(|r| *r != SYSTEM_ROLE && actor.roles.contains(*r))
        .collect();
    let mut any = Vec::new();
    for role in acting {
        let scopes: Vec<_> = def.scopes.iter().filter(|s| &s.role == role).collect();
        if scopes.is_empty() {
            return None;
        }
        any.push(
            scopes
                .into_iter()
                .map(|s| {
                    let values = match s.matches {
                        // A substitute's list holds the absent person's work: judged by their name.
                        ScopeMatch::Person => vec![actor.person().to_owned()],
                        ScopeMatch::Unit => actor.units.get(role).into_iter().flatten().cloned().collect(),
                    };
                    (s.field.clone(), values)
                })
                .collect(),
        );
    }
    Some(any)
}

fn escalated_to(row: &InstanceRow, actor: &Actor) -> bool {
    matches!(row.data.get(ESCALATIONS_KEY), Some(Value::Array(list))
        if list.iter().any(|e| e.get("role").and_then(Value::as_str).is_some_and(|r| actor.roles.contains(r))))
}

/// What waits for `actor`: escalated first, then the nearest deadlines, then the newest.
pub async fn waiting_for(rt: &Runtime, actor: &Actor) -> Result<Vec<Waiting>, RuntimeError> {
    let mut rows = Vec::new();
    for def in rt.definitions().definitions.values() {
        let states: Vec<&str> = states_for(def, actor).into_iter().collect();
        let within = within(def, actor);
        rows.extend(instances::open_in_states(rt.db(), &def.id, &states, within.as_ref(), CANDIDATES).await?);
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut deadlines = timers::earliest_due(rt.db(), &ids).await?;
    let mut out = Vec::new();
    // Who holds the roles a definition judges people by, read once per definition.
    let mut facts: std::collections::BTreeMap<i64, Option<engine::PeopleFacts>> = Default::default();
    for row in rows {
        let definition = rt.registry().by_row(rt.db(), row.definition_id).await?;
        if let std::collections::btree_map::Entry::Vacant(e) = facts.entry(row.definition_id) {
            e.insert(rt.people_facts(&definition).await?);
        }
        let people = facts.get(&row.definition_id).and_then(Option::as_ref).map(|f| f.in_instance(row.id));
        let actor = actor.in_instance(row.id);
        let allowed: Vec<String> =
            engine::options(&definition, &row.state, &row.data, &actor, people.as_ref(), rt.today())
                .into_iter()
                .filter(|o| o.refusal.is_none() && o.transition.task)
                .map(|o| o.transition.event.clone())
                .collect();
        let escalated = escalated_to(&row, &actor);
        if allowed.is_empty() && !escalated {
            continue;
        }
        let (due, due_provisional) =
            deadlines.remove(&row.id).map_or((None, Vec::new()), |d| (Some(d.due), d.provisional));
        out.push(Waiting { row, definition, allowed, escalated, due, due_provisional });
    }
    sort(&mut out, |w| w);
    Ok(out)
}

/// Escalated first, then the nearest deadlines, then the newest: one order for one person's
/// work and for the work of those they stand in for, merged.
pub fn sort<T>(items: &mut [T], waiting: impl Fn(&T) -> &Waiting) {
    items.sort_by(|a, b| {
        let (a, b) = (waiting(a), waiting(b));
        b.escalated.cmp(&a.escalated).then_with(|| match (a.due, b.due) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => b.row.id.cmp(&a.row.id),
        })
    });
}

/// The instances `username` was mentioned in and has not opened, each with the mention: those
/// `actor` (the person) may still read (a role lost since is a mention no longer).
pub async fn mentions_of(
    rt: &Runtime,
    actor: &Actor,
    username: &str,
) -> Result<Vec<(crate::store::comments::Mention, crate::runtime::Instance)>, RuntimeError> {
    let mut out = Vec::new();
    for m in crate::store::comments::unseen(rt.db(), username).await? {
        let inst = match rt.instance(m.instance_id).await {
            Ok(inst) => inst,
            Err(e) => {
                tracing::warn!(error = %e, instance = m.instance_id, "a mention's instance could not be read");
                continue;
            }
        };
        if rt.may_read(actor, &inst).await? {
            out.push((m, inst));
        }
    }
    Ok(out)
}
