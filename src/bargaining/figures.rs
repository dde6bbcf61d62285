//! The figures of a sector: per year, the signing rate (units whose round brought a contract into
//! effect, over the units in scope), the rounds by stage, and how long each stage took.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbErr};
use serde_json::Value;

use crate::definition::Definition;
use crate::sector::round;
use crate::store::{self, instances};

/// One sector's year.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct YearFigures {
    pub sector: String,
    pub year: i64,
    pub rounds: u64,
    pub units_in_scope: u64,
    pub units_signed: u64,
    /// Rounds by the stage they are in now, in the definition's stage order.
    pub by_stage: Vec<(String, u64)>,
    /// Average days spent in each stage, over the rounds that passed through it.
    pub days_in_stage: Vec<(String, f64)>,
}

impl YearFigures {
    /// The signing rate in whole per cent, exact-integer rounded half up.
    pub fn rate_percent(&self) -> u64 {
        (self.units_signed * 200 + self.units_in_scope).checked_div(self.units_in_scope * 2).unwrap_or(0)
    }
}

/// A sector's years, newest first as read, with the average days per stage over all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct SectorFigures {
    pub sector: String,
    pub years: Vec<YearFigures>,
    /// For each stage of the definition, in its order: the average of the years' averages, over
    /// the years whose rounds passed through it (0 where none did).
    pub days_per_stage: Vec<(String, f64)>,
}

/// Groups years (sorted by sector) into sectors, with each sector's days per stage.
pub fn by_sector(def: &Definition, years: Vec<YearFigures>) -> Vec<SectorFigures> {
    let mut sectors: Vec<SectorFigures> = Vec::new();
    for y in years {
        match sectors.last_mut() {
            Some(s) if s.sector == y.sector => s.years.push(y),
            _ => sectors.push(SectorFigures { sector: y.sector.clone(), years: vec![y], days_per_stage: Vec::new() }),
        }
    }
    for s in &mut sectors {
        s.days_per_stage = def
            .stages
            .iter()
            .map(|st| {
                let spans: Vec<f64> = s
                    .years
                    .iter()
                    .filter_map(|y| y.days_in_stage.iter().find(|(id, _)| *id == st.id))
                    .map(|(_, d)| *d)
                    .filter(|d| *d > 0.0)
                    .collect();
                (st.id.clone(), if spans.is_empty() { 0.0 } else { spans.iter().sum::<f64>() / spans.len() as f64 })
            })
            .collect();
    }
    sectors
}

/// What one round contributes to its year's figures.
struct RoundFacts {
    sector: String,
    year: i64,
    units: u64,
    /// The units the round's contract binds (none until it takes effect).
    signed: u64,
    stage: String,
    /// Microseconds spent per stage, from the round's history.
    stage_micros: BTreeMap<String, i64>,
}

/// Reads every round (in pages by key) and folds them into figures per sector and year, newest
/// year first.
pub async fn figures<C: ConnectionTrait>(c: &C, def: &Definition, now_micros: i64) -> Result<Vec<YearFigures>, DbErr> {
    let mut facts = Vec::new();
    let mut before = None;
    loop {
        let page = instances::list(c, round::PROCESS, before, 500).await?;
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        for row in &page {
            let history = store::figures::history(c, row.id).await?;
            let mut stage_micros: BTreeMap<String, i64> = BTreeMap::new();
            let mut entered: Option<(String, i64)> = None;
            for store::figures::StateEntered { at, to_state } in history {
                let Some(stage) = to_state.as_deref().and_then(|s| def.state(s)).map(|s| s.stage.clone()) else {
                    continue;
                };
                if let Some((prev, since)) = entered.take() {
                    *stage_micros.entry(prev).or_default() += at - since;
                }
                entered = Some((stage, at));
            }
            if let Some((stage, since)) = entered
                && !def.state(&row.state).is_some_and(|s| s.is_final)
            {
                *stage_micros.entry(stage).or_default() += now_micros - since;
            }
            let count = |field: &str| row.data.get(field).and_then(Value::as_array).map_or(0, |u| u.len() as u64);
            facts.push(RoundFacts {
                sector: row.data.get(round::SECTOR).and_then(Value::as_str).unwrap_or_default().to_owned(),
                year: row.data.get(round::YEAR).and_then(Value::as_i64).unwrap_or_default(),
                units: count(round::UNITS),
                // A contract binds the units that passed it (all of them, unless units that
                // rejected were left out).
                signed: if row.data.get(round::EFFECTIVE_ON).is_some_and(|v| !v.is_null()) {
                    row.data
                        .get(round::COVERED_UNITS)
                        .map_or_else(|| count(round::UNITS), |_| count(round::COVERED_UNITS))
                } else {
                    0
                },
                stage: def.state(&row.state).map(|s| s.stage.clone()).unwrap_or_default(),
                stage_micros,
            });
        }
    }
    Ok(fold(def, facts))
}

