//! Written delegations (集体合同规定 Art. 20): who handed their role as chief representative to
//! whom, for one round or a period. Revoking stamps the row; nothing is deleted.

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

/// The delegations `person` holds on `today` (YYYY-MM-DD): not revoked, begun, not ended.
pub async fn held<C: ConnectionTrait>(c: &C, person: &str, today: &str) -> Result<Vec<Delegated>, DbErr> {
    let found: Vec<DelegationRow> = rows(
        c,
        &format!(
            "SELECT {COLUMNS} FROM delegations WHERE to_user = $1 AND revoked_at IS NULL AND valid_from <= $2
             AND (valid_until IS NULL OR valid_until >= $2) ORDER BY id LIMIT 100"
        ),
        vec![person.into(), today.into()],
    )
    .await?;
    Ok(found.into_iter().map(|d| Delegated { id: d.id, from: d.from_user, instance: d.instance_id }).collect())
}

/// Who holds `role` (active people), and the delegations in force on `today` for `instance`
/// from any of them: what a `role_or_delegate` guard judges by.
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
    let found: Vec<DelegationRow> = rows(
        c,
        &format!(
            "SELECT {COLUMNS} FROM delegations WHERE revoked_at IS NULL AND valid_from <= $1
             AND (valid_until IS NULL OR valid_until >= $1) AND (instance_id IS NULL OR instance_id = $2)
             ORDER BY id LIMIT 1000"
        ),
        vec![today.into(), instance.unwrap_or(0).into()],
    )
    .await?;
    facts.delegations = found.into_iter().map(|d| (d.from_user, d.to_user)).collect();
    Ok(facts)
}
