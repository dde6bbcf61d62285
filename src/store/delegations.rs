//! Written delegations (集体合同规定 Art. 20): who handed their role as chief representative to
//! whom, for one round or a period. Revoking stamps the row; nothing is deleted.

use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::clock::to_micros;
use crate::engine::{Delegated, PeopleFacts};
use crate::store::db::{exec, row, rows};

/// A delegation as kept.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct DelegationRow {
    pub id: i64,
    pub from_user: String,
    pub to_user: String,
    pub instance_id: Option<i64>,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub letter: String,
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
}

const COLUMNS: &str = "id, from_user, to_user, instance_id, valid_from, valid_until, letter, created_by, created_at, \
                       revoked_at, revoked_by";

/// What a new delegation says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelegation<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub instance: Option<i64>,
    pub valid_from: &'a str,
    pub valid_until: Option<&'a str>,
    pub letter: &'a str,
}

#[derive(FromQueryResult)]
struct Id {
    id: i64,
}

pub async fn insert<C: ConnectionTrait>(
    c: &C,
    d: &NewDelegation<'_>,
    by: &str,
    now: time::OffsetDateTime,
) -> Result<i64, DbErr> {
    let id = row::<Id, _>(
        c,
        "INSERT INTO delegations (from_user, to_user, instance_id, valid_from, valid_until, letter, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        vec![
            d.from.into(),
            d.to.into(),
            d.instance.into(),
            d.valid_from.into(),
            d.valid_until.map(str::to_owned).into(),
            d.letter.into(),
            by.into(),
            to_micros(now).into(),
        ],
    )
    .await?
    .ok_or_else(|| DbErr::RecordNotInserted)?;
    Ok(id.id)
}

/// Revokes a delegation still in force; false when there was none to revoke.
pub async fn revoke<C: ConnectionTrait>(c: &C, id: i64, by: &str, now: time::OffsetDateTime) -> Result<bool, DbErr> {
    let n = exec(
        c,
        "UPDATE delegations SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL",
        vec![to_micros(now).into(), by.into(), id.into()],
    )
    .await?;
    Ok(n == 1)
}

pub async fn find<C: ConnectionTrait>(c: &C, id: i64) -> Result<Option<DelegationRow>, DbErr> {
    row(c, &format!("SELECT {COLUMNS} FROM delegations WHERE id = $1"), vec![id.into()]).await
}

/// The newest delegations first, at most `limit` (the page lists the latest; history is in the
/// audit trail). With `person`, only those given or held by them.
pub async fn latest<C: ConnectionTrait>(c: &C, person: Option<&str>, limit: u64) -> Result<Vec<DelegationRow>, DbErr> {
    let limit = limit.min(500);
    match person {
        Some(p) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM delegations WHERE from_user = $1 OR to_user = $1 ORDER BY id DESC LIMIT {limit}"
            );
            rows(c, &sql, vec![p.into()]).await
        }
        None => rows(c, &format!("SELECT {COLUMNS} FROM delegations ORDER BY id DESC LIMIT {limit}"), vec![]).await,
    }
}

/// How many delegations one person may have given that are in force at once: a chair hands the
/// role for a few rounds or a period, never hundreds. Bounds what every decision reads.
pub const MAX_IN_FORCE: i64 = 20;

/// How many delegations `person` gave that are not revoked and have not ended by `today`.
pub async fn given_in_force<C: ConnectionTrait>(c: &C, person: &str, today: &str) -> Result<i64, DbErr> {
    #[derive(FromQueryResult)]
    struct Count {
        n: i64,
    }
    let found: Option<Count> = row(
        c,
        "SELECT COUNT(*) AS n FROM delegations WHERE from_user = $1 AND revoked_at IS NULL
         AND (valid_until IS NULL OR valid_until >= $2)",
        vec![person.into(), today.into()],
    )
    .await?;
    Ok(found.map_or(0, |c| c.n))
}

/// Whether `person` holds a delegation in force on `today` (a delegate cannot pass it on).
pub async fn holds_any<C: ConnectionTrait>(c: &C, person: &str, today: &str) -> Result<bool, DbErr> {
    Ok(!held(c, person, today).await?.is_empty())
}

/// The delegations `person` holds on `today` (YYYY-MM-DD): not revoked, begun, not ended; from
/// people who may give at most [`MAX_IN_FORCE`] each. The newest first, at most 100.
pub async fn held<C: ConnectionTrait>(c: &C, person: &str, today: &str) -> Result<Vec<Delegated>, DbErr> {
    let found: Vec<DelegationRow> = rows(
        c,
        &format!(
            "SELECT {COLUMNS} FROM delegations WHERE to_user = $1 AND revoked_at IS NULL AND valid_from <= $2
             AND (valid_until IS NULL OR valid_until >= $2) ORDER BY id DESC LIMIT 100"
        ),
        vec![person.into(), today.into()],
    )
    .await?;
    Ok(found.into_iter().map(|d| Delegated { id: d.id, from: d.from_user, instance: d.instance_id }).collect())
}

/// Who holds `roles` (active people), and the delegations in force on `today` from any of them
/// (for `instance` only, or for every instance): what a `role_or_delegate` guard judges by.
pub async fn facts<C: ConnectionTrait>(
    c: &C,
    roles: &[&str],
    instance: Option<i64>,
    today: &str,
) -> Result<PeopleFacts, DbErr> {
    #[derive(FromQueryResult)]
    struct Holder {
        username: String,
    }
    let mut facts = PeopleFacts::default();
    for role in roles {
        let holders: Vec<Holder> = rows(
            c,
            "SELECT DISTINCT u.username FROM users u JOIN user_roles r ON r.user_id = u.id
             WHERE r.role = $1 AND u.active ORDER BY u.username LIMIT 1000",
            vec![(*role).into()],
        )
        .await?;
        facts.holders.insert((*role).to_owned(), holders.into_iter().map(|h| h.username).collect());
    }
    // Only the holders' delegations matter, and each person has at most MAX_IN_FORCE in force:
    // the rows read are bounded by the holders, never by what anyone else recorded.
    let holders: Vec<String> = facts.holders.values().flatten().cloned().collect::<BTreeSet<_>>().into_iter().collect();
    for chunk in holders.chunks(100) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM delegations WHERE revoked_at IS NULL AND valid_from <= $1
             AND (valid_until IS NULL OR valid_until >= $1) AND ($2 = 0 OR instance_id IS NULL OR instance_id = $2)
             AND from_user IN ({}) ORDER BY id",
            marks.join(", ")
        );
        let mut values: Vec<sea_orm::Value> = vec![today.into(), instance.unwrap_or(0).into()];
        values.extend(chunk.iter().map(|h| h.clone().into()));
        let found: Vec<DelegationRow> = rows(c, &sql, values).await?;
        facts.delegations.extend(found.into_iter().map(|d| (d.from_user, d.to_user, d.instance_id)));
    }
    Ok(facts)
}
