//! The secrets of people's work feeds, kept as their hashes: one a person, replaced on request.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::store::db::{exec, row};

/// Gives the person a new feed secret (its hash), ending the old one.
pub async fn replace<C: ConnectionTrait>(c: &C, user_id: i64, hash: &str, at: i64) -> Result<(), DbErr> {
    exec(
        c,
        "INSERT INTO feed_tokens (user_id, token_hash, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET token_hash = $2, created_at = $3",
        vec![user_id.into(), hash.into(), at.into()],
    )
    .await?;
    Ok(())
}

/// The person a feed secret's hash belongs to.
pub async fn owner<C: ConnectionTrait>(c: &C, hash: &str) -> Result<Option<i64>, DbErr> {
    #[derive(FromQueryResult)]
    struct Owner {
        user_id: i64,
    }
    let found: Option<Owner> =
        row(c, "SELECT user_id FROM feed_tokens WHERE token_hash = $1", vec![hash.into()]).await?;
    Ok(found.map(|o| o.user_id))
}

/// Ends the person's feed address (their account was deactivated).
pub async fn forget<C: ConnectionTrait>(c: &C, user_id: i64) -> Result<(), DbErr> {
    exec(c, "DELETE FROM feed_tokens WHERE user_id = $1", vec![user_id.into()]).await?;
    Ok(())
}
