//! The mentor pool, and assigning mentors to a cohort's trainees through the engine (each
//! assignment is a transition of the trainee's track, so the audit trail keeps it).

use sea_orm::{ConnectionTrait, DbErr};
use serde_json::{Value, json};

use crate::engine::{Actor, Data};
use crate::runtime::{Runtime, RuntimeError};
use crate::sector::track;
use crate::store::db::{Conn, begin_write};
use crate::store::{self, instances};
use crate::training::assign::{self, Choice, Mentor, Trainee};
use crate::training::enrol;

/// Adds a mentor to the pool, or updates them (from the store).
pub use crate::store::mentors::upsert;

/// The pool, with each mentor's current load (see [`store::mentors::loads`]).
pub async fn pool<C: ConnectionTrait>(c: &C) -> Result<Vec<(Mentor, String)>, DbErr> {
    let loads = store::mentors::loads(c).await?;
    Ok(store::mentors::list(c)
        .await?
        .into_iter()
        .map(|m| {
            let mentor = Mentor {
                load: loads.get(&m.username).copied().unwrap_or(0),
                username: m.username,
                field: m.field,
                capacity: usize::try_from(m.capacity).unwrap_or(0),
            };
            (mentor, m.name)
        })
        .collect())
}

/// Assigns a mentor to every trainee of the cohort who has none yet, and returns each choice;
/// the assignments commit together (through `conn`, as [`enrol::import_csv`] does).
pub async fn auto_assign<C: Conn>(
    rt: &Runtime,
    conn: &C,
    cohort: i64,
    actor: &Actor,
) -> Result<Vec<(String, Choice)>, RuntimeError> {
    let txn = begin_write(conn).await?;
    instances::lock(&txn, cohort).await?.ok_or(RuntimeError::NotFound(cohort))?;
    let mentors: Vec<Mentor> = pool(&txn).await?.into_iter().map(|(m, _)| m).collect();
    let records = enrol::trainees(&txn, cohort).await?;
    let tracks = instances::children(&txn, cohort).await?;
    let waiting: Vec<_> = tracks
        .iter()
        .filter(|t| t.process == track::PROCESS && t.outcome.is_none() && t.data.get(track::MENTOR).is_none())
        .filter_map(|t| {
            let code = t.data.get(track::TRAINEE)?.as_str()?.to_owned();
            let trade = records.iter().find(|r| r.code == code)?.trade.clone();
            Some((t.id, Trainee { id: code, field: trade }))
        })
        .collect();
    let trainees: Vec<Trainee> = waiting.iter().map(|(_, t)| t.clone()).collect();
    let choices = assign::assign(&mentors, &trainees);
    for ((track, _), (_, choice)) in waiting.iter().zip(&choices) {
        if let Choice::Assigned { mentor, .. } = choice {
            rt.fire_in(
                &txn,
                *track,
                None,
                actor,
                track::ASSIGN_MENTOR,
                &Data::from_iter([(track::MENTOR.to_owned(), json!(mentor))]),
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(choices)
}

#[derive(Debug, thiserror::Error)]
pub enum ReassignError {
    #[error("no mentor {0:?} in the pool")]
    UnknownMentor(String),
    #[error("{mentor} follows {load} of {capacity}: {asked} more would pass the capacity")]
    Full { mentor: String, load: usize, capacity: usize, asked: usize },
    #[error("no trainee was chosen")]
    NoneChosen,
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

impl From<DbErr> for ReassignError {
    fn from(e: DbErr) -> Self {
        ReassignError::Runtime(e.into())
    }
}

/// Gives the chosen trainees of a cohort (by code) to `mentor`, with the reason the audit trail
/// keeps; a trainee with no mentor yet is assigned. Refused whole if the mentor would pass their
/// capacity. Returns how many changed mentor.
pub async fn reassign(
    rt: &Runtime,
    cohort: i64,
    actor: &Actor,
    codes: &[String],
    mentor: &str,
    reason: &str,
) -> Result<usize, ReassignError> {
    if codes.is_empty() {
        return Err(ReassignError::NoneChosen);
    }
    // One transaction with the cohort held: two reassignments at once cannot both fit a mentor
    // who has room for one of them, and a refusal half-way changes no one.
    let txn = begin_write(rt.db()).await?;
    instances::lock(&txn, cohort).await?.ok_or(RuntimeError::NotFound(cohort))?;
    let pool = pool(&txn).await?;
    let m = pool.iter().map(|(m, _)| m).find(|m| m.username == mentor);
    let m = m.ok_or_else(|| ReassignError::UnknownMentor(mentor.to_owned()))?;
    let tracks = instances::children(&txn, cohort).await?;
    let moving: Vec<_> = tracks
        .iter()
        .filter(|t| t.process == track::PROCESS && t.outcome.is_none())
        .filter(|t| t.data.get(track::TRAINEE).and_then(Value::as_str).is_some_and(|c| codes.iter().any(|x| x == c)))
        .filter(|t| t.data.get(track::MENTOR).and_then(Value::as_str) != Some(mentor))
        .collect();
    if m.load + moving.len() > m.capacity {
        return Err(ReassignError::Full {
            mentor: mentor.to_owned(),
            load: m.load,
            capacity: m.capacity,
            asked: moving.len(),
        });
    }
    for t in &moving {
        let (event, given) = if t.data.get(track::MENTOR).is_some() {
            (
                track::REASSIGN,
                Data::from_iter([(track::MENTOR.to_owned(), json!(mentor)), (track::REASON.to_owned(), json!(reason))]),
            )
        } else {
            (track::ASSIGN_MENTOR, Data::from_iter([(track::MENTOR.to_owned(), json!(mentor))]))
        };
        rt.fire_in(&txn, t.id, None, actor, event, &given).await?;
    }
    txn.commit().await?;
    Ok(moving.len())
}
