//! The sessions table: one row per signed-in browser, keyed by the sha256 of its cookie's token.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::store::db::{exec, row};

/// A session as stored, with whether its user is still active.
#[derive(Debug, Clone, FromQueryResult)]
pub struct SessionRow {
    pub user_id: i64,
    pub csrf_token: String,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub active: bool,
}

pub async fn insert<C: ConnectionTrait>(
    c: &C,
    id: &str,
    user_id: i64,
    csrf_token: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), DbErr> {
    exec(
        c,
        "INSERT INTO sessions (id, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
        vec![id.into(), user_id.into(), csrf_token.into(), now.into(), expires_at.into()],
    )
    .await?;
    Ok(())
}

pub async fn find<C: ConnectionTrait>(c: &C, id: &str) -> Result<Option<SessionRow>, DbErr> {
    row(
        c,
        "SELECT s.user_id, s.csrf_token, s.last_seen_at, s.expires_at, u.active FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
        vec![id.into()],
    )
    .await
}

pub async fn touch<C: ConnectionTrait>(c: &C, id: &str, now: i64, expires_at: i64) -> Result<(), DbErr> {
    exec(
        c,
        "UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3",
        vec![now.into(), expires_at.into(), id.into()],
    )
    .await?;
    Ok(())
}

pub async fn delete<C: ConnectionTrait>(c: &C, id: &str) -> Result<(), DbErr> {
    exec(c, "DELETE FROM sessions WHERE id = $1", vec![id.into()]).await?;
    Ok(())
}

/// Ends every session of a user (deactivated).
pub async fn delete_of_user<C: ConnectionTrait>(c: &C, user_id: i64) -> Result<(), DbErr> {
    exec(c, "DELETE FROM sessions WHERE user_id = $1", vec![user_id.into()]).await?;
    Ok(())
}
