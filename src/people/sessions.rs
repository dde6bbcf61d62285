//! Sessions in the database, so several servers share them; the cookie holds a random token and
//! the table only its hash. Failed sign-ins are counted in [`throttle`](crate::people::throttle).

use sea_orm::{ConnectionTrait, DbErr};
use time::{Duration, OffsetDateTime};

use crate::audit::sha256_hex;
use crate::clock::{from_micros, to_micros};
use crate::people::random_token;
use crate::people::users::{self, User};
use crate::store::sessions as store;

/// A signed-in session, as a request sees it.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user: User,
    pub csrf_token: String,
    pub last_seen_at: OffsetDateTime,
}

fn id_of(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Starts a session; returns the token for the cookie.
pub async fn create<C: ConnectionTrait>(
    c: &C,
    user_id: i64,
    now: OffsetDateTime,
    idle: Duration,
) -> Result<String, DbErr> {
    let token = random_token();
    store::insert(c, &id_of(&token), user_id, &random_token(), to_micros(now), to_micros(now + idle)).await?;
    Ok(token)
}

/// The live session of a cookie token, with its active user; an expired one is removed.
pub async fn lookup<C: ConnectionTrait>(c: &C, token: &str, now: OffsetDateTime) -> Result<Option<Session>, DbErr> {
    let id = id_of(token);
    let Some(row) = store::find(c, &id).await? else { return Ok(None) };
    if row.expires_at <= to_micros(now) || !row.active {
        store::delete(c, &id).await?;
        return Ok(None);
    }
    let Some(user) = users::find(c, row.user_id).await? else { return Ok(None) };
    Ok(Some(Session { id, user, csrf_token: row.csrf_token, last_seen_at: from_micros(row.last_seen_at) }))
}

/// Extends an idle session; called at most once every few minutes per session, to keep page
/// views free of writes.
pub async fn touch<C: ConnectionTrait>(c: &C, id: &str, now: OffsetDateTime, idle: Duration) -> Result<(), DbErr> {
    store::touch(c, id, to_micros(now), to_micros(now + idle)).await
}

pub async fn end<C: ConnectionTrait>(c: &C, token: &str) -> Result<(), DbErr> {
    store::delete(c, &id_of(token)).await
}
