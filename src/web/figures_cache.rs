//! The figures page's sums, kept while nothing they count has changed. Summing a process's reports
//! reads every instance of it (and, for days in stage, their histories): too much to do on every
//! view of a page many people keep open. A process's sums are used again while its
//! [`Fingerprint`] is the same, on the same day, and — where a report counts days in stage, which
//! grow with the clock — for at most [`DAYS_FRESH_FOR`]. One reader sums while the others wait for
//! its result rather than summing the same figures beside it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, DbErr};
use time::{Date, OffsetDateTime, UtcOffset};

use crate::definition::{Definition, ReportKind};
use crate::store::reports::{self, Figures, Fingerprint};

/// How long sums with days in stage are shown before they are made again.
pub const DAYS_FRESH_FOR: Duration = Duration::from_secs(60);

struct Kept {
    fingerprint: Fingerprint,
    day: Date,
    at: Instant,
    figures: Arc<Figures>,
}

/// One slot per process (a server's definitions do not change while it runs); its lock is held by whoever is summing it.
type Slot = Arc<tokio::sync::Mutex<Option<Kept>>>;

#[derive(Default)]
pub struct FiguresCache {
    slots: Mutex<HashMap<String, Slot>>,
}

impl FiguresCache {
    /// `def`'s figures as the database holds them now (or as summed a moment ago, where
    /// nothing they count has changed since).
    pub async fn figures(
        &self,
        db: &DatabaseConnection,
        def: &Arc<Definition>,
        offset: UtcOffset,
        now: OffsetDateTime,
    ) -> Result<Arc<Figures>, DbErr> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(def.id.clone()).or_default().clone()
        };
        let fingerprint = reports::fingerprint(db, &def.id).await?;
        let day = now.to_offset(offset).date();
        let ages = def.reports.iter().any(|r| r.kind == ReportKind::DaysInStage);
        let mut kept = slot.lock().await;
        if let Some(k) = kept.as_ref()
            && k.fingerprint == fingerprint
            && k.day == day
            && (!ages || k.at.elapsed() < DAYS_FRESH_FOR)
        {
            return Ok(k.figures.clone());
        }
        // Read the fingerprint before the sums: a step committed in between makes the sums newer
        // than the fingerprint says, and the next view sums again; never the other way round.
        let figures = Arc::new(reports::figures(db, def, offset, now).await?);
        *kept = Some(Kept { fingerprint, day, at: Instant::now(), figures: figures.clone() });
        Ok(figures)
    }
}
