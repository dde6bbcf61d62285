//! Sessions in the database, so several servers share them; the cookie holds a random token and
//! the table only its hash. Failed sign-ins are counted in [`throttle`](crate::people::throttle).

use sea_orm::{ConnectionTrait, DbErr};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::audit::hex;
use crate::clock::{from_micros, to_micros};
use crate::people::random_token;
use crate::people::users::{self, User};
use crate::store::db::{exec, get, one};

/// A signed-in session, as a request sees it.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user: User,
    pub csrf_token: String,
    pub last_seen_at: OffsetDateTime,
}

fn id_of(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Starts a session; returns the token for the cookie.
pub async fn create<C: ConnectionTrait>(
    c: &C,
    user_id: i64,
    now: OffsetDateTime,
    idle: Duration,
) -> Result<String, DbErr> {
    let token = random_token();
    exec(
        c,
        "INSERT INTO sessions (id, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
        vec![id_of(&token).into(), user_id.into(), random_token().into(), to_micros(now).into(), to_micros(now + idle).into()],
    )
    .await?;
    Ok(token)
}

/// The live session of a cookie token, with its active user; an expired one is removed.
pub async fn lookup<C: ConnectionTrait>(c: &C, token: &str, now: OffsetDateTime) -> Result<Option<Session>, DbErr> {
    let id = id_of(token);
    let Some(row) = one(
        c,
        "SELECT s.user_id, s.csrf_token, s.last_seen_at, s.expires_at, u.active FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
        vec![id.clone().into()],
    )
    .await?
    else {
        return Ok(None);
    };
    let expires_at: i64 = get(&row, "expires_at")?;
    let active: bool = get(&row, "active")?;
    if expires_at <= to_micros(now) || !active {
        exec(c, "DELETE FROM sessions WHERE id = $1", vec![id.into()]).await?;
        return Ok(None);
    }
    let Some(user) = users::find(c, get(&row, "user_id")?).await? else { return Ok(None) };
    Ok(Some(Session {
        id,
        user,
        csrf_token: get(&row, "csrf_token")?,
        last_seen_at: from_micros(get(&row, "last_seen_at")?),
    }))
}

/// Extends an idle session; called at most once every few minutes per session, to keep page
/// views free of writes.
pub async fn touch<C: ConnectionTrait>(c: &C, id: &str, now: OffsetDateTime, idle: Duration) -> Result<(), DbErr> {
    exec(
        c,
        "UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3",
        vec![to_micros(now).into(), to_micros(now + idle).into(), id.into()],
    )
    .await?;
    Ok(())
}

pub async fn end<C: ConnectionTrait>(c: &C, token: &str) -> Result<(), DbErr> {
    exec(c, "DELETE FROM sessions WHERE id = $1", vec![id_of(token).into()]).await?;
    Ok(())
}
