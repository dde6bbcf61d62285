//! When a state's timers fall due. Periods count in calendar days from the day after the event;
//! a deadline on a rest day moves to the next working day; a timer fires at the end of its day.

use time::{Date, OffsetDateTime, UtcOffset};

use crate::definition::calendar::{add_months, parse_date};
use crate::definition::values::Period;
use crate::definition::{Calendar, State, TimerSpec, TimerWhen};
use crate::engine::input::Data;
use crate::engine::refusal::Refusal;
use crate::expr::{Env, EvalError, NoTables, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerStart {
    pub name: String,
    pub event: String,
    /// The day the period counts from: the day the state was entered, or the date in the field.
    /// Kept so the deadline can be computed again when a calendar changes.
    pub base: Date,
    pub deadline: Deadline,
    /// Which time a recurring timer falls due (1 for the first, and for every other timer).
    pub occurrence: u32,
}

/// When a timer falls due, and on what calendar that was worked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    /// The last day of the period, as people read the deadline.
    pub last_day: Date,
    pub due_at: OffsetDateTime,
    /// The years without a published calendar that the computation relied on (the last day's,
    /// and any the move past rest days crossed); empty when it rests on published calendars.
    pub provisional: Vec<i32>,
}

pub fn shift(d: Date, period: Period, backwards: bool) -> Option<Date> {
    let sign = if backwards { -1 } else { 1 };
    match period {
        Period::Days(n) => d.checked_add(time::Duration::days(sign * i64::from(n))),
        Period::Months(n) => add_months(d, sign * i64::from(n)),
    }
}

/// The period of a timer and whether it counts backwards from its base.
fn period_of(spec: &TimerSpec) -> (Period, bool) {
    match &spec.when {
        TimerWhen::AfterEntry(p) => (*p, false),
        TimerWhen::FromField { offset, before, .. } | TimerWhen::FromExpr { offset, before, .. } => (*offset, *before),
    }
}

/// The day a timer counts from: the day its state was entered (in local time), or its field's date.
pub fn base_of(spec: &TimerSpec, data: &Data, entered: OffsetDateTime, offset: UtcOffset) -> Result<Date, Refusal> {
    match &spec.when {
        TimerWhen::AfterEntry(_) => Ok(entered.to_offset(offset).date()),
        TimerWhen::FromField { field, .. } => data
            .get(field)
            .and_then(|v| v.as_str())
            .and_then(parse_date)
            .ok_or_else(|| Refusal::TimerNeedsDate { timer: spec.id.clone(), field: field.clone() }),
        TimerWhen::FromExpr { date, .. } => {
            let env = Env { data, today: entered.to_offset(offset).date(), tables: &NoTables };
            match date.eval(&env) {
                Ok(Value::Date(d)) => Ok(d),
                // The date cannot be known yet: named by the field it lacks.
                Err(EvalError::Unset(field)) => Err(Refusal::TimerNeedsDate { timer: spec.id.clone(), field }),
                _ => Err(Refusal::DeadlineOutOfRange { event: spec.fires.clone() }),
            }
        }
    }
}

/// The deadline of a timer counted from `base` on `calendar`; `None` past the end of time.
pub fn deadline(spec: &TimerSpec, base: Date, calendar: &Calendar, offset: UtcOffset) -> Option<Deadline> {
    deadline_of(spec, base, 1, calendar, offset)
}

/// The deadline of the `n`-th time a timer falls due: `n` periods from its base (counted from
/// the base every time, so rest days moved past never push the later ones).
pub fn deadline_of(spec: &TimerSpec, base: Date, n: u32, calendar: &Calendar, offset: UtcOffset) -> Option<Deadline> {
    let (period, backwards) = period_of(spec);
    let period = match period {
        Period::Days(d) => Period::Days(d.checked_mul(n)?),
        Period::Months(m) => Period::Months(m.checked_mul(n)?),
    };
    let counted = shift(base, period, backwards)?;
    let (last_day, provisional) = if spec.working_day {
        let last_day = calendar.next_working_day(counted);
        // Whether the counted day rests, and where the move past rest days ends, both read the
        // calendars of the years from the one to the other.
        (last_day, calendar.provisional_years(counted, last_day))
    } else {
        // Not moved for rest days: no calendar is read, so none can be provisional.
        (counted, Vec::new())
    };
    let due_at = last_day.next_day()?.midnight().assume_offset(offset);
    Some(Deadline { last_day, due_at, provisional })
}

/// The timers a state starts when it is entered at `entered`.
pub fn timers_for_state(
    state: &State,
    data: &Data,
    entered: OffsetDateTime,
    calendar: &Calendar,
    offset: UtcOffset,
) -> Result<Vec<TimerStart>, Refusal> {
    let mut started = Vec::with_capacity(state.timers.len());
    for spec in &state.timers {
        let base = base_of(spec, data, entered, offset)?;
        let deadline = deadline(spec, base, calendar, offset)
            .ok_or_else(|| Refusal::DeadlineOutOfRange { event: spec.fires.clone() })?;
        // A recurring timer whose first time already falls after its `until` never starts.
        if !past_until(spec, &deadline, data) {
            started.push(TimerStart {
                name: spec.id.clone(),
                event: spec.fires.clone(),
                base,
                deadline,
                occurrence: 1,
            });
        }
    }
    Ok(started)
}

/// Whether a deadline of a recurring timer falls after the date in its `until` field.
fn past_until(spec: &TimerSpec, deadline: &Deadline, data: &Data) -> bool {
    let until = spec
        .repeat
        .as_ref()
        .and_then(|r| r.until.as_ref())
        .and_then(|f| data.get(f))
        .and_then(|v| v.as_str())
        .and_then(parse_date);
    until.is_some_and(|until| deadline.last_day > until)
}

