//! Signing in: the attempt reserved against the throttle (so parallel guesses are counted one
//! by one), the password checked in the bounded pool, and on success the session started with
//! its audit event in one transaction.

use sea_orm::DatabaseConnection;
use time::{Duration, OffsetDateTime};

use crate::people::password::{self, PasswordChecks};
use crate::people::throttle::{self, Limits};
use crate::people::{Username, sessions, users};
use crate::store::audit::{Audited, Record};
use crate::store::db::begin_write;

/// Longer than any password a person types; a longer one is not checked at all.
const MAX_PASSWORD_LEN: usize = 1024;

/// What sign-in runs with.
pub struct SignIn<'a> {
    pub checks: &'a PasswordChecks,
    pub limits: &'a Limits,
    /// A session ends after this long without a request.
    pub idle: Duration,
}

/// What became of a sign-in attempt.
#[derive(Debug)]
pub enum Attempt {
    /// Signed in: the session's token for the cookie.
    SignedIn(String),
    Wrong,
    /// The password was right but the account is deactivated: told so, as only its owner can
    /// know the password.
    Deactivated,
    /// Refused unchecked until then.
    Locked(OffsetDateTime),
    /// Too many checks running: not checked, nothing counted.
    Busy,
}

/// One sign-in attempt by `name` (None: a name that cannot exist) from `client`.
pub async fn attempt(
    db: &DatabaseConnection,
    rules: &SignIn<'_>,
    client: &str,
    name: Option<&Username>,
    password: String,
    now: OffsetDateTime,
) -> Result<Attempt, sea_orm::DbErr> {
    let key = name.map_or("", Username::as_str);
    let txn = begin_write(db).await?;
    let reserved = throttle::reserve_attempt(&txn, rules.limits, key, client, now).await?;
    txn.commit().await?;
    if let Err(until) = reserved {
        return Ok(Attempt::Locked(until));
    }
    // A name that cannot exist, or a password no one types, is wrong without a check.
    let Some(name) = name.filter(|_| password.len() <= MAX_PASSWORD_LEN) else {
        return Ok(Attempt::Wrong);
    };
    let found = users::for_sign_in(db, name.as_str()).await?;
    let hash = found.as_ref().map_or_else(|| password::decoy_hash().to_owned(), |(_, h)| h.clone());
    let Ok(matches) = rules.checks.verify(password, hash).await else {
        // Not checked: the reservation is given back.
        let txn = begin_write(db).await?;
        throttle::unreserve_attempt(&txn, key, client).await?;
        txn.commit().await?;
        return Ok(Attempt::Busy);
    };
    let data = serde_json::json!({ "client": client });
    let user = match found {
        Some((user, _)) if matches && user.active => user,
        Some((user, _)) if matches => {
            let refused = Audited::begin(db, "auth", &user.username, now).await?;
            refused.commit(Record { kind: "sign_in_failed", event: Some("deactivated"), data }).await?;
            return Ok(Attempt::Deactivated);
        }
        _ => {
            let failed = Audited::begin(db, "auth", key, now).await?;
            failed.commit(Record { kind: "sign_in_failed", event: None, data }).await?;
            return Ok(Attempt::Wrong);
        }
    };
    let change = Audited::begin(db, "auth", &user.username, now).await?;
    throttle::release_attempt(change.conn(), key, client).await?;
    let token = sessions::create(change.conn(), user.id, now, rules.idle).await?;
    change.commit(Record { kind: "sign_in", event: None, data }).await?;
    Ok(Attempt::SignedIn(token))
}
