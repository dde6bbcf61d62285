//! People's mail settings (address, digest opt-in, language) and the daily digest's claim: the day
//! of a person's last digest is taken by one atomic update, so one server process of many sends
//! it, once, and a failed send gives the day back, a bounded number of times.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::store::db::{exec, row, rows};

/// A person's mail settings as stored.
#[derive(Debug, Clone, Default, FromQueryResult)]
pub struct MailRow {
    pub id: i64,
    pub email: Option<String>,
    pub digest: bool,
    pub locale: Option<String>,
}

/// Someone whose digest of `today` is not yet claimed.
#[derive(Debug, Clone, FromQueryResult)]
pub struct DueRow {
    pub id: i64,
    pub last_digest: Option<String>,
}

pub async fn mail_of<C: ConnectionTrait>(c: &C, user_id: i64) -> Result<Option<MailRow>, DbErr> {
    row(c, "SELECT id, email, digest, locale FROM users WHERE id = $1", vec![user_id.into()]).await
}

/// Every person's mail settings (the admin's list; bounded as that list is).
pub async fn mail_of_all<C: ConnectionTrait>(c: &C) -> Result<Vec<MailRow>, DbErr> {
    let sql = "SELECT id, email, digest, locale FROM users WHERE kind = 'person' ORDER BY username LIMIT 5000";
    rows(c, sql, vec![]).await
}

pub async fn set_mail<C: ConnectionTrait>(
    c: &C,
    user_id: i64,
    email: Option<&str>,
    digest: bool,
    locale: &str,
) -> Result<(), DbErr> {
    exec(
        c,
        "UPDATE users SET email = $1, digest = $2, locale = $3 WHERE id = $4",
        vec![email.map(str::to_owned).into(), digest.into(), locale.into(), user_id.into()],
    )
    .await?;
    Ok(())
}

/// Who should get a digest on `today` and has not: active people who asked for one and have an
/// address, not yet claimed today, and not given up on today after `max_failures` failed sends;
/// by id after `after`, at most `limit`.
pub async fn due<C: ConnectionTrait>(
    c: &C,
    today: &str,
    max_failures: i64,
    after: i64,
    limit: u64,
) -> Result<Vec<DueRow>, DbErr> {
    let sql = format!(
        "SELECT id, last_digest FROM users
         WHERE kind = 'person' AND active AND digest AND email IS NOT NULL
           AND (last_digest IS NULL OR last_digest < $1)
           AND NOT (COALESCE(digest_failed_on, '') = $1 AND digest_failures >= $2)
           AND id > $3
         ORDER BY id LIMIT {limit}"
    );
    rows(c, &sql, vec![today.into(), max_failures.into(), after.into()]).await
}

/// Takes the person's digest of `today`: true only for the one caller whose update changed the
/// row (another process, or an earlier run today, has it otherwise).
pub async fn claim<C: ConnectionTrait>(c: &C, user_id: i64, today: &str, max_failures: i64) -> Result<bool, DbErr> {
    let changed = exec(
        c,
        "UPDATE users SET last_digest = $1
         WHERE id = $2 AND (last_digest IS NULL OR last_digest < $1)
           AND NOT (COALESCE(digest_failed_on, '') = $1 AND digest_failures >= $3)",
        vec![today.into(), user_id.into(), max_failures.into()],
    )
    .await?;
    Ok(changed == 1)
}

/// Gives back a claim whose mail could not be sent (the day becomes `previous` again, so a later
/// tick tries again), counting the day's failures.
pub async fn unclaim<C: ConnectionTrait>(
    c: &C,
    user_id: i64,
    today: &str,
    previous: Option<&str>,
) -> Result<(), DbErr> {
    exec(
        c,
        "UPDATE users SET last_digest = $1,
             digest_failures = CASE WHEN digest_failed_on = $2 THEN digest_failures + 1 ELSE 1 END,
             digest_failed_on = $2
         WHERE id = $3 AND last_digest = $2",
        vec![previous.map(str::to_owned).into(), today.into(), user_id.into()],
    )
    .await?;
    Ok(())
}
