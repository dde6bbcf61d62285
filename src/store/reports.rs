//! Reading a definition's instances for its declared reports: newest first, a page by key at a
//! time, at most [`READ_LIMIT`] of them, each page folded into the figures and dropped.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use time::{OffsetDateTime, UtcOffset};

use crate::definition::{Definition, ReportKind};
use crate::engine::report::{Line, Row, Tally};
use crate::store::instances::{self, InstanceRow};

/// The most instances one reading of a process's reports sums (the newest ones); the page
/// says so when there were more.
pub const READ_LIMIT: usize = 100_000;
const PAGE: u64 = 500;

/// The figures of every report of `def`, with whether instances beyond [`READ_LIMIT`] were left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub reports: Vec<Vec<Line>>,
    pub truncated: bool,
}

/// What a report reads of a stored instance.
pub fn row(r: &InstanceRow, offset: UtcOffset) -> Row<'_> {
    Row {
        state: &r.state,
        outcome: r.outcome.as_deref(),
        data: &r.data,
        started: r.created_at.to_offset(offset).date(),
        stage_days: None,
    }
}

/// One step of an instance's history: when, and the state it led to (none for a step that
/// changed no state).
#[derive(Debug, FromQueryResult)]
struct Entered {
    stream: String,
    at: i64,
    to_state: Option<String>,
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// For each instance of a page, the days it has spent in each stage, from its history (one query
/// for the page), up to `now` for the stage an instance still open is in.
async fn stage_days<C: ConnectionTrait>(
    c: &C,
    def: &Definition,
    page: &[InstanceRow],
    now: OffsetDateTime,
) -> Result<BTreeMap<i64, BTreeMap<String, Decimal>>, DbErr> {
    let streams: Vec<String> = page.iter().map(|r| crate::store::audit::instance_stream(r.id)).collect();
    let marks: Vec<String> = (1..=streams.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT stream, at, to_state FROM audit_events WHERE stream IN ({}) ORDER BY stream, seq",
        marks.join(", ")
    );
    let steps: Vec<Entered> =
        crate::store::db::rows(c, &sql, streams.iter().map(|s| s.clone().into()).collect()).await?;
    let mut by_stream: BTreeMap<&str, Vec<&Entered>> = BTreeMap::new();
    for step in &steps {
        by_stream.entry(step.stream.as_str()).or_default().push(step);
    }
    let mut out = BTreeMap::new();
    for (row, stream) in page.iter().zip(&streams) {
        let mut micros: BTreeMap<String, i64> = BTreeMap::new();
        // The stage entered last, since when, and whether the instance ended there.
        let mut entered: Option<(String, i64, bool)> = None;
        for step in by_stream.get(stream.as_str()).into_iter().flatten() {
            let Some(state) = step.to_state.as_deref().and_then(|s| def.state(s)) else { continue };
            if let Some((prev, since, _)) = entered.take() {
                *micros.entry(prev).or_default() += step.at - since;
            }
            entered = Some((state.stage.clone(), step.at, state.is_final));
        }
        if let Some((stage, since, false)) = entered {
            *micros.entry(stage).or_default() += crate::clock::to_micros(now) - since;
        }
        let days = micros.into_iter().map(|(s, m)| (s, Decimal::from(m.max(0)) / Decimal::from(MICROS_PER_DAY)));
        out.insert(row.id, days.collect());
    }
    Ok(out)
}

/// Sums every instance of `def`'s process (of any of its versions) into its reports.
#[tracing::instrument(skip(c, def), fields(process = %def.id))]
pub async fn figures<C: ConnectionTrait>(
    c: &C,
    def: &Definition,
    offset: UtcOffset,
    now: OffsetDateTime,
) -> Result<Figures, DbErr> {
    // Histories are read only where a report asks for days in stage: a query per page.
    let durations = def.reports.iter().any(|r| r.kind == ReportKind::DaysInStage);
    let mut tallies: Vec<Tally<'_>> = def.reports.iter().map(|r| Tally::new(def, r)).collect();
    let mut before = None;
    let mut read = 0;
    let mut truncated = false;
    if !tallies.is_empty() {
        loop {
            let page = instances::list(c, &def.id, before, PAGE).await?;
            let Some(last) = page.last() else { break };
            before = Some(last.id);
            let days = if durations { stage_days(c, def, &page, now).await? } else { BTreeMap::new() };
            for r in &page {
                if read == READ_LIMIT {
                    truncated = true;
                    break;
                }
                read += 1;
                let row = Row { stage_days: days.get(&r.id), ..row(r, offset) };
                for t in &mut tallies {
                    t.add(&row);
                }
            }
            if truncated || (page.len() as u64) < PAGE {
                break;
            }
        }
    }
    Ok(Figures { reports: tallies.into_iter().map(Tally::lines).collect(), truncated })
}

/// What changes whenever an instance of `process` does: how many there are and the sum of their
/// versions (every step bumps one). Read before the figures, it tells whether figures summed
/// earlier still hold; it does not depend on the order in which concurrent steps commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromQueryResult)]
pub struct Fingerprint {
    pub instances: i64,
    pub versions: i64,
}

pub async fn fingerprint<C: ConnectionTrait>(c: &C, process: &str) -> Result<Fingerprint, DbErr> {
    let found = crate::store::db::row(
        c,
        "SELECT COUNT(*) AS instances, CAST(COALESCE(SUM(version), 0) AS BIGINT) AS versions \
         FROM instances WHERE process = $1",
        vec![process.into()],
    )
    .await?;
    Ok(found.unwrap_or(Fingerprint { instances: 0, versions: 0 }))
}
