//! Group commit on SQLite: fires and starts that arrive while another is being written share one
//! transaction and one commit (one fsync), instead of queueing on SQLite's single writer for one
//! commit each.
//!
//! A change is queued as a [`Job`]; one task (spawned when the queue fills from empty) writes every
//! job waiting in one transaction, each in its own savepoint (the runtime's `begin_write` inside a
//! transaction), so one refused, conflicting or failing rolls back alone; then it commits, and only
//! then tells each caller how its change went. A job alone in its turn runs on the pool, as it
//! would without the writer. The writing is the task's, not a caller's: a caller that goes away
//! (its request dropped) takes nothing of the others' with it.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

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

/// `$body` with `$conn` bound to the target's connection, whichever it is: a job's code is the
/// same on the pool and in a batch, only the connection's type differs.
macro_rules! on_target {
    ($target:expr, |$conn:ident| $body:expr) => {
        match $target {
            $crate::store::writer::Target::Pool($conn) => $body,
            $crate::store::writer::Target::Batch($conn) => $body,
        }
    };
}
pub(crate) use on_target;

/// A job's end: what to tell its caller once the transaction has committed, or failed to (then
/// nothing of it is on disk).
type Deliver = Box<dyn FnOnce(Result<(), DbErr>) + Send>;

/// A change to make, given where to make it. It owns all it needs: it may outlive its caller.
type Job = Box<dyn for<'c> FnOnce(Target<'c>) -> BoxFuture<'c, Deliver> + Send>;

#[derive(Default)]
struct Queue {
    waiting: Vec<Job>,
    /// A task is writing what waits; it ends once it finds the queue empty.
    draining: bool,
}

pub struct Writer {
    db: DatabaseConnection,
    queue: Mutex<Queue>,
}

impl Writer {
    pub fn new(db: DatabaseConnection) -> Arc<Self> {
        Arc::new(Self { db, queue: Mutex::new(Queue::default()) })
    }

    /// Queues `job` and returns its result once the transaction it ran in is on disk.
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        job: impl for<'c> FnOnce(Target<'c>) -> BoxFuture<'c, T> + Send + 'static,
    ) -> Result<T, DbErr> {
        let (tx, rx) = oneshot::channel::<Result<T, DbErr>>();
        let job: Job = Box::new(move |target| {
            async move {
                let out = job(target).await;
                let deliver: Deliver = Box::new(move |committed| {
                    let _ = tx.send(committed.map(|()| out));
                });
                deliver
            }
            .boxed()
        });
        let start = {
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.waiting.push(job);
            !std::mem::replace(&mut queue.draining, true)
        };
        if start {
            tokio::spawn(Arc::clone(self).drain());
        }
        rx.await
            .unwrap_or_else(|_| Err(DbErr::Custom("the change was not made: the transaction it was in failed".into())))
    }

    /// Writes what waits, batch after batch, until nothing does.
    async fn drain(self: Arc<Self>) {
        // Were this task dropped (its tokio runtime shutting down), the next change starts another.
        struct Draining<'a>(&'a Writer);
        impl Drop for Draining<'_> {
            fn drop(&mut self) {
                self.0.queue.lock().unwrap_or_else(|e| e.into_inner()).draining = false;
            }
        }
        let draining = Draining(&self);
        loop {
            let jobs = {
                let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                if queue.waiting.is_empty() {
                    queue.draining = false;
                    // Another change may start its own task from now on: this one must not undo it.
                    std::mem::forget(draining);
                    return;
                }
                let n = queue.waiting.len().min(MAX_BATCH);
                queue.waiting.drain(..n).collect::<Vec<_>>()
            };
            // A job that panics loses its batch (rolled back, each caller told nothing was made),
            // not the writer: the jobs behind it are still written.
            if AssertUnwindSafe(self.write(jobs)).catch_unwind().await.is_err() {
                tracing::error!("group commit: a change panicked; the transaction it was in was rolled back");
            }
        }
    }

    /// Runs `jobs`: one alone through the pool; several in one transaction, committed once. Each
    /// is told how it went after the commit.
    async fn write(&self, mut jobs: Vec<Job>) {
        if jobs.len() == 1 {
            let job = jobs.remove(0);
            job(Target::Pool(&self.db)).await(Ok(()));
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
            done.push(job(Target::Batch(&txn)).await);
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

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}
