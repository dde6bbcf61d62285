//! A written delegation as the form gives it, parsed: two different people who have accounts,
//! one round or none (a period), a period that ends on or after it begins, and the letter's text.

use time::Date;

use crate::definition::calendar::{format_date, parse_date};
use crate::text::TextProblem;

/// The longest letter kept as text (a page of A4 and then some).
pub const MAX_LETTER: usize = 4000;

/// A delegation ready to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    pub from: String,
    pub to: String,
    pub instance: Option<i64>,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub letter: String,
}

impl Delegation {
    pub fn valid_from_text(&self) -> String {
        format_date(self.valid_from)
    }
    pub fn valid_until_text(&self) -> Option<String> {
        self.valid_until.map(format_date)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DelegationProblem {
    #[error("nobody delegates to themselves")]
    ToSelf,
    #[error("{0:?} has no account")]
    UnknownPerson(String),
    #[error("{0:?} is not a process's number")]
    BadInstance(String),
    #[error("{0:?} is not a date (YYYY-MM-DD)")]
    BadDate(String),
    #[error("the delegation ends before it begins")]
    EndsBeforeStart,
    #[error("the letter is missing")]
    NoLetter,
    #[error("the letter {0}")]
    Letter(#[from] TextProblem),
}

/// What the form sent, as text.
pub struct Typed<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub instance: &'a str,
    pub valid_from: &'a str,
    pub valid_until: &'a str,
    pub letter: &'a str,
}

/// Parses a delegation; `known` says whether a user name belongs to an active person, `today`
/// is the first day when none is given.
pub fn parse(t: &Typed<'_>, known: impl Fn(&str) -> bool, today: Date) -> Result<Delegation, DelegationProblem> {
    let (from, to) = (t.from.trim(), t.to.trim());
    for person in [from, to] {
        if !known(person) {
            return Err(DelegationProblem::UnknownPerson(person.to_owned()));
        }
    }
    if from == to {
        return Err(DelegationProblem::ToSelf);
    }
    // Written as the pages show instances: "#48" or "48".
    let written = t.instance.trim();
    let instance = match written.strip_prefix('#').unwrap_or(written) {
        "" if written.is_empty() => None,
        n => Some(
            n.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| DelegationProblem::BadInstance(written.into()))?,
        ),
    };
    let date = |s: &str| parse_date(s).ok_or_else(|| DelegationProblem::BadDate(s.trim().to_owned()));
    let valid_from = if t.valid_from.trim().is_empty() { today } else { date(t.valid_from)? };
    let valid_until = if t.valid_until.trim().is_empty() { None } else { Some(date(t.valid_until)?) };
    if valid_until.is_some_and(|u| u < valid_from) {
        return Err(DelegationProblem::EndsBeforeStart);
    }
    let letter = crate::text::lines(t.letter, MAX_LETTER)?;
    if letter.is_empty() {
        return Err(DelegationProblem::NoLetter);
    }
    Ok(Delegation { from: from.into(), to: to.into(), instance, valid_from, valid_until, letter: letter.into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn typed<'a>(to: &'a str, instance: &'a str, from: &'a str, until: &'a str, letter: &'a str) -> Typed<'a> {
        Typed { from: "wang.wei", to, instance, valid_from: from, valid_until: until, letter }
    }

    #[test]
    fn a_delegation_is_two_people_a_scope_a_period_and_a_letter() {
        let known = |p: &str| ["wang.wei", "li.na"].contains(&p);
        let today = date!(2026 - 03 - 02);
        let ok = parse(&typed("li.na", "#48", "", "2026-06-30", "兹委托李娜……"), known, today).unwrap();
        assert_eq!((ok.instance, ok.valid_from, ok.valid_until), (Some(48), today, Some(date!(2026 - 06 - 30))));
        let refused = |t: Typed<'_>| parse(&t, known, today).unwrap_err();
        assert_eq!(refused(typed("wang.wei", "", "", "", "x")), DelegationProblem::ToSelf);
        assert_eq!(refused(typed("nobody", "", "", "", "x")), DelegationProblem::UnknownPerson("nobody".into()));
        assert_eq!(refused(typed("li.na", "4a", "", "", "x")), DelegationProblem::BadInstance("4a".into()));
        assert_eq!(
            refused(typed("li.na", "#", "", "", "x")),
            DelegationProblem::BadInstance("#".into()),
            "not every round"
        );
        assert_eq!(refused(typed("li.na", "##48", "", "", "x")), DelegationProblem::BadInstance("##48".into()));
        assert_eq!(refused(typed("li.na", "", "2026-03-10", "2026-03-09", "x")), DelegationProblem::EndsBeforeStart);
        assert_eq!(refused(typed("li.na", "", "", "", "  ")), DelegationProblem::NoLetter);
        assert!(matches!(refused(typed("li.na", "", "", "", "a\u{0}b")), DelegationProblem::Letter(_)));
        let long = "字".repeat(MAX_LETTER + 1);
        assert_eq!(
            refused(typed("li.na", "", "", "", &long)),
            DelegationProblem::Letter(TextProblem::TooLong(MAX_LETTER))
        );
    }
}
