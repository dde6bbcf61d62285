//! The API's call log: every call of a service account, written in batches (see `api::calls`).

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::store::db::{Conn, begin_write, exec, rows};

#[derive(Debug, Clone)]
pub struct Call {
    pub at: i64,
    pub account: String,
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// Writes a batch of calls in one transaction.
/// Writes `calls` in one transaction (a savepoint inside one).
pub async fn insert<C: Conn>(c: &C, calls: &[Call]) -> Result<(), DbErr> {
    let txn = begin_write(c).await?;
    for c in calls {
        exec(
            &txn,
            "INSERT INTO api_calls (at, account, method, path, status) VALUES ($1, $2, $3, $4, $5)",
            vec![
                c.at.into(),
                c.account.clone().into(),
                c.method.clone().into(),
                c.path.clone().into(),
                i64::from(c.status).into(),
            ],
        )
        .await?;
    }
    txn.commit().await
}

/// Forgets the calls made before `before` (the server's housekeeping).
pub async fn purge<C: ConnectionTrait>(c: &C, before: i64) -> Result<u64, DbErr> {
    exec(c, "DELETE FROM api_calls WHERE at < $1", vec![before.into()]).await
}

/// The latest calls of an account, newest first.
pub async fn latest<C: ConnectionTrait>(c: &C, account: &str, limit: u64) -> Result<Vec<Call>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        at: i64,
        account: String,
        method: String,
        path: String,
        status: i64,
    }
    let sql = format!(
        "SELECT at, account, method, path, status FROM api_calls WHERE account = $1 ORDER BY id DESC LIMIT {}",
        limit.min(10_000)
    );
    let found: Vec<Row> = rows(c, &sql, vec![account.into()]).await?;
    Ok(found
        .into_iter()
        .map(|r| Call {
            at: r.at,
            account: r.account,
            method: r.method,
            path: r.path,
            status: u16::try_from(r.status).unwrap_or(0),
        })
        .collect())
}
