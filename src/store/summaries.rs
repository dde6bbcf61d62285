//! The declared reports of a parent's children (a cohort's trainee tracks), kept summed as the
//! children change instead of summed on every view: each change of a child adds what it now
//! contributes to each group and takes away what it contributed before, in the transaction of the
//! change. A page reads a handful of lines, whatever the number of children.
//!
//! Each child counts by the reports of its own definition version; days in stage, which grow
//! with the clock rather than with changes, are not kept here.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use time::UtcOffset;

use crate::definition::Definition;
use crate::engine::report::{self, Line, Part, Row};
use crate::store::db::{exec, for_update, row, rows};
use crate::store::definitions::Registry;
use crate::store::instances::{self, InstanceRow};

/// One group of one report of one parent's children of one process.
type LineKey = (i64, String, String, Vec<String>);

/// Changes to the summaries not yet written: summed in memory over a transaction's changes (a
/// fan-out of 600 children writes each line once), then written in key order, so two
/// transactions lock the lines they share in the same order.
#[derive(Debug, Default)]
pub struct Changes(BTreeMap<LineKey, Part>);

/// A child as its parent's summary reads it: its parent, and how reports see it.
pub struct Child<'a> {
    pub parent: i64,
    pub def: &'a Definition,
    pub row: Row<'a>,
}

impl<'a> Child<'a> {
    /// A stored child, if it has a parent.
    pub fn of(def: &'a Definition, inst: &'a InstanceRow, offset: UtcOffset) -> Option<Child<'a>> {
        Some(Child { parent: inst.parent_id?, def, row: crate::store::reports::row(inst, offset) })
    }
}

impl Changes {
    /// A child changed from `before` (none: it is new) to `after`.
    pub fn change(&mut self, before: Option<&Child<'_>>, after: Option<&Child<'_>>) {
        for (child, sign) in [(before, -1), (after, 1)] {
            let Some(child) = child else { continue };
            for ((report, keys), part) in report::parts(child.def, &child.row) {
                self.0.entry((child.parent, child.def.id.clone(), report, keys)).or_default().add(&part, sign);
            }
        }
    }

    /// Writes the changes into the summary lines.
    pub async fn write<C: ConnectionTrait>(self, c: &C) -> Result<(), DbErr> {
        for ((parent, process, report, keys), part) in self.0 {
            if part.is_zero() {
                continue;
            }
            let keys = serde_json::to_string(&keys).map_err(|e| DbErr::Json(e.to_string()))?;
            add(c, parent, &process, &report, &keys, &part).await?;
        }
        Ok(())
    }
}

#[derive(FromQueryResult)]
struct Stored {
    report: String,
    keys: String,
    visits: i64,
    n: i64,
    d: i64,
    total: String,
}

impl Stored {
    fn part(&self) -> Result<Part, DbErr> {
        let total = Decimal::from_str(&self.total).map_err(|e| DbErr::Custom(format!("a summary's total: {e}")))?;
        Ok(Part { visits: self.visits, n: self.n, d: self.d, total })
    }
}

/// Adds `part` to one line. The line is read locked (PostgreSQL; SQLite has one writer), so the
/// exact decimal total is added in Rust without losing a concurrent change.
async fn add<C: ConnectionTrait>(
    c: &C,
    parent: i64,
    process: &str,
    report: &str,
    keys: &str,
    part: &Part,
) -> Result<(), DbErr> {
    let key = || vec![parent.into(), process.into(), report.into(), keys.into()];
    let select = format!(
        "SELECT report, keys, visits, n, d, total FROM child_report_lines
         WHERE parent_id = $1 AND process = $2 AND report = $3 AND keys = $4{}",
        for_update(c)
    );
    // Twice at most: a line another transaction inserted first is there to update the second time.
    for _ in 0..2 {
        if let Some(found) = row::<Stored, _>(c, &select, key()).await? {
            let mut sum = found.part()?;
            sum.add(part, 1);
            if sum.visits <= 0 {
                exec(
                    c,
                    "DELETE FROM child_report_lines WHERE parent_id = $1 AND process = $2 AND report = $3 AND keys = $4",
                    key(),
                )
                .await?;
            } else {
                let mut values = vec![sum.visits.into(), sum.n.into(), sum.d.into(), sum.total.to_string().into()];
                values.extend(key());
                exec(
                    c,
                    "UPDATE child_report_lines SET visits = $1, n = $2, d = $3, total = $4
                     WHERE parent_id = $5 AND process = $6 AND report = $7 AND keys = $8",
                    values,
                )
                .await?;
            }
            return Ok(());
        }
        let mut values = key();
        values.extend([part.visits.into(), part.n.into(), part.d.into(), part.total.to_string().into()]);
        let inserted = exec(
            c,
            "INSERT INTO child_report_lines (parent_id, process, report, keys, visits, n, d, total)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (parent_id, process, report, keys) DO NOTHING",
            values,
        )
        .await?;
        if inserted == 1 {
            return Ok(());
        }
    }
    Err(DbErr::Custom(format!("the summary line {report} {keys} of instance {parent} could not be written")))
}

