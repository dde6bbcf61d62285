//! Evaluating guards against an instance's data and the actor.

use serde_json::Value;

use crate::definition::{Guard, MapKeys, Operand, Outcome, VoteCheck};
use crate::engine::VOTE_KEY;
use crate::engine::actor::{Actor, PeopleFacts};
use crate::engine::input::Data;
use crate::engine::refusal::GuardFailure;
use crate::engine::vote::VoteResult;
use crate::expr::{Env, EvalError, Tables};

fn list<'a>(data: &'a Data, field: &str) -> Vec<&'a str> {
    match data.get(field) {
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    }
}

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The fields a guard reads: a guard over a field the transition asks for is judged only when the
/// values are given, not when listing what may be done.
pub fn fields_read(g: &Guard) -> Vec<&str> {
    match g {
        Guard::IsSet(f) | Guard::IsUnset(f) | Guard::IsTrue(f) | Guard::ActorIs(f) => vec![f],
        Guard::RoleOrDelegate { field, .. } => vec![field],
        Guard::ActorNotIn(list) => vec![list],
        Guard::Equals { field, .. } | Guard::MinCount { field, .. } => vec![field],
        Guard::Compare { field, than, .. } => match than {
            Operand::Field(other) => vec![field, other],
            Operand::Number(_) => vec![field],
        },
        Guard::SameCount(a, b) | Guard::Disjoint(a, b) => vec![a, b],
        Guard::MemberOf { field, list } | Guard::NotMemberOf { field, list } => vec![field, list],
        Guard::ShareAtMost { list, part, .. } => vec![list, part],
        Guard::Vote(_) => vec![VOTE_KEY],
        Guard::When(e) => e.fields().collect(),
        Guard::EachAtLeast { map, keys: MapKeys::UpTo(field), .. } => vec![map, field],
        Guard::EachAtLeast { map, .. } => vec![map],
    }
}

/// What guards judge by besides the data and the actor.
#[derive(Clone, Copy)]
pub struct Facts<'a> {
    /// Who holds which role and whose written delegation, where the definition's guards ask.
    pub people: Option<&'a PeopleFacts>,
    /// Today in the configured offset: what `today()` is in an expression.
    pub today: time::Date,
    pub tables: &'a dyn Tables,
}

