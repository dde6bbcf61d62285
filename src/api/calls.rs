//! Every call of an account, logged under its name: when, what was asked (method, path and
//! query) and the status it got. Changes are in the hash-chained audit trail as well; this log is
//! for the reads, which change nothing and so have no audit event. Calls are written in batches by
//! a background task, so a read costs no write of its own; past a bounded queue they are counted
//! and dropped, never held in memory without end.

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::mpsc;

use crate::store::db::exec;

/// Calls waiting to be written; past it new ones are dropped (and counted in the log).
const QUEUE: usize = 10_000;
/// Calls written in one statement.
const BATCH: usize = 200;
/// The longest path (with its query) kept.
const MAX_PATH: usize = 500;

#[derive(Debug, Clone)]
pub struct Call {
    pub at: i64,
    pub account: String,
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// Where the handlers' calls go.
#[derive(Clone)]
pub struct CallLog {
    tx: Option<mpsc::Sender<Call>>,
}

impl CallLog {
    /// A log written to `db` by a task of its own (none outside a tokio runtime: nothing is kept).
    pub fn writing_to(db: DatabaseConnection) -> Self {
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return Self { tx: None } };
        let (tx, rx) = mpsc::channel(QUEUE);
        handle.spawn(write_batches(db, rx));
        Self { tx: Some(tx) }
    }

    fn record(&self, call: Call) {
        if let Some(tx) = &self.tx
            && tx.try_send(call).is_err()
        {
            tracing::warn!("the API call log is behind: a call was not logged");
        }
    }
}

async fn write_batches(db: DatabaseConnection, mut rx: mpsc::Receiver<Call>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        if let Err(e) = write(&db, &batch).await {
            tracing::warn!(error = %e, calls = batch.len(), "writing the API call log failed");
        }
        batch.clear();
    }
}

async fn write(db: &DatabaseConnection, calls: &[Call]) -> Result<(), DbErr> {
    let txn = crate::store::db::begin_write(db).await?;
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

/// The account a call was made by, filled in by the `Caller` extractor once the token is known.
#[derive(Clone, Default)]
pub struct CalledBy(pub Arc<Mutex<Option<String>>>);

impl CalledBy {
    pub fn set(&self, account: &str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(account.to_owned());
    }
}

/// Logs each call that a token signed in, with the status it got.
pub async fn log_calls(
    axum::extract::State(state): axum::extract::State<crate::web::AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let by = CalledBy::default();
    request.extensions_mut().insert(by.clone());
    let method = request.method().as_str().to_owned();
    let mut path = request.uri().path_and_query().map_or_else(String::new, |p| p.as_str().to_owned());
    if path.len() > MAX_PATH {
        let mut end = MAX_PATH;
        while !path.is_char_boundary(end) {
            end -= 1;
        }
        path.truncate(end);
    }
    let response = next.run(request).await;
    let account = by.0.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(account) = account {
        let at = crate::clock::to_micros(state.now());
        state.api_calls.record(Call { at, account, method, path, status: response.status().as_u16() });
    }
    response
}

/// Forgets the calls older than `keep_micros` (the server's housekeeping).
pub async fn purge<C: sea_orm::ConnectionTrait>(c: &C, before: i64) -> Result<u64, DbErr> {
    exec(c, "DELETE FROM api_calls WHERE at < $1", vec![before.into()]).await
}

/// The latest calls of an account, newest first.
pub async fn latest<C: sea_orm::ConnectionTrait>(c: &C, account: &str, limit: u64) -> Result<Vec<Call>, DbErr> {
    #[derive(sea_orm::FromQueryResult)]
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
    let rows: Vec<Row> = crate::store::db::rows(c, &sql, vec![account.into()]).await?;
    Ok(rows
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
