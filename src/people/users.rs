//! Users and their role grants.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use crate::clock::to_micros;
use crate::engine::Actor;
use crate::people::domain::{DisplayName, RoleGrant, Username};
use crate::people::password;
use crate::store::db::{all, exec, get, one};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub active: bool,
    pub grants: Vec<RoleGrant>,
}

impl User {
    /// The user as the engine sees them: their name, roles, and the units they act for.
    pub fn actor(&self) -> Actor {
        let actor = Actor::new(self.username.clone(), self.grants.iter().map(|g| g.role.clone()));
        self.grants
            .iter()
            .filter_map(|g| g.unit.as_ref().map(|u| (&g.role, u)))
            .fold(actor, |a, (role, unit)| a.with_grant(role.clone(), unit.clone()))
    }
    pub fn has_role(&self, role: &str) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("the user name {0:?} is taken")]
    Taken(String),
    #[error(transparent)]
    Hash(#[from] password::HashError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn user_from_row(r: &QueryResult) -> Result<User, DbErr> {
    Ok(User {
        id: get(r, "id")?,
        username: get(r, "username")?,
        display_name: get(r, "display_name")?,
        active: get(r, "active")?,
        grants: Vec::new(),
    })
}

async fn grants_of<C: ConnectionTrait>(c: &C, ids: &[i64]) -> Result<BTreeMap<i64, Vec<RoleGrant>>, DbErr> {
    let mut out: BTreeMap<i64, Vec<RoleGrant>> = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    for r in all(
        c,
        &format!("SELECT user_id, role, unit_id FROM user_roles WHERE user_id IN ({list}) ORDER BY role, unit_id"),
        vec![],
    )
    .await?
    {
        let unit: String = get(&r, "unit_id")?;
        out.entry(get(&r, "user_id")?)
            .or_default()
            .push(RoleGrant { role: get(&r, "role")?, unit: (!unit.is_empty()).then_some(unit) });
    }
    Ok(out)
}

async fn with_grants<C: ConnectionTrait>(c: &C, mut users: Vec<User>) -> Result<Vec<User>, DbErr> {
    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    let mut grants = grants_of(c, &ids).await?;
    for u in &mut users {
        u.grants = grants.remove(&u.id).unwrap_or_default();
    }
    Ok(users)
}

/// Creates a user with their password hash and role grants, inside the caller's transaction
/// (with its audit event). The hash is computed before, outside the transaction, so a slow hash
/// never holds the database's write lock.
pub async fn create<C: ConnectionTrait>(
    c: &C,
    username: &Username,
    display_name: &DisplayName,
    password_hash: &str,
    grants: &[RoleGrant],
    now: time::OffsetDateTime,
) -> Result<i64, UserError> {
    if one(c, "SELECT id FROM users WHERE username = $1", vec![username.as_str().into()]).await?.is_some() {
        return Err(UserError::Taken(username.to_string()));
    }
    let row = one(
        c,
        "INSERT INTO users (username, display_name, password_hash, active, created_at) VALUES ($1, $2, $3, TRUE, $4) RETURNING id",
        vec![username.as_str().into(), display_name.as_str().into(), password_hash.into(), to_micros(now).into()],
    )
    .await?
    .ok_or(DbErr::RecordNotInserted)?;
    let id: i64 = get(&row, "id")?;
    write_grants(c, id, grants).await?;
    Ok(id)
}

async fn write_grants<C: ConnectionTrait>(c: &C, id: i64, grants: &[RoleGrant]) -> Result<(), DbErr> {
    exec(c, "DELETE FROM user_roles WHERE user_id = $1", vec![id.into()]).await?;
    let mut seen = std::collections::BTreeSet::new();
    for g in grants.iter().filter(|g| seen.insert((*g).clone())) {
        exec(
            c,
            "INSERT INTO user_roles (user_id, role, unit_id) VALUES ($1, $2, $3)",
            vec![id.into(), g.role.clone().into(), g.unit.clone().unwrap_or_default().into()],
        )
        .await?;
    }
    Ok(())
}

/// Replaces a user's role grants; the caller's transaction makes it one change.
pub async fn set_grants<C: ConnectionTrait>(c: &C, id: i64, grants: &[RoleGrant]) -> Result<(), DbErr> {
    write_grants(c, id, grants).await
}

pub async fn set_active<C: ConnectionTrait>(c: &C, id: i64, active: bool) -> Result<(), DbErr> {
    exec(c, "UPDATE users SET active = $1 WHERE id = $2", vec![active.into(), id.into()]).await?;
    if !active {
        exec(c, "DELETE FROM sessions WHERE user_id = $1", vec![id.into()]).await?;
    }
    Ok(())
}

/// The user and their password hash, for signing in.
pub async fn for_sign_in<C: ConnectionTrait>(c: &C, username: &str) -> Result<Option<(User, String)>, DbErr> {
    let Some(row) = one(
        c,
        "SELECT id, username, display_name, active, password_hash FROM users WHERE username = $1",
        vec![username.into()],
    )
    .await?
    else {
        return Ok(None);
    };
    let hash: String = get(&row, "password_hash")?;
    let user = with_grants(c, vec![user_from_row(&row)?]).await?.remove(0);
    Ok(Some((user, hash)))
}

pub async fn find<C: ConnectionTrait>(c: &C, id: i64) -> Result<Option<User>, DbErr> {
    let Some(row) =
        one(c, "SELECT id, username, display_name, active FROM users WHERE id = $1", vec![id.into()]).await?
    else {
        return Ok(None);
    };
    Ok(with_grants(c, vec![user_from_row(&row)?]).await?.pop())
}

pub async fn list<C: ConnectionTrait>(c: &C) -> Result<Vec<User>, DbErr> {
    let rows =
        all(c, "SELECT id, username, display_name, active FROM users ORDER BY username LIMIT 5000", vec![]).await?;
    with_grants(c, rows.iter().map(user_from_row).collect::<Result<_, _>>()?).await
}

/// The active people, as (username, display name) in username order: the directory that fields
/// with `source = "people"` name.
pub async fn directory<C: ConnectionTrait>(c: &C) -> Result<Vec<(String, String)>, DbErr> {
    all(c, "SELECT username, display_name FROM users WHERE active ORDER BY username LIMIT 20000", vec![])
        .await?
        .iter()
        .map(|r| Ok((get(r, "username")?, get(r, "display_name")?)))
        .collect()
}

/// The usernames holding a role (for a unit, if given): who an escalation or a task goes to.
pub async fn holding<C: ConnectionTrait>(c: &C, role: &str) -> Result<Vec<String>, DbErr> {
    all(c, "SELECT u.username FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role = $1 AND u.active ORDER BY u.username", vec![role.into()])
        .await?
        .iter()
        .map(|r| get(r, "username"))
        .collect()
}
