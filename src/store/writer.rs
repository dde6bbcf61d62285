//! Group commit on SQLite: fires and starts that arrive while another is being written share one
//! transaction and one commit (one fsync), instead of queueing on SQLite's single writer for one
//! commit each.
//!
//! A change is queued as a [`Job`]; the first caller to take the write turn runs every job waiting
//! in one transaction, each in its own savepoint (the runtime's `begin_write` inside a transaction),
//! so one refused, conflicting or failing rolls back alone; then it commits, and only then tells
//! each caller how its change went. A job alone in its turn runs on the pool, as it would without
//! the writer: a sequential caller pays nothing for the batching.

use std::sync::Mutex;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use tokio::sync::oneshot;

use crate::store::db::begin_write;

/// The most jobs one transaction takes: bounds how long the first of them waits for its commit.
pub const MAX_BATCH: usize = 64;

/// Where a job makes its change: alone, through the pool (its own transaction); or in a batch,
/// inside the shared transaction (a savepoint of it).
pub enum Target<'a> {
    Pool(&'a DatabaseConnection),
    Batch(&'a DatabaseTransaction),
}

/// A job's end: what to tell its caller once the transaction has committed, or failed to (then
/// nothing of it is on disk).
type Deliver = Box<dyn FnOnce(Result<(), DbErr>) + Send>;

/// A change to make, given the context `X` (the runtime) and where to make it.
type Job<X> = Box<dyn for<'c> FnOnce(&'c X, Target<'c>) -> BoxFuture<'c, Deliver> + Send>;

pub struct Writer<X> {
    db: DatabaseConnection,
    waiting: Mutex<Vec<Job<X>>>,
    /// Held by the caller whose turn it is to write what waits.
    turn: tokio::sync::Mutex<()>,
}

impl<X: Sync> Writer<X> {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db, waiting: Mutex::new(Vec::new()), turn: tokio::sync::Mutex::new(()) }
    }

    /// Queues `job` and returns its result once the transaction it ran in is on disk. Whoever takes
    /// the turn first writes every job waiting; the others find theirs done.
    pub async fn run<T: Send + 'static>(
        &self,
        ctx: &X,
        job: impl for<'c> FnOnce(&'c X, Target<'c>) -> BoxFuture<'c, T> + Send + 'static,
    ) -> Result<T, DbErr> {
        let (tx, mut rx) = oneshot::channel::<Result<T, DbErr>>();
        let job: Job<X> = Box::new(move |ctx, target| {
            async move {
                let out = job(ctx, target).await;
                let deliver: Deliver = Box::new(move |committed| {
                    let _ = tx.send(committed.map(|()| out));
                });
                deliver
            }
            .boxed()
        });
        self.waiting.lock().unwrap_or_else(|e| e.into_inner()).push(job);
        let _turn = self.turn.lock().await;
        loop {
            match rx.try_recv() {
                Ok(done) => return done,
                Err(oneshot::error::TryRecvError::Closed) => {
                    return Err(DbErr::Custom("the change was not made: the transaction it was in failed".into()));
                }
                // Not taken yet (or past the last batch's bound): this caller writes what waits.
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let jobs = {
                let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
                let n = waiting.len().min(MAX_BATCH);
                waiting.drain(..n).collect::<Vec<_>>()
            };
            self.write(ctx, jobs).await;
        }
    }

    /// Runs `jobs`: one alone through the pool; several in one transaction, committed once. Each
    /// is told how it went after the commit. Were this dropped halfway (its caller went away), the
    /// transaction rolls back and the callers of the jobs it held are told nothing was made.
    async fn write(&self, ctx: &X, mut jobs: Vec<Job<X>>) {
        if jobs.len() == 1 {
            let job = jobs.remove(0);
            job(ctx, Target::Pool(&self.db)).await(Ok(()));
            return;
        }
        let txn = match begin_write(&self.db).await {
            Ok(txn) => txn,
            Err(e) => {
                tracing::error!(error = %e, "group commit: could not begin a transaction");
                return;
            }
        };
        let mut done = Vec::with_capacity(jobs.len());
        for job in jobs {
            done.push(job(ctx, Target::Batch(&txn)).await);
        }
        match txn.commit().await {
            Ok(()) => done.into_iter().for_each(|d| d(Ok(()))),
            Err(e) => {
                tracing::error!(error = %e, "group commit: the commit failed");
                let e = e.to_string();
                done.into_iter().for_each(|d| d(Err(DbErr::Custom(e.clone()))));
            }
        }
    }
}

impl<X> std::fmt::Debug for Writer<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}
