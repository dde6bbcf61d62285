//! The users table and their role grants (`user_roles`, the unit empty for a role without one).

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::store::db::{exec, row, rows};

/// A user as stored, without their password hash.
#[derive(Debug, Clone, FromQueryResult)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub active: bool,
}

/// A user with their password hash, for signing in.
#[derive(Debug, Clone, FromQueryResult)]
pub struct SignInRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub active: bool,
    pub password_hash: String,
}

/// One role of a user, for a unit or (`unit_id` empty) for none.
#[derive(Debug, Clone, FromQueryResult)]
pub struct GrantRow {
    pub user_id: i64,
    pub role: String,
    pub unit_id: String,
}

/// An active person as forms offer them.
#[derive(Debug, Clone, FromQueryResult)]
pub struct DirectoryRow {
    pub username: String,
    pub display_name: String,
}

pub async fn id_of<C: ConnectionTrait>(c: &C, username: &str) -> Result<Option<i64>, DbErr> {
    #[derive(FromQueryResult)]
    struct Id {
        id: i64,
    }
    Ok(row::<Id, _>(c, "SELECT id FROM users WHERE username = $1", vec![username.into()]).await?.map(|r| r.id))
}

pub async fn insert<C: ConnectionTrait>(
    c: &C,
    username: &str,
    display_name: &str,
    password_hash: &str,
    now: i64,
) -> Result<i64, DbErr> {
    #[derive(FromQueryResult)]
    struct Id {
        id: i64,
    }
    let inserted: Option<Id> = row(
        c,
        "INSERT INTO users (username, display_name, password_hash, active, created_at) VALUES ($1, $2, $3, TRUE, $4) RETURNING id",
        vec![username.into(), display_name.into(), password_hash.into(), now.into()],
    )
    .await?;
    inserted.map(|r| r.id).ok_or(DbErr::RecordNotInserted)
}

/// Replaces a user's grants with (role, unit) pairs, each once.
pub async fn replace_grants<C: ConnectionTrait>(c: &C, id: i64, grants: &[(String, String)]) -> Result<(), DbErr> {
    exec(c, "DELETE FROM user_roles WHERE user_id = $1", vec![id.into()]).await?;
    let mut seen = std::collections::BTreeSet::new();
    for (role, unit) in grants.iter().filter(|g| seen.insert((*g).clone())) {
        exec(
            c,
            "INSERT INTO user_roles (user_id, role, unit_id) VALUES ($1, $2, $3)",
            vec![id.into(), role.clone().into(), unit.clone().into()],
        )
        .await?;
    }
    Ok(())
}

pub async fn set_active<C: ConnectionTrait>(c: &C, id: i64, active: bool) -> Result<(), DbErr> {
    exec(c, "UPDATE users SET active = $1 WHERE id = $2", vec![active.into(), id.into()]).await?;
    Ok(())
}

pub async fn set_password_hash<C: ConnectionTrait>(c: &C, id: i64, hash: &str) -> Result<(), DbErr> {
    exec(c, "UPDATE users SET password_hash = $1 WHERE id = $2", vec![hash.into(), id.into()]).await?;
    Ok(())
}

pub async fn for_sign_in<C: ConnectionTrait>(c: &C, username: &str) -> Result<Option<SignInRow>, DbErr> {
    row(
        c,
        "SELECT id, username, display_name, active, password_hash FROM users WHERE username = $1 AND kind = 'person'",
        vec![username.into()],
    )
    .await
}

pub async fn find<C: ConnectionTrait>(c: &C, id: i64) -> Result<Option<UserRow>, DbErr> {
    row(c, "SELECT id, username, display_name, active FROM users WHERE id = $1", vec![id.into()]).await
}

/// Every person, by name (an admin's list; bounded). Service accounts are listed with their
/// tokens.
pub async fn list<C: ConnectionTrait>(c: &C) -> Result<Vec<UserRow>, DbErr> {
    let sql = "SELECT id, username, display_name, active FROM users WHERE kind = 'person' ORDER BY username LIMIT 5000";
    rows(c, sql, vec![]).await
}

/// The active person (never a service account) named `username`.
pub async fn active_person<C: ConnectionTrait>(c: &C, username: &str) -> Result<Option<UserRow>, DbErr> {
    let sql = "SELECT id, username, display_name, active FROM users WHERE username = $1 AND kind = 'person' AND active";
    row(c, sql, vec![username.into()]).await
}

/// The active people (never service accounts) who hold `role`, for `unit` when one is given,
/// and only `person` when one is given: by user name, at most `limit`.
pub async fn holders<C: ConnectionTrait>(
    c: &C,
    role: &str,
    unit: Option<&str>,
    person: Option<&str>,
    limit: u64,
) -> Result<Vec<UserRow>, DbErr> {
    let sql = format!(
        "SELECT id, username, display_name, active FROM users u WHERE u.active AND u.kind = 'person'
         AND ($3 = '' OR u.username = $3)
         AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = $1 AND ($2 = '' OR r.unit_id = $2))
         ORDER BY u.username LIMIT {limit}"
    );
    rows(c, &sql, vec![role.into(), unit.unwrap_or_default().into(), person.unwrap_or_default().into()]).await
}

/// The id of the service account `username`.
pub async fn service_id<C: ConnectionTrait>(c: &C, username: &str) -> Result<Option<i64>, DbErr> {
    #[derive(FromQueryResult)]
    struct Id {
        id: i64,
    }
    let sql = "SELECT id FROM users WHERE username = $1 AND kind = 'service'";
    Ok(row::<Id, _>(c, sql, vec![username.into()]).await?.map(|r| r.id))
}

/// Makes a service account: a user who signs in only with a bearer token (its password hash is
/// no hash, so no password matches it).
pub async fn insert_service<C: ConnectionTrait>(c: &C, username: &str, at: i64) -> Result<i64, DbErr> {
    #[derive(FromQueryResult)]
    struct Id {
        id: i64,
    }
    let sql = "INSERT INTO users (username, display_name, password_hash, active, created_at, kind)
               VALUES ($1, $1, '!', TRUE, $2, 'service') RETURNING id";
    let inserted = row::<Id, _>(c, sql, vec![username.into(), at.into()]).await?;
    inserted.map(|r| r.id).ok_or(DbErr::RecordNotInserted)
}

/// The grants of the users given.
pub async fn grants_of<C: ConnectionTrait>(c: &C, ids: &[i64]) -> Result<Vec<GrantRow>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The ids are numbers read from the users table, so they are written into the statement.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!("SELECT user_id, role, unit_id FROM user_roles WHERE user_id IN ({list}) ORDER BY role, unit_id");
    rows(c, &sql, vec![]).await
}

/// How many active users hold `role`.
pub async fn active_holders<C: ConnectionTrait>(c: &C, role: &str) -> Result<i64, DbErr> {
    #[derive(FromQueryResult)]
    struct N {
        n: i64,
    }
    let sql = "SELECT COUNT(DISTINCT u.id) AS n FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role = $1 AND u.active AND u.kind = 'person'";
    Ok(row::<N, _>(c, sql, vec![role.into()]).await?.map_or(0, |r| r.n))
}

/// The active people in username order (bounded).
pub async fn directory<C: ConnectionTrait>(c: &C) -> Result<Vec<DirectoryRow>, DbErr> {
    rows(
        c,
        "SELECT username, display_name FROM users WHERE active AND kind = 'person' ORDER BY username LIMIT 20000",
        vec![],
    )
    .await
}
