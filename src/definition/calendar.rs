//! The public-holiday calendar: which days are rest days. Weekends rest unless the calendar makes
//! them adjusted working days; weekdays work unless the calendar lists them as holidays.

use std::collections::BTreeSet;

use serde::Deserialize;
use time::{Date, Weekday};

#[derive(Debug, Clone, Default)]
pub struct Calendar {
    rest_days: BTreeSet<Date>,
    working_days: BTreeSet<Date>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalendar {
    pub year: i32,
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

pub fn format_date(d: Date) -> String {
    d.format(DATE_FORMAT).unwrap_or_default()
}

impl Calendar {
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
}
