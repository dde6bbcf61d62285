//! Reading a definition's instances for its declared reports: newest first, a page by key at a
//! time, at most [`READ_LIMIT`] of them, each page folded into the figures and dropped.

use sea_orm::{ConnectionTrait, DbErr};
use time::UtcOffset;

use crate::definition::Definition;
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
    }
}

/// Sums every instance of `def`'s process (of any of its versions) into its reports.
#[tracing::instrument(skip(c, def), fields(process = %def.id))]
pub async fn figures<C: ConnectionTrait>(c: &C, def: &Definition, offset: UtcOffset) -> Result<Figures, DbErr> {
    let mut tallies: Vec<Tally<'_>> = def.reports.iter().map(|r| Tally::new(def, r)).collect();
    let mut before = None;
    let mut read = 0;
    let mut truncated = false;
    if !tallies.is_empty() {
        loop {
            let page = instances::list(c, &def.id, before, PAGE).await?;
            let Some(last) = page.last() else { break };
            before = Some(last.id);
            for r in &page {
                if read == READ_LIMIT {
                    truncated = true;
                    break;
                }
                read += 1;
                for t in &mut tallies {
                    t.add(&row(r, offset));
                }
            }
            if truncated || (page.len() as u64) < PAGE {
                break;
            }
        }
    }
    Ok(Figures { reports: tallies.into_iter().map(Tally::lines).collect(), truncated })
}
