//! A demo scenario as data: instances started and steps taken on given days of a past year,
//! played on the demo's own clock, with the timers that fall due in between firing as they would
//! have. It knows no process: the file names the process, the people and the values.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::clock::ManualClock;
use crate::definition::calendar::format_date;
use crate::engine::{Actor, Data};
use crate::runtime::Runtime;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    pub process: String,
    /// Who acts: a username and roles.
    pub actor: ScriptActor,
    /// How many days before now the scenario's day 0 is.
    pub days_ago: i64,
    #[serde(default, rename = "case")]
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptActor {
    pub name: String,
    pub roles: Vec<String>,
}

/// One instance: started on `day` with `start`, then its steps, each `day`s after its start.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub day: i64,
    pub start: toml::Table,
    #[serde(default)]
    pub steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub day: i64,
    pub event: String,
    #[serde(default)]
    pub data: toml::Table,
}

/// The values of a step: `"@day"` is the date the step is taken.
fn values(table: &toml::Table, on: OffsetDateTime) -> anyhow::Result<Data> {
    let mut data = Data::new();
    for (k, v) in table {
        let v = match v {
            toml::Value::String(s) if s == "@day" => Value::String(format_date(on.date())),
            other => serde_json::to_value(other)?,
        };
        data.insert(k.clone(), v);
    }
    Ok(data)
}

/// Plays `script` on `rt`, whose clock is `clock`; the clock ends at `now`. Returns the instances
/// started.
pub async fn play(rt: &Runtime, clock: &ManualClock, now: OffsetDateTime, script: &Script) -> anyhow::Result<usize> {
    let actor = Actor::new(&script.actor.name, script.actor.roles.iter().map(String::as_str));
    let day0 = now - Duration::days(script.days_ago);
    // Every action in time order: (day, case, step index or none for the start).
    let mut plan: BTreeMap<(i64, usize, usize), Option<&Step>> = BTreeMap::new();
    for (c, case) in script.cases.iter().enumerate() {
        plan.insert((case.day, c, 0), None);
        for (i, step) in case.steps.iter().enumerate() {
            plan.insert((case.day + step.day, c, i + 1), Some(step));
        }
    }
    let mut ids: BTreeMap<usize, i64> = BTreeMap::new();
    for ((day, c, _), step) in plan {
        let at = (day0 + Duration::days(day)).min(now);
        clock.set(at);
        rt.fire_due_timers().await?;
        match step {
            None => {
                let given = values(&script.cases[c].start, at)?;
                ids.insert(c, rt.start(&script.process, &actor, &given).await?);
            }
            Some(step) => {
                let id = *ids.get(&c).ok_or_else(|| anyhow::anyhow!("case {c} not started"))?;
                let given = values(&step.data, at)?;
                rt.fire(id, None, &actor, &step.event, &given)
                    .await
                    .map_err(|e| anyhow::anyhow!("case {c}, day {day}, {}: {e}", step.event))?;
            }
        }
    }
    clock.set(now);
    rt.fire_due_timers().await?;
    Ok(ids.len())
}
