//! Keys and numbers across instances: an open instance holds its keys (a second open case for the
//! same household is refused, naming the first), and numbers are drawn from counters, one scope a
//! pattern and year. Both are taken in the transaction of the step, so a step rolled back takes
//! neither a key nor a number: numbers stay gap-free, and concurrent steps queue on the counter's
//! row (SQLite's single writer; PostgreSQL's row lock of the upsert).

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::store::db::{exec, row};

#[derive(FromQueryResult)]
struct Holder {
    instance_id: i64,
}

/// Claims `key` of `process` for `instance`; the instance already holding it, if another does.
pub async fn claim<C: ConnectionTrait>(c: &C, process: &str, key: &str, instance: i64) -> Result<Option<i64>, DbErr> {
    let taken: Option<Holder> = row(
        c,
        "INSERT INTO instance_keys (process, key, instance_id) VALUES ($1, $2, $3)
         ON CONFLICT (process, key) DO NOTHING RETURNING instance_id",
        vec![process.into(), key.into(), instance.into()],
    )
    .await?;
    if taken.is_some() {
        return Ok(None);
    }
    Ok(holder(c, process, key).await?.filter(|h| *h != instance))
}

/// The open instance holding `key` of `process`, if any.
pub async fn holder<C: ConnectionTrait>(c: &C, process: &str, key: &str) -> Result<Option<i64>, DbErr> {
    let found: Option<Holder> = row(
        c,
        "SELECT instance_id FROM instance_keys WHERE process = $1 AND key = $2",
        vec![process.into(), key.into()],
    )
    .await?;
    Ok(found.map(|h| h.instance_id))
}

/// Frees the keys of an instance that has finished.
pub async fn release<C: ConnectionTrait>(c: &C, instance: i64) -> Result<(), DbErr> {
    exec(c, "DELETE FROM instance_keys WHERE instance_id = $1", vec![instance.into()]).await?;
    Ok(())
}

/// The next number of `scope`: 1 for a new scope, then one more than the last, with no gap.
pub async fn next_number<C: ConnectionTrait>(c: &C, scope: &str) -> Result<i64, DbErr> {
    #[derive(FromQueryResult)]
    struct Last {
        last: i64,
    }
    let next: Option<Last> = row(
        c,
        "INSERT INTO counters (scope, last) VALUES ($1, 1)
         ON CONFLICT (scope) DO UPDATE SET last = counters.last + 1 RETURNING last",
        vec![scope.into()],
    )
    .await?;
    next.map(|n| n.last).ok_or(DbErr::RecordNotInserted)
}
