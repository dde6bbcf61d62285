//! Idempotency keys of API starts: the first request with a key claims it in the transaction of
//! its start, so a retry (after a lost answer, or at the same moment) finds the claim and is
//! answered with the instance the first one started instead of starting another.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::store::db::{exec, row};

/// How long a key is remembered: retries come within minutes, not days.
pub const KEPT_FOR_MICROS: i64 = 24 * 3600 * 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: go on, and [`record`] the answer in the same transaction.
    New,
    /// The key answered before, with this status, for this instance.
    Answered { status: u16, instance: i64 },
    /// The key was used for another request.
    OtherRequest,
}

pub async fn claim<C: ConnectionTrait>(
    c: &C,
    account: &str,
    key: &str,
    request_hash: &str,
    now: i64,
) -> Result<Claim, DbErr> {
    // Only this key, if it has expired: purging all of them here would make every keyed start
    // wait on the others' rows (see `purge_expired`).
    exec(
        c,
        "DELETE FROM idempotency_keys WHERE account = $1 AND key = $2 AND created_at < $3",
        vec![account.into(), key.into(), (now - KEPT_FOR_MICROS).into()],
    )
    .await?;
    let inserted = exec(
        c,
        "INSERT INTO idempotency_keys (account, key, request_hash, status, body, created_at)
         VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (account, key) DO NOTHING",
        vec![account.into(), key.into(), request_hash.into(), now.into()],
    )
    .await?;
    if inserted == 1 {
        return Ok(Claim::New);
    }
    #[derive(FromQueryResult)]
    struct Kept {
        request_hash: String,
        status: i64,
        body: String,
    }
    let kept: Option<Kept> = row(
        c,
        "SELECT request_hash, status, body FROM idempotency_keys WHERE account = $1 AND key = $2",
        vec![account.into(), key.into()],
    )
    .await?;
    let Some(kept) = kept else { return Err(DbErr::RecordNotFound(format!("idempotency key {key:?}"))) };
    if kept.request_hash != request_hash {
        return Ok(Claim::OtherRequest);
    }
    Ok(Claim::Answered {
        status: u16::try_from(kept.status).unwrap_or(200),
        instance: kept.body.parse().map_err(|_| DbErr::Custom(format!("idempotency key {key:?} holds no instance")))?,
    })
}

/// The answer a claimed key gives from now on.
pub async fn record<C: ConnectionTrait>(
    c: &C,
    account: &str,
    key: &str,
    status: u16,
    instance: i64,
) -> Result<(), DbErr> {
    exec(
        c,
        "UPDATE idempotency_keys SET status = $1, body = $2 WHERE account = $3 AND key = $4",
        vec![i64::from(status).into(), instance.to_string().into(), account.into(), key.into()],
    )
    .await?;
    Ok(())
}

/// Forgets the keys older than a day, in a transaction of its own (the server's housekeeping).
pub async fn purge_expired<C: ConnectionTrait>(c: &C, now: i64) -> Result<u64, DbErr> {
    exec(c, "DELETE FROM idempotency_keys WHERE created_at < $1", vec![(now - KEPT_FOR_MICROS).into()]).await
}
