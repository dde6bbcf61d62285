//! A substitute as the form gives it, parsed: two different people (persons with accounts, never
//! service accounts), a period of days that ends on or after it begins, lies within a year of
//! today and lasts at most [`MAX_DAYS`], and an optional short reason.
//!
//! A substitute is the everyday hand-over while someone is away, not a written delegation
//! (Art. 20, see [`crate::people::delegation`]): during the period the substitute sees and does the
//! absent person's work in their roles and units, but never signs as them.

use time::{Date, Duration};

use crate::definition::calendar::{format_date, parse_date};
use crate::text::TextProblem;

/// The longest substitution, in days counted inclusively: a leave, not a standing arrangement.
pub const MAX_DAYS: i64 = 366;
/// How far ahead a substitution may begin, in days from today.
pub const MAX_AHEAD_DAYS: i64 = 366;
/// The longest reason kept.
pub const MAX_REASON: usize = 500;

/// A substitution ready to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Substitution {
    pub absent: String,
    pub substitute: String,
    pub from: Date,
    /// The last day, inclusive.
    pub until: Date,
    pub reason: Option<String>,
}

impl Substitution {
    pub fn from_text(&self) -> String {
        format_date(self.from)
    }
    pub fn until_text(&self) -> String {
        format_date(self.until)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubstituteProblem {
    #[error("nobody is their own substitute")]
    ToSelf,
    #[error("{0:?} is not a person with an active account")]
    UnknownPerson(String),
    #[error("no substitute named")]
    NoSubstitute,
    #[error("{0:?} is not a date (YYYY-MM-DD)")]
    BadDate(String),
    #[error("the last day is missing")]
    NoUntil,
    #[error("the period ends before it begins")]
    EndsBeforeStart,
    #[error("the period begins before today")]
    InThePast,
    #[error("the period begins more than {MAX_AHEAD_DAYS} days from today")]
    TooFarAhead,
    #[error("the period is longer than {MAX_DAYS} days")]
    TooLong,
    #[error("the reason {0}")]
    Reason(#[from] TextProblem),
}

/// What the form sent, as text.
pub struct Typed<'a> {
    pub absent: &'a str,
    pub substitute: &'a str,
    pub from: &'a str,
    pub until: &'a str,
    pub reason: &'a str,
}

/// Parses a substitution; `known` says whether a user name belongs to an active person (not a
/// service account), `today` is the first day when none is given and the earliest allowed.
pub fn parse(t: &Typed<'_>, known: impl Fn(&str) -> bool, today: Date) -> Result<Substitution, SubstituteProblem> {
    let (absent, substitute) = (t.absent.trim(), t.substitute.trim());
    if substitute.is_empty() {
        return Err(SubstituteProblem::NoSubstitute);
    }
    for person in [absent, substitute] {
        if !known(person) {
            return Err(SubstituteProblem::UnknownPerson(person.to_owned()));
        }
    }
    if absent == substitute {
        return Err(SubstituteProblem::ToSelf);
    }
    let date = |s: &str| parse_date(s).ok_or_else(|| SubstituteProblem::BadDate(s.trim().to_owned()));
    let from = if t.from.trim().is_empty() { today } else { date(t.from)? };
    if t.until.trim().is_empty() {
        return Err(SubstituteProblem::NoUntil);
    }
    let until = date(t.until)?;
    if until < from {
        return Err(SubstituteProblem::EndsBeforeStart);
    }
    if from < today {
        return Err(SubstituteProblem::InThePast);
    }
    if from - today > Duration::days(MAX_AHEAD_DAYS) {
        return Err(SubstituteProblem::TooFarAhead);
    }
    if (until - from).whole_days() + 1 > MAX_DAYS {
        return Err(SubstituteProblem::TooLong);
    }
    let reason = crate::text::lines(t.reason, MAX_REASON)?;
    let reason = (!reason.is_empty()).then(|| reason.to_owned());
    Ok(Substitution { absent: absent.into(), substitute: substitute.into(), from, until, reason })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn typed<'a>(substitute: &'a str, from: &'a str, until: &'a str, reason: &'a str) -> Typed<'a> {
        Typed { absent: "wang.wei", substitute, from, until, reason }
    }

    #[test]
    fn a_substitution_is_two_people_a_bounded_period_and_perhaps_a_reason() {
        let known = |p: &str| ["wang.wei", "li.na"].contains(&p);
        let today = date!(2026 - 12 - 03);
        let ok = parse(&typed("li.na", "", "2026-12-20", " 年假 "), known, today).unwrap();
        assert_eq!((ok.from, ok.until, ok.reason.as_deref()), (today, date!(2026 - 12 - 20), Some("年假")));
        let one_day = parse(&typed("li.na", "2026-12-03", "2026-12-03", ""), known, today).unwrap();
        assert_eq!(one_day.reason, None);
        let a_year = parse(&typed("li.na", "2026-12-03", "2027-12-03", ""), known, today).unwrap();
        assert_eq!((a_year.until - a_year.from).whole_days() + 1, MAX_DAYS);
        let refused = |t: Typed<'_>| parse(&t, known, today).unwrap_err();
        assert_eq!(refused(typed("wang.wei", "", "2026-12-20", "")), SubstituteProblem::ToSelf);
        assert_eq!(refused(typed("", "", "2026-12-20", "")), SubstituteProblem::NoSubstitute);
        assert_eq!(refused(typed("nobody", "", "2026-12-20", "")), SubstituteProblem::UnknownPerson("nobody".into()));
        assert_eq!(refused(typed("li.na", "", "", "")), SubstituteProblem::NoUntil);
        assert_eq!(refused(typed("li.na", "", "20.12.2026", "")), SubstituteProblem::BadDate("20.12.2026".into()));
        assert_eq!(refused(typed("li.na", "2026-12-10", "2026-12-09", "")), SubstituteProblem::EndsBeforeStart);
        assert_eq!(refused(typed("li.na", "2026-12-02", "2026-12-09", "")), SubstituteProblem::InThePast);
        assert_eq!(refused(typed("li.na", "2027-12-05", "2027-12-09", "")), SubstituteProblem::TooFarAhead);
        assert_eq!(refused(typed("li.na", "2026-12-03", "2027-12-04", "")), SubstituteProblem::TooLong);
        let long = "字".repeat(MAX_REASON + 1);
        assert_eq!(
            refused(typed("li.na", "", "2026-12-20", &long)),
            SubstituteProblem::Reason(TextProblem::TooLong(MAX_REASON))
        );
    }
}
