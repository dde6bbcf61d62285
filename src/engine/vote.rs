//! Counting a vote against a rule, with exact integer arithmetic: the least number of people that
//! meets "at least p/q" or "more than p/q" of a base is computed, never a float compared.

use serde::{Deserialize, Serialize};

use crate::definition::{Outcome, Threshold, VoteBase, VoteRule};
use crate::engine::refusal::TallyError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoteCounts {
    pub roster: u64,
    pub present: u64,
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
}

/// The outcome with the figures that decided it ("present 18 of 25, quorum 17; yes 14, 13 needed").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteResult {
    pub outcome: String,
    /// "passed", "no_quorum" or "too_few_yes".
    pub reason: String,
    pub roster: u64,
    pub present: u64,
    pub quorum_needed: u64,
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
    pub yes_needed: u64,
}

impl VoteResult {
    pub fn outcome(&self) -> Outcome {
        Outcome::parse(&self.outcome).unwrap_or(Outcome::Failed)
    }
}

fn needed(t: &Threshold, c: &VoteCounts) -> u64 {
    let base = match t.of {
        VoteBase::Roster => c.roster,
        VoteBase::Present => c.present,
    };
    t.share.least_count(base, t.strict)
}

/// Checks the counts, then applies the rule: the quorum first, then the pass threshold.
pub fn count_vote(rule: &VoteRule, c: VoteCounts) -> Result<VoteResult, TallyError> {
    if c.present > c.roster {
        return Err(TallyError::PresentAboveRoster { present: c.present, roster: c.roster });
    }
    let cast = c.yes + c.no + c.abstain;
    if cast > c.present {
        return Err(TallyError::VotesAbovePresent { cast, present: c.present });
    }
    let quorum_needed = needed(&rule.quorum, &c);
    let yes_needed = needed(&rule.pass, &c);
    let (outcome, reason) = if c.present < quorum_needed {
        (Outcome::Failed, "no_quorum")
    } else if c.yes < yes_needed {
        (Outcome::Failed, "too_few_yes")
    } else {
        (Outcome::Passed, "passed")
    };
    Ok(VoteResult {
        outcome: outcome.as_str().to_owned(),
        reason: reason.to_owned(),
        roster: c.roster,
        present: c.present,
        quorum_needed,
        yes: c.yes,
        no: c.no,
        abstain: c.abstain,
        yes_needed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::{Label, values::Fraction};
    use proptest::prelude::*;

    fn rule(q: &str, q_strict: bool, q_of: VoteBase, p: &str, p_strict: bool, p_of: VoteBase) -> VoteRule {
        VoteRule {
            label: Label { zh: String::new(), en: String::new() },
            quorum: Threshold { strict: q_strict, share: q.parse().unwrap(), of: q_of },
            pass: Threshold { strict: p_strict, share: p.parse().unwrap(), of: p_of },
            wording: None,
        }
    }

    fn contract_rule() -> VoteRule {
        rule("2/3", false, VoteBase::Roster, "1/2", false, VoteBase::Roster)
    }

    fn counts(roster: u64, present: u64, yes: u64) -> VoteCounts {
        VoteCounts { roster, present, yes, no: present - yes, abstain: 0 }
    }

    #[test]
    fn the_contract_rule_at_its_boundaries() {
        let r = contract_rule();
        // 25 delegates: quorum 17 (2/3 = 16.67), half or more of all = 13 (12.5).
        let res = count_vote(&r, counts(25, 18, 14)).unwrap();
        assert_eq!((res.quorum_needed, res.yes_needed, res.outcome()), (17, 13, Outcome::Passed));
        assert_eq!(count_vote(&r, counts(25, 16, 16)).unwrap().reason, "no_quorum");
        assert_eq!(count_vote(&r, counts(25, 17, 13)).unwrap().outcome(), Outcome::Passed);
        assert_eq!(count_vote(&r, counts(25, 17, 12)).unwrap().reason, "too_few_yes");
        // 24 delegates: exactly half (12) is enough — 半数以上 includes the number itself.
        assert_eq!(count_vote(&r, counts(24, 16, 12)).unwrap().outcome(), Outcome::Passed);
    }

    #[test]
    fn the_strict_rule_needs_more_than_half_of_all() {
        let r = rule("2/3", false, VoteBase::Roster, "1/2", true, VoteBase::Roster);
        assert_eq!(count_vote(&r, counts(24, 16, 12)).unwrap().reason, "too_few_yes");
        assert_eq!(count_vote(&r, counts(24, 16, 13)).unwrap().outcome(), Outcome::Passed);
    }

    #[test]
    fn impossible_counts_are_refused() {
        let r = contract_rule();
        assert!(matches!(count_vote(&r, counts(10, 11, 0)), Err(TallyError::PresentAboveRoster { .. })));
        let c = VoteCounts { roster: 10, present: 8, yes: 5, no: 3, abstain: 1 };
        assert!(matches!(count_vote(&r, c), Err(TallyError::VotesAbovePresent { cast: 9, present: 8 })));
    }

    fn base() -> impl Strategy<Value = VoteBase> {
        prop_oneof![Just(VoteBase::Roster), Just(VoteBase::Present)]
    }

    proptest! {
        /// The outcome agrees with the rule stated as rational inequalities, for any tally and rule.
        #[test]
        fn outcome_matches_the_rule_on_any_tally(
            roster in 0u64..400, present_pick in 0u64..400, yes_pick in 0u64..400,
            qn in 0u32..=12, qd in 1u32..=12, pn in 0u32..=12, pd in 1u32..=12,
            q_strict: bool, p_strict: bool, q_of in base(), p_of in base(),
        ) {
            let (qn, pn) = (qn.min(qd), pn.min(pd));
            let present = present_pick % (roster + 1);
            let yes = yes_pick % (present + 1);
            let r = VoteRule {
                label: Label { zh: String::new(), en: String::new() },
                quorum: Threshold { strict: q_strict, share: Fraction::new(qn, qd).unwrap(), of: q_of },
                pass: Threshold { strict: p_strict, share: Fraction::new(pn, pd).unwrap(), of: p_of },
                wording: None,
            };
            let meets = |count: u64, num: u32, den: u32, strict: bool, of: VoteBase| {
                let b = match of { VoteBase::Roster => roster, VoteBase::Present => present };
                let lhs = u128::from(count) * u128::from(den);
                let rhs = u128::from(num) * u128::from(b);
                if strict { lhs > rhs } else { lhs >= rhs }
            };
            let expected = meets(present, qn, qd, q_strict, q_of) && meets(yes, pn, pd, p_strict, p_of);
            let res = count_vote(&r, VoteCounts { roster, present, yes, no: present - yes, abstain: 0 }).unwrap();
            prop_assert_eq!(res.outcome() == Outcome::Passed, expected);
        }
    }
}