/// The figures of every report of `def` over the children of `parent` of its process, as
/// [`report::tally`] gives them over the children themselves.
pub async fn figures<C: ConnectionTrait>(c: &C, parent: i64, def: &Definition) -> Result<Vec<Vec<Line>>, DbErr> {
    let stored: Vec<Stored> = rows(
        c,
        "SELECT report, keys, visits, n, d, total FROM child_report_lines
         WHERE parent_id = $1 AND process = $2 AND visits > 0",
        vec![parent.into(), def.id.clone().into()],
    )
    .await?;
    let mut by_report: BTreeMap<&str, Vec<(Vec<String>, Part)>> = BTreeMap::new();
    for s in &stored {
        let keys: Vec<String> = serde_json::from_str(&s.keys).map_err(|e| DbErr::Json(e.to_string()))?;
        by_report.entry(s.report.as_str()).or_default().push((keys, s.part()?));
    }
    Ok(def
        .reports
        .iter()
        .map(|r| report::lines_of(def, r, by_report.remove(r.id.as_str()).unwrap_or_default()))
        .collect())
}

/// Children read a page at a time when every summary is summed again.
const PAGE: u64 = 500;

/// Sums every summary again from the children as they are, replacing what was kept: for a
/// database whose children were written before summaries were kept (the migration that adds
/// them asks for it), and for a test to compare with what changes kept.
pub async fn rebuild<C: ConnectionTrait>(
    c: &C,
    db: &sea_orm::DatabaseConnection,
    registry: &Registry,
    offset: UtcOffset,
) -> Result<u64, crate::store::definitions::RegistryError> {
    exec(c, "DELETE FROM child_report_lines", vec![]).await?;
    let mut changes = Changes::default();
    let mut after = 0;
    let mut read = 0;
    loop {
        let sql = format!(
            "SELECT {} FROM instances WHERE parent_id IS NOT NULL AND id > $1 ORDER BY id LIMIT {PAGE}",
            instances::COLUMNS
        );
        let page = instances::select(c, &sql, vec![after.into()]).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for inst in &page {
            let def = registry.by_row(db, inst.definition_id).await?;
            changes.change(None, Child::of(&def, inst, offset).as_ref());
        }
        read += page.len() as u64;
        if (page.len() as u64) < PAGE {
            break;
        }
    }
    changes.write(c).await?;
    Ok(read)
}

/// Sums the summaries again if a migration asked for it (`summary_fills`), in one transaction
/// that also clears the request.
pub async fn fill_if_asked(
    db: &sea_orm::DatabaseConnection,
    registry: &Registry,
    offset: UtcOffset,
) -> Result<(), crate::store::definitions::RegistryError> {
    #[derive(FromQueryResult)]
    struct Asked {
        n: i64,
    }
    let asked: Option<Asked> = row(db, "SELECT COUNT(*) AS n FROM summary_fills", vec![]).await?;
    if asked.is_none_or(|a| a.n == 0) {
        return Ok(());
    }
    let txn = crate::store::db::begin_write(db).await?;
    // Taking the request first: of two servers starting at once, the second waits here and
    // then finds it gone, rather than summing the children a second time on top.
    if exec(&txn, "DELETE FROM summary_fills", vec![]).await? == 0 {
        return Ok(());
    }
    let read = rebuild(&txn, db, registry, offset).await?;
    txn.commit().await?;
    tracing::info!(children = read, "the children's report summaries were summed");
    Ok(())
}