/// The next time a recurring timer falls due after its `n`-th, counted from `base`; none for a
/// timer that does not recur, past its `count`, or past the date in its `until` field.
pub fn next_occurrence(
    spec: &TimerSpec,
    base: Date,
    n: u32,
    data: &Data,
    calendar: &Calendar,
    offset: UtcOffset,
) -> Option<TimerStart> {
    let repeat = spec.repeat.as_ref()?;
    let next = n.checked_add(1)?;
    if repeat.count.is_some_and(|count| next > count) {
        return None;
    }
    let deadline = deadline_of(spec, base, next, calendar, offset)?;
    if past_until(spec, &deadline, data) {
        return None;
    }
    Some(TimerStart { name: spec.id.clone(), event: spec.fires.clone(), base, deadline, occurrence: next })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::Label;
    use time::Month;
    use time::macros::{date, datetime, offset};

    fn state(when: TimerWhen, working_day: bool) -> State {
        State {
            id: "s".into(),
            stage: "x".into(),
            label: Label { zh: String::new(), en: String::new() },
            is_final: false,
            outcome: None,
            timers: vec![TimerSpec { id: "t".into(), fires: "e".into(), when, working_day, repeat: None }],
            join: None,
            summary: None,
        }
    }

    #[test]
    fn twenty_days_count_from_the_day_after_and_end_with_the_day() {
        let s = state(TimerWhen::AfterEntry(Period::Days(20)), true);
        // Entered Monday 2026-03-02 in Beijing; day 20 is Sunday 03-22, which moves to Monday 03-23.
        let entered = datetime!(2026-03-02 10:00 +08:00);
        let t = &timers_for_state(&s, &Data::new(), entered, &Calendar::default(), offset!(+8)).unwrap()[0];
        assert_eq!(t.deadline.last_day, date!(2026 - 03 - 23));
        assert_eq!(t.deadline.due_at, datetime!(2026-03-24 00:00 +08:00));
    }

    #[test]
    fn a_deadline_in_a_holiday_moves_past_it() {
        let mut cal = Calendar::default();
        for d in 1..=7 {
            cal.add_rest_day(Date::from_calendar_date(2026, Month::October, d).unwrap());
        }
        let s = state(TimerWhen::AfterEntry(Period::Days(10)), true);
        let entered = datetime!(2026-09-21 09:00 +08:00); // day 10 = Thursday 10-01, a holiday
        let t = &timers_for_state(&s, &Data::new(), entered, &cal, offset!(+8)).unwrap()[0];
        assert_eq!(t.deadline.last_day, date!(2026 - 10 - 08));
        assert_eq!(t.deadline.provisional, [2026], "no file describes 2026 here");
    }

    #[test]
    fn a_move_past_rest_days_into_a_provisional_year_is_provisional() {
        let mut cal = Calendar::default();
        cal.declare_year(2026, false);
        cal.declare_year(2027, true);
        let s = state(TimerWhen::AfterEntry(Period::Days(20)), true);
        // Day 20 is Saturday 2026-12-26, published; the last day stays in 2026.
        let t = &timers_for_state(&s, &Data::new(), datetime!(2026-12-06 10:00 +08:00), &cal, offset!(+8)).unwrap()[0];
        assert_eq!((t.deadline.last_day, t.deadline.provisional.clone()), (date!(2026 - 12 - 28), vec![]));
        // Day 20 is Friday 2027-01-01, a holiday in the provisional file: it moves to Monday 01-04.
        cal.add_rest_day(date!(2027 - 01 - 01));
        let t = &timers_for_state(&s, &Data::new(), datetime!(2026-12-12 10:00 +08:00), &cal, offset!(+8)).unwrap()[0];
        assert_eq!(t.deadline.last_day, date!(2027 - 01 - 04));
        assert_eq!(t.deadline.provisional, [2027]);
        // Not moved for rest days: no calendar read, nothing provisional.
        let fixed = state(TimerWhen::AfterEntry(Period::Days(20)), false);
        let t =
            &timers_for_state(&fixed, &Data::new(), datetime!(2027-12-12 10:00 +08:00), &cal, offset!(+8)).unwrap()[0];
        assert!(t.deadline.provisional.is_empty());
    }

    #[test]
    fn three_months_before_a_date_field_clamps_to_the_month() {
        let s = state(TimerWhen::FromField { field: "end".into(), offset: Period::Months(3), before: true }, false);
        let mut data = Data::new();
        data.insert("end".into(), "2029-05-31".into());
        let t =
            &timers_for_state(&s, &data, datetime!(2026-01-01 0:00 UTC), &Calendar::default(), offset!(+8)).unwrap()[0];
        assert_eq!(t.deadline.last_day, date!(2029 - 02 - 28));
        data.remove("end");
        assert!(
            timers_for_state(&s, &data, datetime!(2026-01-01 0:00 UTC), &Calendar::default(), offset!(+8)).is_err()
        );
    }

    #[test]
    fn a_deadline_past_the_calendar_is_named_by_its_event_not_a_field() {
        let s = state(TimerWhen::FromField { field: "end".into(), offset: Period::Months(12), before: false }, false);
        let data: Data = [("end".to_owned(), serde_json::Value::from("9999-06-01"))].into_iter().collect();
        let r = timers_for_state(&s, &data, datetime!(2026-01-01 0:00 UTC), &Calendar::default(), offset!(+8));
        assert!(matches!(&r, Err(Refusal::DeadlineOutOfRange { event }) if !event.is_empty()), "{r:?}");
    }
}
