//! Every call of an account, logged under its name: when, what was asked (method, path and
//! query) and the status it got. Changes are in the hash-chained audit trail as well; this log is
//! for the reads, which change nothing and so have no audit event. Calls are written in batches by
//! a background task, so a read costs no write of its own; past a bounded queue they are counted
//! and dropped, never held in memory without end.

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use futures_util::FutureExt;
use tokio::sync::mpsc;

use crate::runtime::Runtime;
use crate::store::api_calls;
use crate::store::writer::on_target;

/// Calls waiting to be written; past it new ones are dropped (and counted in the log).
const QUEUE: usize = 10_000;
/// Calls written in one statement.
const BATCH: usize = 200;
/// The longest path (with its query) kept.
const MAX_PATH: usize = 500;

pub use crate::store::api_calls::Call;

/// Where the handlers' calls go.
#[derive(Clone)]
pub struct CallLog {
    tx: Option<mpsc::Sender<Call>>,
}

impl CallLog {
    /// A log written through `rt` by a task of its own (none outside a tokio runtime: nothing is
    /// kept). Its writes take the runtime's shared commit, never SQLite's write lock beside it.
    pub fn writing_to(rt: Runtime) -> Self {
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return Self { tx: None } };
        let (tx, rx) = mpsc::channel(QUEUE);
        handle.spawn(write_batches(rt, rx));
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

async fn write_batches(rt: Runtime, mut rx: mpsc::Receiver<Call>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let calls = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
        let written = rt
            .write(move |target| {
                async move { on_target!(target, |conn| api_calls::insert(conn, &calls).await) }.boxed()
            })
            .await;
        if let Ok(Err(e)) | Err(e) = written {
            tracing::warn!(error = %e, "writing the API call log failed");
        }
    }
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
