//! Beginning training for many trainees at once, from the cohort's trainees page: each trainee's
//! `begin_training` is still its own step of their track, checked by its own guards and kept in
//! the audit trail as one event per trainee.
//!
//! Each step commits on its own, not all in one transaction: beginning one trainee's training
//! does not depend on another's, so a trainee who cannot begin yet (no mentor, already begun,
//! withdrawn) is named with the reason while the others begin. A second submit of the same ticks
//! begins nobody twice: those already in training are refused by their track's state.

use crate::engine::{Actor, Data, Refusal};
use crate::runtime::{Runtime, RuntimeError};
use crate::sector::track;

/// Why one ticked trainee did not begin.
#[derive(Debug, Clone, PartialEq)]
pub enum NotBegun {
    /// The cohort has no open track for this code (a post the page did not offer).
    NoTrack,
    /// The track's definition refused the step.
    Refused(Refusal),
}

/// What came of each ticked trainee, in the order ticked (by code).
pub type Begun = Vec<(String, Result<(), NotBegun>)>;

/// Begins training for the trainees of `cohort` whose codes are given. A refusal is reported
/// per trainee; only a failure of the database stops the rest (those begun before it stay begun,
/// and the page shows them so).
pub async fn begin_many(rt: &Runtime, cohort: i64, actor: &Actor, codes: &[String]) -> Result<Begun, RuntimeError> {
    let tracks = rt.children(cohort).await?;
    // Each track by its trainee's code: a page of ticks against a cohort of thousands is one pass.
    let by_code: std::collections::HashMap<&str, i64> = tracks
        .iter()
        .filter(|t| t.process == track::PROCESS)
        .filter_map(|t| Some((t.data.get(track::TRAINEE)?.as_str()?, t.id)))
        .collect();
    let mut out = Vec::with_capacity(codes.len());
    let mut seen = std::collections::BTreeSet::new();
    for code in codes.iter().filter(|c| seen.insert(c.as_str())) {
        let result = match by_code.get(code.as_str()) {
            None => Err(NotBegun::NoTrack),
            Some(&id) => match rt.fire(id, None, actor, track::BEGIN_TRAINING, &Data::new()).await {
                Ok(_) => Ok(()),
                Err(RuntimeError::Refused(r)) => Err(NotBegun::Refused(r)),
                Err(e) => return Err(e),
            },
        };
        out.push((code.clone(), result));
    }
    Ok(out)
}