pub fn check(g: &Guard, data: &Data, actor: &Actor, facts: &Facts<'_>) -> Result<(), GuardFailure> {
    let people = facts.people;
    let is_set = |f: &str| !matches!(data.get(f), None | Some(Value::Null));
    let int = |f: &str| data.get(f).and_then(Value::as_i64);
    match g {
        Guard::IsSet(f) if !is_set(f) => Err(GuardFailure::NotSet { field: f.clone() }),
        Guard::IsUnset(f) if is_set(f) => Err(GuardFailure::AlreadySet { field: f.clone() }),
        Guard::IsTrue(f) if data.get(f) != Some(&Value::Bool(true)) => Err(GuardFailure::NotTrue { field: f.clone() }),
        Guard::Equals { field, value } if data.get(field) != Some(value) => {
            Err(GuardFailure::NotEqual { field: field.clone(), expected: text(Some(value)) })
        }
        Guard::Compare { field, op, than } => {
            let rhs = match than {
                Operand::Number(n) => Some(*n),
                Operand::Field(other) => int(other),
            };
            let (than_text, than_field) = match than {
                Operand::Number(n) => (n.to_string(), None),
                Operand::Field(other) => (text(data.get(other)), Some(other.clone())),
            };
            // Dates are kept as YYYY-MM-DD, so their text orders them.
            let dates = match (data.get(field).and_then(Value::as_str), than) {
                (Some(a), Operand::Field(other)) => data.get(other).and_then(Value::as_str).map(|b| a.cmp(b) as i64),
                _ => None,
            };
            // Against a field with no value yet there is nothing to compare with: the guard holds
            // (a capacity before anyone is enrolled).
            if let Operand::Field(other) = than
                && !is_set(other)
            {
                return Ok(());
            }
            match (int(field), rhs, dates) {
                (Some(a), Some(b), _) if op.holds(a, b) => Ok(()),
                (None, _, Some(order)) if op.holds(order, 0) => Ok(()),
                _ => Err(GuardFailure::Compare {
                    field: field.clone(),
                    value: text(data.get(field)),
                    op: op.symbol(),
                    than: than_text,
                    than_field,
                }),
            }
        }
        Guard::SameCount(a, b) => {
            let (ac, bc) = (list(data, a).len(), list(data, b).len());
            if ac == bc {
                Ok(())
            } else {
                Err(GuardFailure::CountsDiffer { a: a.clone(), a_count: ac, b: b.clone(), b_count: bc })
            }
        }
        Guard::MinCount { field, min } => {
            let count = list(data, field).len();
            if count >= *min { Ok(()) } else { Err(GuardFailure::TooFew { field: field.clone(), count, min: *min }) }
        }
        Guard::MemberOf { field, list: l } => {
            let value = text(data.get(field));
            if list(data, l).contains(&value.as_str()) {
                Ok(())
            } else {
                Err(GuardFailure::NotMember { field: field.clone(), list: l.clone(), value })
            }
        }
        Guard::Disjoint(a, b) => {
            let others = list(data, b);
            match list(data, a).into_iter().find(|item| others.contains(item)) {
                Some(item) => Err(GuardFailure::InBoth { a: a.clone(), b: b.clone(), item: item.to_owned() }),
                None => Ok(()),
            }
        }
        Guard::NotMemberOf { field, list: l } => {
            let value = text(data.get(field));
            if is_set(field) && list(data, l).contains(&value.as_str()) {
                Err(GuardFailure::Member { field: field.clone(), list: l.clone(), value })
            } else {
                Ok(())
            }
        }
        Guard::ShareAtMost { list: l, part, share } => {
            let all = list(data, l);
            let others = list(data, part);
            let part_count = all.iter().filter(|i| others.contains(i)).count();
            // part/total <= num/den, by cross-multiplication.
            if (part_count as u128) * u128::from(share.den()) <= (all.len() as u128) * u128::from(share.num()) {
                Ok(())
            } else {
                Err(GuardFailure::ShareTooLarge {
                    list: l.clone(),
                    part: part.clone(),
                    part_count,
                    total: all.len(),
                    share: share.to_string(),
                })
            }
        }
        Guard::ActorNotIn(l) if list(data, l).iter().any(|p| actor.is_or_stands_in_for(p)) => {
            Err(GuardFailure::ActorIn { list: l.clone() })
        }
        Guard::RoleOrDelegate { field, role } => match (people, data.get(field).and_then(Value::as_str)) {
            (Some(people), Some(person)) if !people.holds_or_delegated(person, role) => {
                Err(GuardFailure::NotRoleOrDelegate { field: field.clone(), role: role.clone() })
            }
            _ => Ok(()),
        },
        Guard::ActorIs(f) if data.get(f).and_then(Value::as_str).and_then(|p| actor.acts_for(p)).is_none() => {
            Err(GuardFailure::NotTheActor { field: f.clone() })
        }
        Guard::EachAtLeast { map, keys, min } => {
            let (keys_field, keys): (&str, Vec<String>) = match keys {
                MapKeys::Options { field, ids } => (field, ids.clone()),
                MapKeys::UpTo(field) => (field, (1..=int(field).unwrap_or(0)).map(|n| n.to_string()).collect()),
            };
            let values = data.get(map).and_then(Value::as_object);
            for key in keys {
                let found = values.and_then(|m| m.get(&key)).and_then(Value::as_i64);
                if found.is_none_or(|v| v < *min) {
                    return Err(GuardFailure::BelowInMap {
                        map: map.clone(),
                        keys_field: keys_field.to_owned(),
                        key,
                        found,
                        min: *min,
                    });
                }
            }
            Ok(())
        }
        Guard::Vote(expected) => {
            let result: Option<VoteResult> = data.get(VOTE_KEY).and_then(|v| serde_json::from_value(v.clone()).ok());
            let holds = result.is_some_and(|r| match expected {
                VoteCheck::Passed => r.outcome() == Outcome::Passed,
                VoteCheck::Failed => r.outcome() == Outcome::Failed,
                VoteCheck::NoQuorum => r.reason == "no_quorum",
            });
            if holds { Ok(()) } else { Err(GuardFailure::Vote { expected: expected.as_str() }) }
        }
        Guard::When(condition) => {
            let env = Env { data, today: facts.today, tables: facts.tables };
            match condition.holds(&env) {
                Ok(true) => Ok(()),
                Ok(false) => Err(GuardFailure::Condition {
                    condition: condition.clone(),
                    values: condition
                        .fields()
                        .filter_map(|f| {
                            data.get(f).filter(|v| !v.is_array() && !v.is_object()).map(|v| (f.to_owned(), v.clone()))
                        })
                        .collect(),
                }),
                Err(EvalError::Unset(field)) => Err(GuardFailure::NotSet { field }),
                Err(why) => Err(GuardFailure::Uncomputable { condition: condition.clone(), why }),
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::{CompareOp, MapKeys};
    use crate::expr::NoTables;
    use serde_json::json;

    fn none() -> Facts<'static> {
        Facts { people: None, today: time::macros::date!(2026 - 12 - 03), tables: &NoTables }
    }

    fn with(people: &PeopleFacts) -> Facts<'_> {
        Facts { people: Some(people), ..none() }
    }

    fn data(v: Value) -> Data {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_chief_is_the_role_holder_or_their_delegate_and_a_delegate_signs_for_the_chief() {
        let chief = data(json!({ "chief": "li.na" }));
        let chair = Guard::RoleOrDelegate { field: "chief".into(), role: "union_chair".into() };
        let mut facts = PeopleFacts::default();
        facts.holders.insert("union_chair".into(), ["wang.wei".to_owned()].into());
        let someone = Actor::new("x", ["admin"]);
        assert!(check(&chair, &chief, &someone, &with(&facts)).is_err(), "li.na is not the chair");
        assert!(check(&chair, &chief, &someone, &none()).is_ok(), "without the facts it cannot be judged");
        facts.delegations.push(("zhao.lei".into(), "li.na".into(), None));
        assert!(check(&chair, &chief, &someone, &with(&facts)).is_err(), "a delegation from someone not the chair");
        facts.delegations.push(("wang.wei".into(), "li.na".into(), Some(3)));
        assert!(check(&chair, &chief, &someone, &with(&facts.in_instance(3))).is_ok(), "the chair's delegate for #3");
        assert!(check(&chair, &chief, &someone, &with(&facts.in_instance(4))).is_err(), "not on another instance");

        let signs = Guard::ActorIs("chief".into());
        let delegate = Actor::new("sun.li", ["worker_negotiator"]);
        assert!(check(&signs, &chief, &delegate, &none()).is_err());
        let held = vec![crate::engine::Delegated { id: 7, from: "li.na".into(), instance: Some(3) }];
        let delegate = delegate.with_delegations(held);
        assert!(check(&signs, &chief, &delegate.in_instance(3), &none()).is_ok(), "signs for li.na on #3");
        assert!(check(&signs, &chief, &delegate.in_instance(4), &none()).is_err(), "not on another instance");
        assert_eq!(delegate.acts_for("li.na"), Some(Some(7)));
    }

    #[test]
    fn a_substitute_never_signs_as_the_absent_person_and_four_eyes_keep_both_out() {
        let chief = data(json!({ "chief": "li.na", "voted": ["li.na"] }));
        let li_na = Actor::new("li.na", ["worker_negotiator"]).with_delegations(vec![crate::engine::Delegated {
            id: 7,
            from: "wang.wei".into(),
            instance: None,
        }]);
        let substitute = Actor::standing_in("sun.li", &li_na, 3);
        assert!(substitute.roles.contains("worker_negotiator") && substitute.delegations.is_empty());
        let signs = Guard::ActorIs("chief".into());
        assert!(check(&signs, &chief, &li_na, &none()).is_ok());
        assert!(check(&signs, &chief, &substitute, &none()).is_err(), "a signature is hers or her delegate's");
        assert_eq!(substitute.acts_for("sun.li"), None, "nor as themselves while doing her work");
        let not_again = Guard::ActorNotIn("voted".into());
        assert!(check(&not_again, &chief, &substitute, &none()).is_err(), "she voted: nobody votes again for her");
        let other = data(json!({ "voted": ["sun.li"] }));
        assert!(check(&not_again, &other, &substitute, &none()).is_err(), "nor does he, for anyone");
        assert_eq!(substitute.person(), "li.na", "a scope by person is hers");
    }

    #[test]
    fn dates_compare_in_calendar_order() {
        let ends_after =
            Guard::Compare { field: "end".into(), op: CompareOp::Ge, than: Operand::Field("start".into()) };
        let actor = Actor::new("x", ["admin"]);
        assert!(
            check(&ends_after, &data(json!({ "start": "2026-03-02", "end": "2026-03-27" })), &actor, &none()).is_ok()
        );
        assert!(
            check(&ends_after, &data(json!({ "start": "2026-03-02", "end": "2026-03-02" })), &actor, &none()).is_ok()
        );
        let before = check(&ends_after, &data(json!({ "start": "2026-03-02", "end": "2026-02-27" })), &actor, &none());
        assert!(matches!(before, Err(GuardFailure::Compare { .. })), "{before:?}");
    }

    #[test]
    fn each_key_must_reach_the_minimum_and_the_first_short_one_is_named() {
        let every_phase =
            Guard::EachAtLeast { map: "attendance".into(), keys: MapKeys::UpTo("phases".into()), min: 75 };
        let actor = Actor::new("x", ["admin"]);
        let ok = data(json!({ "phases": 2, "attendance": { "1": 75, "2": 90 } }));
        assert!(check(&every_phase, &ok, &actor, &none()).is_ok(), "75 is enough: at least");
        let short = data(json!({ "phases": 3, "attendance": { "1": 80, "2": 74 } }));
        assert!(matches!(
            check(&every_phase, &short, &actor, &none()),
            Err(GuardFailure::BelowInMap { key, found: Some(74), .. }) if key == "2"
        ));
        let missing = data(json!({ "phases": 3, "attendance": { "1": 80, "2": 80 } }));
        assert!(matches!(
            check(&every_phase, &missing, &actor, &none()),
            Err(GuardFailure::BelowInMap { key, found: None, .. }) if key == "3"
        ));
    }
}
