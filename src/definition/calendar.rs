//! The public-holiday calendar: which days are rest days. Weekends rest unless the calendar makes
//! them adjusted working days; weekdays work unless the calendar lists them as holidays.
//!
//! A year is *published* when its file says what the State Council's notice says. A file marked
//! `provisional = true` (written before the notice), or no file at all, leaves the year
//! provisional: deadlines that touch it are computed, but marked as resting on a guess.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use time::{Date, Weekday};

#[derive(Debug, Clone, Default)]
pub struct Calendar {
    rest_days: BTreeSet<Date>,
    working_days: BTreeSet<Date>,
    /// The years that have a calendar file, and whether it is provisional.
    years: BTreeMap<i32, bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalendar {
    pub year: toml::Spanned<i32>,
    /// Written before the year's notice was published: its days are a guess.
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub rest_days: Vec<toml::Spanned<String>>,
    #[serde(default)]
    pub working_days: Vec<toml::Spanned<String>>,
}

const DATE_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s.trim(), DATE_FORMAT).ok()
}

/// The date `months` months on (or back); the 31st of a shorter month is its last day. `None`
/// out of the calendar's range.
pub fn add_months(d: Date, months: i64) -> Option<Date> {
    let index = (i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1).checked_add(months)?;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = time::Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    Date::from_calendar_date(year, month, d.day().min(month.length(year))).ok()
}

pub fn format_date(d: Date) -> String {
    d.format(DATE_FORMAT).unwrap_or_default()
}

impl Calendar {
    /// Records that a file describes `year`; false when another file already does.
    pub fn declare_year(&mut self, year: i32, provisional: bool) -> bool {
        // The first file stays in force: the second is a problem to report, not a correction.
        match self.years.entry(year) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(provisional);
                true
            }
            std::collections::btree_map::Entry::Occupied(_) => false,
        }
    }

    /// A year is provisional unless a file that is not marked provisional describes it.
    pub fn is_provisional(&self, year: i32) -> bool {
        self.years.get(&year) != Some(&false)
    }

    /// Whether a file (published or provisional) describes `year`.
    pub fn has_file(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The provisional years from `from`'s year to `to`'s, in order.
    pub fn provisional_years(&self, from: Date, to: Date) -> Vec<i32> {
        (from.year()..=to.year()).filter(|y| self.is_provisional(*y)).collect()
    }

    pub fn add_rest_day(&mut self, d: Date) {
        self.rest_days.insert(d);
    }
    pub fn add_working_day(&mut self, d: Date) {
        self.working_days.insert(d);
    }

    pub fn is_rest_day(&self, d: Date) -> bool {
        if self.working_days.contains(&d) {
            return false;
        }
        self.rest_days.contains(&d) || matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// The day itself if it is a working day, else the next working day.
    pub fn next_working_day(&self, mut d: Date) -> Date {
        // A year has no run of more than a few weeks of rest days; the bound only guards bad data.
        for _ in 0..366 {
            if !self.is_rest_day(d) {
                return d;
            }
            match d.next_day() {
                Some(next) => d = next,
                None => return d,
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn weekends_rest_unless_adjusted_and_holidays_rest() {
        let mut cal = Calendar::default();
        cal.add_rest_day(date!(2026 - 10 - 01));
        cal.add_working_day(date!(2026 - 10 - 10));
        assert!(cal.is_rest_day(date!(2026 - 10 - 01))); // Thursday holiday
        assert!(!cal.is_rest_day(date!(2026 - 10 - 10))); // Saturday made a working day
        assert!(cal.is_rest_day(date!(2026 - 10 - 11))); // Sunday
        assert!(!cal.is_rest_day(date!(2026 - 10 - 12))); // Monday
        assert_eq!(cal.next_working_day(date!(2026 - 10 - 11)), date!(2026 - 10 - 12));
    }

    #[test]
    fn a_year_is_published_only_by_a_file_not_marked_provisional() {
        let mut cal = Calendar::default();
        assert!(cal.declare_year(2026, false));
        assert!(cal.declare_year(2027, true));
        assert!(!cal.declare_year(2027, false), "a second file for one year");
        assert!(!cal.is_provisional(2026));
        assert!(cal.is_provisional(2027), "marked provisional");
        assert!(cal.is_provisional(2028), "no file");
        assert_eq!(cal.provisional_years(date!(2026 - 12 - 30), date!(2028 - 01 - 04)), [2027, 2028]);
        assert!(cal.provisional_years(date!(2026 - 01 - 01), date!(2026 - 12 - 31)).is_empty());
    }
}
