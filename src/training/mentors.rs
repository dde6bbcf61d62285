//! The mentor pool, and assigning mentors to a cohort's trainees through the engine (each
//! assignment is a transition of the trainee's track, so the audit trail keeps it).

use crate::sector::track;
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::{Value, json};

use crate::clock::to_micros;
use crate::engine::{Actor, Data};
use crate::runtime::{Runtime, RuntimeError};
use crate::store::db::{Conn, all, begin_write, exec, get};
use crate::store::instances;
use crate::training::assign::{self, Choice, Mentor, Trainee};
use crate::training::enrol;

pub async fn upsert<C: ConnectionTrait>(
    c: &C,
    username: &str,
    name: &str,
    field: &str,
    capacity: i64,
    now: time::OffsetDateTime,
) -> Result<(), DbErr> {
    exec(
        c,
        "INSERT INTO mentors (username, name, field, capacity, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (username) DO UPDATE SET name = $2, field = $3, capacity = $4",
        vec![username.into(), name.into(), field.into(), capacity.into(), to_micros(now).into()],
    )
    .await?;
    Ok(())
}

/// The pool, with each mentor's current load: the trainees they follow who are still in a
/// programme. Graduates in the talent pool keep their mentor for services, but do not take a
/// place a new trainee could have.
pub async fn pool<C: ConnectionTrait>(c: &C) -> Result<Vec<(Mentor, String)>, DbErr> {
    let loads = all(
        c,
        "SELECT data FROM instances WHERE process = $1 AND outcome IS NULL AND state <> $2",
        vec![track::PROCESS.into(), track::IN_POOL.into()],
    )
    .await?;
    let mut count: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for r in &loads {
        let data: String = get(r, "data")?;
        if let Some(m) = serde_json::from_str::<Value>(&data)
            .ok()
            .and_then(|d| d.get(track::MENTOR).and_then(Value::as_str).map(str::to_owned))
        {
            *count.entry(m).or_default() += 1;
        }
    }
    all(c, "SELECT username, name, field, capacity FROM mentors ORDER BY field, username", vec![])
        .await?
        .iter()
        .map(|r| {
            let username: String = get(r, "username")?;
            let capacity: i64 = get(r, "capacity")?;
            Ok((
                Mentor {
                    load: count.get(&username).copied().unwrap_or(0),
                    username,
                    field: get(r, "field")?,
                    capacity: usize::try_from(capacity).unwrap_or(0),
                },
                get(r, "name")?,
            ))
        })
        .collect()
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
