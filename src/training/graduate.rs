//! Graduating a cohort: every trainee still in training graduates if their track's completion
//! rule holds (the guards of `graduate` in `workflows/trainee_track.toml`), and is otherwise
//! closed as not completed, with the rule's own reason as the recorded reason.

use crate::engine::Data;
use crate::sector::{cohort, track};
use serde_json::json;

use crate::engine::{Actor, GuardFailure, Refusal};
use crate::runtime::{Runtime, RuntimeError};
use crate::store::db::{Conn, begin_write};
use crate::store::instances;

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Graduated,
    NotCompleted(GuardFailure),
}

/// Decides every trainee still in training. `reason` words a failed rule for the record.
pub async fn graduate_cohort<C: Conn>(
    rt: &Runtime,
    conn: &C,
    cohort: i64,
    actor: &Actor,
    reason: impl Fn(&GuardFailure) -> String,
) -> Result<Vec<(String, Verdict)>, RuntimeError> {
    // Every verdict commits together, with the cohort held: a failure half-way decides no one.
    let txn = begin_write(conn).await?;
    let state = instances::lock(&txn, cohort).await?.ok_or(RuntimeError::NotFound(cohort))?.state;
    if state != cohort::GRADUATION {
        return Err(Refusal::NotFromState { event: track::GRADUATE.to_owned(), state }.into());
    }
    let tracks = instances::children(&txn, cohort).await?;
    let mut verdicts = Vec::new();
    for t in tracks.iter().filter(|t| t.process == track::PROCESS && t.state == track::IN_TRAINING) {
        let trainee = t.data.get(track::TRAINEE).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        match rt.fire_in(&txn, t.id, None, actor, track::GRADUATE, &Default::default()).await {
            Ok(_) => verdicts.push((trainee, Verdict::Graduated)),
            // The completion rule's built-in words, which name the phase or competence short.
            Err(RuntimeError::Refused(Refusal::Guard(failure, _))) => {
                let given = Data::from_iter([(track::REASON.to_owned(), json!(reason(&failure)))]);
                rt.fire_in(&txn, t.id, None, actor, track::NOT_COMPLETE, &given).await?;
                verdicts.push((trainee, Verdict::NotCompleted(failure)));
            }
            Err(e) => return Err(e),
        }
    }
    txn.commit().await?;
    Ok(verdicts)
}
