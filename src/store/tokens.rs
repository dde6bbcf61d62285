//! Service accounts' bearer tokens: kept as their hashes, with an expiry, a revocation and a rate.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::store::db::{exec, row, rows};

/// A token that may sign in, with its account.
#[derive(Debug, Clone, FromQueryResult)]
pub struct LiveToken {
    pub id: i64,
    pub user_id: i64,
    pub per_minute: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A token as an admin's list shows it (never its secret).
#[derive(Debug, Clone, FromQueryResult)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub hint: String,
    pub per_minute: i64,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub active: bool,
}

pub async fn insert<C: ConnectionTrait>(
    c: &C,
    user_id: i64,
    hash: &str,
    hint: &str,
    per_minute: i64,
    created_at: i64,
    expires_at: Option<i64>,
) -> Result<(), DbErr> {
    exec(
        c,
        "INSERT INTO api_tokens (user_id, token_hash, hint, per_minute, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        vec![user_id.into(), hash.into(), hint.into(), per_minute.into(), created_at.into(), expires_at.into()],
    )
    .await?;
    Ok(())
}

/// The unrevoked token with this hash, of an active service account.
pub async fn live<C: ConnectionTrait>(c: &C, hash: &str) -> Result<Option<LiveToken>, DbErr> {
    row(
        c,
        "SELECT t.id, t.user_id, t.per_minute, t.expires_at, t.last_used_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active AND u.kind = 'service'",
        vec![hash.into()],
    )
    .await
}

pub async fn touch<C: ConnectionTrait>(c: &C, id: i64, at: i64) -> Result<(), DbErr> {
    exec(c, "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", vec![at.into(), id.into()]).await?;
    Ok(())
}

/// Every token, newest first (bounded: an admin's list).
pub async fn list<C: ConnectionTrait>(c: &C) -> Result<Vec<TokenRow>, DbErr> {
    rows(
        c,
        "SELECT t.id, t.user_id, u.username, t.hint, t.per_minute, t.created_at, t.expires_at, t.revoked_at, t.last_used_at, u.active
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         ORDER BY t.id DESC LIMIT 1000",
        vec![],
    )
    .await
}

/// Revokes every live token of the account `user_id`.
pub async fn revoke_of<C: ConnectionTrait>(c: &C, user_id: i64, at: i64) -> Result<u64, DbErr> {
    exec(
        c,
        "UPDATE api_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND user_id = $2",
        vec![at.into(), user_id.into()],
    )
    .await
}
