//! Service accounts: other systems (the labour bureau's filing, a federation's membership records,
//! the departments that push hardship signals) act through the API as an account of their own,
//! scoped by roles and units exactly like a person, and signing in with a bearer token. The token
//! is shown once; only its SHA-256 is kept (it is 256 random bits: a slow hash adds nothing).

use sea_orm::{ConnectionTrait, DbErr};
use time::OffsetDateTime;

use crate::audit::sha256_hex;
use crate::clock::{from_micros, to_micros};
use crate::people::domain::{RoleGrant, Username};
use crate::people::users::{self, User};
use crate::store::tokens as store;

/// What every token starts with, so a leaked one is recognised by secret scanners and people.
pub const PREFIX: &str = "uft_";

/// The rate a token gets unless told otherwise: calls per minute.
pub const DEFAULT_PER_MINUTE: u32 = 600;
/// The most a token may be given: a rate is a guard against a runaway client, not a quota.
pub const MAX_PER_MINUTE: u32 = 60_000;

/// How stale a token's "last used" may get before a call writes it again: calls stay free of
/// writes in between.
const TOUCH_EVERY: time::Duration = time::Duration::minutes(1);

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the name {0:?} is taken")]
    Taken(String),
    #[error("a token's rate is 1 to {MAX_PER_MINUTE} calls a minute, not {0}")]
    Rate(u32),
    #[error("the expiry {0} is not in the future")]
    Expired(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A new service account's token, to be shown once.
#[derive(Debug, Clone)]
pub struct Issued {
    pub secret: String,
    pub account_id: i64,
}

fn hash_of(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}

/// Creates the service account `name` with its grants and one token, in the caller's transaction
/// (with its audit event).
pub async fn create<C: ConnectionTrait>(
    c: &C,
    name: &Username,
    grants: &[RoleGrant],
    per_minute: u32,
    expires_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Issued, TokenError> {
    if per_minute == 0 || per_minute > MAX_PER_MINUTE {
        return Err(TokenError::Rate(per_minute));
    }
    if let Some(at) = expires_at.filter(|at| *at <= now) {
        return Err(TokenError::Expired(at.to_string()));
    }
    // `system` is the engine's own name in the audit trail (timers, joins).
    if name.as_str() == crate::engine::Actor::system().name || users::id_of(c, name).await?.is_some() {
        return Err(TokenError::Taken(name.to_string()));
    }
    let account_id = crate::store::users::insert_service(c, name.as_str(), to_micros(now)).await?;
    users::set_grants(c, account_id, grants).await?;
    let secret = format!("{PREFIX}{}", crate::people::random_token());
    let hint: String = secret.chars().take(PREFIX.len() + 6).collect();
    let expires = expires_at.map(to_micros);
    store::insert(c, account_id, &hash_of(&secret), &hint, i64::from(per_minute), to_micros(now), expires).await?;
    Ok(Issued { secret, account_id })
}

/// The account a bearer token signs in, with the token's rate; `None` for a token that is unknown,
/// revoked, expired, or of an account deactivated.
pub async fn authenticate<C: ConnectionTrait>(
    c: &C,
    secret: &str,
    now: OffsetDateTime,
) -> Result<Option<Authenticated>, DbErr> {
    // A malformed token is refused without a query.
    if !secret.starts_with(PREFIX) || secret.len() > 200 {
        return Ok(None);
    }
    let Some(token) = store::live(c, &hash_of(secret)).await? else { return Ok(None) };
    if token.expires_at.is_some_and(|at| from_micros(at) <= now) {
        return Ok(None);
    }
    let Some(user) = users::find(c, token.user_id).await? else { return Ok(None) };
    let per_minute = u32::try_from(token.per_minute).unwrap_or(DEFAULT_PER_MINUTE);
    let use_to_record = token.last_used_at.is_none_or(|at| now - from_micros(at) > TOUCH_EVERY);
    Ok(Some(Authenticated { user, token_id: token.id, per_minute, use_to_record }))
}

/// Records that the token was used at `now` (the caller does it when [`Authenticated`] asks).
pub async fn record_use<C: ConnectionTrait>(c: &C, token_id: i64, now: OffsetDateTime) -> Result<(), DbErr> {
    store::touch(c, token_id, to_micros(now)).await
}

/// A signed-in service account.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub token_id: i64,
    pub per_minute: u32,
    /// The token's last use was recorded over a minute ago (or never): record this one.
    pub use_to_record: bool,
}

/// Revokes the account's tokens and deactivates it, in the caller's transaction; `false` when
/// there is no service account of that name.
pub async fn revoke<C: ConnectionTrait>(c: &C, name: &Username, now: OffsetDateTime) -> Result<bool, DbErr> {
    let Some(id) = crate::store::users::service_id(c, name.as_str()).await? else { return Ok(false) };
    store::revoke_of(c, id, to_micros(now)).await?;
    users::set_active(c, id, false).await?;
    Ok(true)
}

/// Every token, for the admin page and `unionflow token list`.
pub async fn list<C: ConnectionTrait>(c: &C) -> Result<Vec<store::TokenRow>, DbErr> {
    store::list(c).await
}

/// Where a token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Live,
    Expired,
    Revoked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Live => "live",
            Status::Expired => "expired",
            Status::Revoked => "revoked",
        }
    }
}

pub fn status(t: &store::TokenRow, now: OffsetDateTime) -> Status {
    if t.revoked_at.is_some() || !t.active {
        Status::Revoked
    } else if t.expires_at.is_some_and(|at| from_micros(at) <= now) {
        Status::Expired
    } else {
        Status::Live
    }
}
