//! Property tests of the pure engine over whole definitions: whatever sequence of events, actors
//! and values arrives, an instance is only ever in a declared state with well-formed data.

use proptest::prelude::*;
use serde_json::{Value, json};
use time::macros::{datetime, offset};
use unionflow::definition::{Calendar, Definition, FieldKind};
use unionflow::engine::{self, Actor, Context, Data, parse_value};

use crate::engine_store::{ROUND, VOTE};
use crate::support::defs;

/// A value for a field: usually valid, sometimes not, sometimes absent.
fn value_for(kind: &FieldKind, pick: u32) -> Option<Value> {
    let variant = pick % 5;
    Some(match (kind, variant) {
        (_, 4) => return None,
        (_, 3) => json!("?? not valid ??"),
        (FieldKind::Int { min, max }, _) => {
            let span = (max.saturating_sub(*min)).clamp(0, 50);
            json!(min.saturating_add(i64::from(pick % 51).min(span)).max(-1_000_000))
        }
        (FieldKind::Date, _) => json!(format!("2026-0{}-1{}", 1 + pick % 9, pick % 10)),
        (FieldKind::Bool, _) => json!(pick.is_multiple_of(2)),
        (FieldKind::Choice { options }, _) => json!(options[pick as usize % options.len()].id),
        (FieldKind::List { .. }, _) => json!((0..(pick % 5)).map(|i| format!("p{i}")).collect::<Vec<_>>()),
        (FieldKind::Text { .. } | FieldKind::LongText { .. }, _) => json!(format!("text {pick}")),
        (FieldKind::Map, _) => json!({ "1": pick % 101 }),
        (FieldKind::Money { .. }, _) => json!(format!("{},{:03}.{:02}", pick % 9 + 1, pick % 1000, pick % 100)),
        (FieldKind::Table { .. }, _) => json!([{ "note": format!("row {pick}") }]),
    })
}

fn check_walk(def: &Definition, steps: &[(usize, u8, u32)]) -> Result<(), TestCaseError> {
    let calendar = Calendar::default();
    let ctx =
        Context { now: datetime!(2026-03-02 09:00 +08:00), calendar: &calendar, offset: offset!(+8), people: None };
    let mut state = def.initial.clone();
    let mut data = Data::new();
    let events: Vec<&str> = def.transitions.iter().map(|t| t.event.as_str()).collect();
    let roles = ["admin", "clerk", "unit_secretary", "system"];
    for (event_pick, role_pick, value_pick) in steps {
        let event = events[event_pick % events.len()];
        let actor_roles: Vec<&str> =
            roles.iter().enumerate().filter(|(i, _)| role_pick & (1 << i) != 0).map(|(_, r)| *r).collect();
        let actor = if actor_roles.contains(&"system") {
            Actor::system()
        } else {
            Actor::new("p", actor_roles).with_units(["p0", "u1"])
        };
        let mut given = Data::new();
        if let Some(t) = def.transition(&state, event) {
            for (i, f) in t.ask.iter().chain(&t.optional).enumerate() {
                if let Some(field) = def.field(f)
                    && let Some(v) = value_for(&field.kind, value_pick.wrapping_add(i as u32 * 7))
                {
                    given.insert(f.clone(), v);
                }
            }
        }
        let was_final = def.state(&state).is_some_and(|s| s.is_final);
        if let Ok(decision) = engine::decide(def, &state, &data, &actor, event, &given, ctx) {
            prop_assert!(!was_final, "an event was accepted in final state {state}");
            prop_assert!(def.state(&decision.to).is_some(), "undeclared state {}", decision.to);
            state = decision.to;
            data = decision.data;
        }
        for (name, value) in &data {
            if let Some(field) = def.field(name) {
                let reparsed = parse_value(field, value);
                prop_assert_eq!(reparsed, Ok(Some(value.clone())), "field {} holds a malformed value", name);
            }
        }
    }
    Ok(())
}

fn definitions() -> Vec<std::sync::Arc<Definition>> {
    let mut all: Vec<_> = defs(&[("round.toml", ROUND), ("vote.toml", VOTE)]).definitions.into_values().collect();
    if let Ok(builtin) = unionflow::definition::embedded::load_embedded() {
        all.extend(builtin.definitions.into_values());
    }
    all
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn no_sequence_of_events_leaves_an_instance_undefined(steps in prop::collection::vec((0usize..64, 0u8..16, 0u32..1000), 1..40)) {
        for def in definitions() {
            check_walk(&def, &steps)?;
        }
    }
}
