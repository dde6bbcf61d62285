//! Standing in: the actor a substitute acts as while a substitution is in force, read afresh
//! each time (an ended substitution stops at once), and why they may not when it is not.

use sea_orm::{ConnectionTrait, DbErr};
use time::Date;

use crate::definition::calendar::format_date;
use crate::engine::{Actor, SubstituteGap};
use crate::people::users;
use crate::store::substitutes::{self, SubstitutionRow};

/// `substitute` standing in for `absent` on `today`: the absent person's roles and units under
/// the substitution in force, or why there is none. An absent person who is no longer an active
/// person (deactivated, or a service account) has no work to stand in for.
pub async fn actor_for<C: ConnectionTrait>(
    c: &C,
    substitute: &str,
    absent: &str,
    today: Date,
    offset: time::UtcOffset,
) -> Result<Result<Actor, SubstituteGap>, DbErr> {
    let day = format_date(today);
    let rows = substitutes::between(c, absent, substitute).await?;
    let Some(row) = rows.iter().find(|r| in_force(r, &day)) else {
        return Ok(Err(gap(&rows, &day, offset)));
    };
    match users::active_person(c, absent).await? {
        Some(user) => Ok(Ok(Actor::standing_in(substitute, &user.actor(), row.id))),
        None => Ok(Err(SubstituteGap::None)),
    }
}

/// Everyone `substitute` stands in for on `today`, as the actors they act as.
pub async fn actors_of<C: ConnectionTrait>(c: &C, substitute: &str, today: Date) -> Result<Vec<Actor>, DbErr> {
    let mut actors = Vec::new();
    for row in substitutes::held(c, substitute, &format_date(today)).await? {
        if let Some(user) = users::active_person(c, &row.absent_user).await? {
            actors.push(Actor::standing_in(substitute, &user.actor(), row.id));
        }
    }
    Ok(actors)
}

fn in_force(r: &SubstitutionRow, day: &str) -> bool {
    r.ended_at.is_none() && r.valid_from.as_str() <= day && day <= r.valid_until.as_str()
}

/// Why none of `rows` (the newest first) is in force on `day`: one ended early that would cover
/// it, else the next to begin, else the last that ran out.
fn gap(rows: &[SubstitutionRow], day: &str, offset: time::UtcOffset) -> SubstituteGap {
    let covers = |r: &&SubstitutionRow| r.valid_from.as_str() <= day && day <= r.valid_until.as_str();
    if let Some(r) = rows.iter().find(covers).filter(|r| r.ended_at.is_some()) {
        let on = r
            .ended_at
            .map(|at| format_date(crate::clock::from_micros(at).to_offset(offset).date()))
            .unwrap_or_default();
        return SubstituteGap::Ended { on };
    }
    let open = rows.iter().filter(|r| r.ended_at.is_none());
    if let Some(next) =
        open.clone().filter(|r| r.valid_from.as_str() > day).min_by(|a, b| a.valid_from.cmp(&b.valid_from))
    {
        return SubstituteGap::NotYet { from: next.valid_from.clone() };
    }
    match open.filter(|r| r.valid_until.as_str() < day).max_by(|a, b| a.valid_until.cmp(&b.valid_until)) {
        Some(last) => SubstituteGap::Over { until: last.valid_until.clone() },
        None => SubstituteGap::None,
    }
}

/// How many holders of one role the instance page names: enough for any role that acts on one
/// instance (a unit's secretary, a round's chiefs), bounded for a role everyone holds.
pub const HOLDERS_SHOWN: u64 = 20;

/// A person who may act on an instance now, and the substitution they are away under, if any.
pub struct Holder {
    pub username: String,
    pub away: Option<SubstitutionRow>,
}

/// Who may act on an instance of `def` in `state` with `data` now, in the roles its transitions
/// from there name (within the definition's scopes), each with their absence on `today`.
pub async fn holders_now<C: ConnectionTrait>(
    c: &C,
    def: &crate::definition::Definition,
    state: &str,
    data: &crate::engine::Data,
    today: Date,
) -> Result<Vec<Holder>, DbErr> {
    use crate::definition::{SYSTEM_ROLE, ScopeMatch};
    let roles: std::collections::BTreeSet<&str> = def
        .transitions
        .iter()
        .filter(|t| t.from.iter().any(|f| f == state))
        .flat_map(|t| t.roles.iter().map(String::as_str))
        .filter(|r| *r != SYSTEM_ROLE)
        .collect();
    let mut found: std::collections::BTreeSet<String> = Default::default();
    for role in roles {
        // The scope narrows the read to the unit or the person the instance names.
        let scoped = |m: ScopeMatch| {
            def.scopes
                .iter()
                .find(|s| s.role == role && s.matches == m)
                .and_then(|s| data.get(&s.field).and_then(|v| v.as_str()))
        };
        let (unit, person) = (scoped(ScopeMatch::Unit), scoped(ScopeMatch::Person));
        for user in users::holders(c, role, unit, person, HOLDERS_SHOWN).await? {
            if user.actor().acts_as(def, data, role) {
                found.insert(user.username);
            }
        }
    }
    let people: Vec<String> = found.into_iter().collect();
    let mut away = substitutes::absent_among(c, &people, &format_date(today)).await?;
    Ok(people
        .into_iter()
        .map(|username| {
            let at = away.iter().position(|s| s.absent_user == username);
            Holder { away: at.map(|i| away.swap_remove(i)), username }
        })
        .collect())
}
