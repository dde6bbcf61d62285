//! Webhook subscriptions: which URL hears of which changes. Made, paused and removed by admins
//! (each change audited by the caller, through `Audited`), matched by [`crate::store::outbox`].

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use time::OffsetDateTime;

use crate::clock::to_micros;
use crate::store::db::{exec, row, rows};
use crate::webhooks::{MAX_SUBSCRIPTIONS, NewSubscription};

/// A subscription as listed: never its secret, which is shown once, when it is made.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Subscription {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub process: Option<String>,
    pub event: Option<String>,
    pub state: Option<String>,
    pub finished: bool,
    pub active: bool,
    pub created_at: i64,
    pub created_by: String,
}

const COLUMNS: &str = "id, url, description, process, event, state, finished, active, created_at, created_by";

#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("there are already {0} webhook subscriptions, the most allowed; remove one first")]
    TooMany(i64),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Adds a subscription with its secret, unless there are [`MAX_SUBSCRIPTIONS`] already. Made
/// through an admin change (`Audited`), whose hold on the admin stream makes the count and the
/// insert one step with respect to other admins' changes.
pub async fn create<C: ConnectionTrait>(
    c: &C,
    new: &NewSubscription,
    secret: &str,
    by: &str,
    now: OffsetDateTime,
) -> Result<i64, SubscriptionError> {
    #[derive(FromQueryResult)]
    struct Count {
        n: i64,
    }
    let count = row::<Count, _>(c, "SELECT COUNT(*) AS n FROM webhook_subscriptions", vec![]).await?;
    if count.is_some_and(|c| c.n >= MAX_SUBSCRIPTIONS) {
        return Err(SubscriptionError::TooMany(MAX_SUBSCRIPTIONS));
    }
    #[derive(FromQueryResult)]
    struct Inserted {
        id: i64,
    }
    let f = &new.filters;
    let Inserted { id } = row(
        c,
        "INSERT INTO webhook_subscriptions (url, description, secret, process, event, state, finished, active, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $9) RETURNING id",
        vec![
            new.url.as_str().into(),
            new.description.clone().into(),
            secret.into(),
            f.process.clone().into(),
            f.event.clone().into(),
            f.state.clone().into(),
            f.finished.into(),
            to_micros(now).into(),
            by.into(),
        ],
    )
    .await?
    .ok_or(DbErr::RecordNotInserted)?;
    Ok(id)
}

/// Every subscription, oldest first (there are at most [`MAX_SUBSCRIPTIONS`]).
pub async fn list<C: ConnectionTrait>(c: &C) -> Result<Vec<Subscription>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM webhook_subscriptions ORDER BY id LIMIT {MAX_SUBSCRIPTIONS}");
    rows(c, &sql, vec![]).await
}

pub async fn find<C: ConnectionTrait>(c: &C, id: i64) -> Result<Option<Subscription>, DbErr> {
    row(c, &format!("SELECT {COLUMNS} FROM webhook_subscriptions WHERE id = $1"), vec![id.into()]).await
}

/// Pauses (no new deliveries, none sent) or resumes a subscription; false when there is none.
pub async fn set_active<C: ConnectionTrait>(c: &C, id: i64, active: bool) -> Result<bool, DbErr> {
    Ok(exec(c, "UPDATE webhook_subscriptions SET active = $1 WHERE id = $2", vec![active.into(), id.into()]).await? > 0)
}

/// Removes a subscription with its deliveries; false when there is none.
pub async fn remove<C: ConnectionTrait>(c: &C, id: i64) -> Result<bool, DbErr> {
    exec(c, "DELETE FROM webhook_deliveries WHERE subscription_id = $1", vec![id.into()]).await?;
    Ok(exec(c, "DELETE FROM webhook_subscriptions WHERE id = $1", vec![id.into()]).await? > 0)
}
