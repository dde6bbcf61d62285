//! Deciding a join: whether the children of a fan-out have settled the parent's outcome.

use crate::definition::{JoinSpec, JoinWait, Outcome, Quota};

/// The children of the latest fan-out, by how they ended so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChildTally {
    pub total: u64,
    pub passed: u64,
    pub failed: u64,
}

impl ChildTally {
    pub fn undecided(&self) -> u64 {
        self.total.saturating_sub(self.passed + self.failed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinStatus {
    Waiting,
    Decided(Outcome),
}

fn passes_needed(quota: Quota, total: u64) -> u64 {
    match quota {
        Quota::All => total,
        Quota::AtLeast(n) => u64::from(n),
        Quota::Share(f) => f.least_count(total, false),
    }
}

pub fn evaluate_join(spec: &JoinSpec, t: ChildTally) -> JoinStatus {
    let needed = passes_needed(spec.pass, t.total);
    let decided = |passed: bool| JoinStatus::Decided(if passed { Outcome::Passed } else { Outcome::Failed });
    match spec.wait {
        JoinWait::AllDecided if t.undecided() > 0 => JoinStatus::Waiting,
        JoinWait::AllDecided => decided(t.passed >= needed),
        JoinWait::Determined if t.passed >= needed => decided(true),
        JoinWait::Determined if t.passed + t.undecided() < needed => decided(false),
        JoinWait::Determined => JoinStatus::Waiting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec(pass: Quota, wait: JoinWait) -> JoinSpec {
        JoinSpec { pass, wait, on_pass: "p".into(), on_fail: "f".into(), collect: None }
    }

    #[test]
    fn all_decided_waits_for_the_last_child_even_after_a_rejection() {
        let s = spec(Quota::All, JoinWait::AllDecided);
        assert_eq!(evaluate_join(&s, ChildTally { total: 3, passed: 1, failed: 1 }), JoinStatus::Waiting);
        assert_eq!(
            evaluate_join(&s, ChildTally { total: 3, passed: 2, failed: 1 }),
            JoinStatus::Decided(Outcome::Failed)
        );
        assert_eq!(
            evaluate_join(&s, ChildTally { total: 3, passed: 3, failed: 0 }),
            JoinStatus::Decided(Outcome::Passed)
        );
    }

    #[test]
    fn determined_stops_as_soon_as_the_outcome_is_certain() {
        let s = spec(Quota::AtLeast(2), JoinWait::Determined);
        assert_eq!(
            evaluate_join(&s, ChildTally { total: 4, passed: 2, failed: 0 }),
            JoinStatus::Decided(Outcome::Passed)
        );
        assert_eq!(
            evaluate_join(&s, ChildTally { total: 4, passed: 0, failed: 3 }),
            JoinStatus::Decided(Outcome::Failed)
        );
        assert_eq!(evaluate_join(&s, ChildTally { total: 4, passed: 1, failed: 2 }), JoinStatus::Waiting);
    }

    fn quota() -> impl Strategy<Value = Quota> {
        prop_oneof![
            Just(Quota::All),
            (0u32..8).prop_map(Quota::AtLeast),
            (0u32..=6, 1u32..=6)
                .prop_map(|(n, d)| Quota::Share(crate::definition::values::Fraction::new(n.min(d), d).unwrap())),
        ]
    }

    proptest! {
        /// A join never completes before its rule holds: a pass needs enough passes, a failure
        /// needs the passes to be out of reach, and "all decided" waits for every child.
        #[test]
        fn a_join_never_completes_before_its_rule_holds(
            total in 0u64..20, p in 0u64..20, f in 0u64..20, q in quota(), determined: bool,
        ) {
            let passed = p.min(total);
            let failed = f.min(total - passed);
            let wait = if determined { JoinWait::Determined } else { JoinWait::AllDecided };
            let s = spec(q, wait);
            let t = ChildTally { total, passed, failed };
            let needed = passes_needed(q, total);
            match evaluate_join(&s, t) {
                JoinStatus::Decided(Outcome::Passed) => {
                    prop_assert!(passed >= needed);
                    if !determined { prop_assert_eq!(t.undecided(), 0); }
                }
                JoinStatus::Decided(Outcome::Failed) => {
                    prop_assert!(passed + t.undecided() < needed || (!determined && t.undecided() == 0 && passed < needed));
                    if !determined { prop_assert_eq!(t.undecided(), 0); }
                }
                JoinStatus::Waiting => prop_assert!(t.undecided() > 0),
            }
        }
    }
}