fn fold(def: &Definition, facts: Vec<RoundFacts>) -> Vec<YearFigures> {
    let mut groups: BTreeMap<(String, i64), Vec<RoundFacts>> = BTreeMap::new();
    for f in facts {
        groups.entry((f.sector.clone(), f.year)).or_default().push(f);
    }
    let mut out: Vec<YearFigures> = groups
        .into_iter()
        .map(|((sector, year), rounds)| {
            let by_stage = def
                .stages
                .iter()
                .map(|s| (s.id.clone(), rounds.iter().filter(|r| r.stage == s.id).count() as u64))
                .collect();
            let days_in_stage = def
                .stages
                .iter()
                .map(|s| {
                    let spans: Vec<i64> = rounds.iter().filter_map(|r| r.stage_micros.get(&s.id).copied()).collect();
                    let avg = if spans.is_empty() {
                        0.0
                    } else {
                        spans.iter().sum::<i64>() as f64 / spans.len() as f64 / 86_400e6
                    };
                    (s.id.clone(), avg)
                })
                .collect();
            YearFigures {
                sector,
                year,
                rounds: rounds.len() as u64,
                units_in_scope: rounds.iter().map(|r| r.units).sum(),
                units_signed: rounds.iter().map(|r| r.signed).sum(),
                by_stage,
                days_in_stage,
            }
        })
        .collect();
    out.sort_by(|a, b| a.sector.cmp(&b.sector).then(b.year.cmp(&a.year)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_units_signed_over_units_in_scope_rounded_half_up() {
        let y = |signed, scope| YearFigures { units_signed: signed, units_in_scope: scope, ..Default::default() };
        assert_eq!(y(7, 12).rate_percent(), 58); // 58.33
        assert_eq!(y(1, 8).rate_percent(), 13); // 12.5 rounds up
        assert_eq!(y(12, 12).rate_percent(), 100);
        assert_eq!(y(0, 0).rate_percent(), 0);
    }

    #[test]
    fn sectors_gather_their_years_and_average_the_days_of_the_years_that_had_the_stage() {
        let def = crate::definition::embedded::load_embedded().unwrap().get(round::PROCESS).unwrap().clone();
        let first_stage = def.stages[0].id.clone();
        let year = |sector: &str, year, days: f64| YearFigures {
            sector: sector.into(),
            year,
            days_in_stage: vec![(first_stage.clone(), days)],
            ..Default::default()
        };
        let sectors = by_sector(
            &def,
            vec![year("a", 2026, 10.0), year("a", 2025, 0.0), year("a", 2024, 20.0), year("b", 2026, 3.0)],
        );
        assert_eq!(
            sectors.iter().map(|s| (s.sector.as_str(), s.years.len())).collect::<Vec<_>>(),
            [("a", 3), ("b", 1)]
        );
        assert_eq!(
            sectors[0].days_per_stage[0],
            (first_stage.clone(), 15.0),
            "a year without the stage does not count"
        );
        assert_eq!(sectors[1].days_per_stage[0].1, 3.0);
        assert!(sectors[0].days_per_stage[1..].iter().all(|(_, d)| *d == 0.0));
    }
}
