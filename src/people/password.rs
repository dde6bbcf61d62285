//! Password hashes: argon2id with a random salt, in the PHC string form, and the bounded pool of
//! threads that computes them.
//!
//! Each check needs 19 MiB for about a tenth of a second. Run without a bound, a burst of
//! sign-ins (with names that need no account) takes the server's memory by the gigabyte, so at
//! most a few checks run at once, a few more wait briefly for their turn, and the rest are turned
//! away at once ("busy, try again in a moment").

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, Version};
use tokio::sync::Semaphore;

use crate::people::Password;

/// OWASP's recommended argon2id parameters (Password Storage Cheat Sheet): 19 MiB of memory,
/// 2 passes, 1 lane. Stored hashes carry their own parameters, so raising these later re-hashes
/// nothing and still verifies old hashes.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

fn argon2() -> Result<Argon2<'static>, HashError> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).map_err(|e| HashError(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash(password: &Password) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| HashError(e.to_string()))?;
    argon2()?
        .hash_password_with_salt(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// The most memory a stored hash may ask a check for (a hash asking more is taken as malformed).
const MAX_VERIFY_KIB: u32 = 256 * 1024;

thread_local! {
    /// Each thread's argon2 memory, kept between checks. Freed after every check, a 19 MiB block
    /// is kept by the allocator anyway (glibc raises its mmap threshold past it) and the next one
    /// is often put beside it: a few hundred checks grew the server by a quarter of a gigabyte.
    static BLOCKS: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether `password` matches the stored hash; a malformed hash never matches. The comparison of
/// the outputs takes the same time wherever they differ.
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (parsed.salt.as_ref(), parsed.hash.as_ref()) else { return false };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else { return false };
    let Ok(version) = parsed.version.map_or(Ok(Version::default()), Version::try_from) else { return false };
    let Ok(params) = Params::try_from(&parsed) else { return false };
    if params.m_cost() > MAX_VERIFY_KIB {
        return false;
    }
    let expected = expected.as_bytes();
    let mut out = vec![0u8; expected.len()];
    let computed = BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        let count = params.block_count();
        if blocks.len() < count {
            blocks.resize(count, Block::default());
        }
        let argon2 = Argon2::new(algorithm, version, params);
        argon2.hash_password_into_with_memory(password.as_bytes(), salt.as_ref(), &mut out, &mut blocks[..count])
    });
    computed.is_ok() && crate::people::constant_time_eq(&out, expected)
}

/// A hash to verify against when the user does not exist, so both cases take the same time.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        hash(&Password::parse("decoy-password-never-used").unwrap_or_else(|_| unreachable!())).unwrap_or_default()
    })
}

/// Refused because too many password checks are running or waiting already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many sign-ins are being checked at once")]
pub struct Busy;

/// The bounded pool of password work (see the module's comment).
#[derive(Debug, Clone)]
pub struct PasswordChecks {
    running: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    max_wait: Duration,
    /// The most checks seen running at once, for tests and the attack benchmark's report.
    peak: Arc<AtomicUsize>,
    limit: usize,
    workers: Workers,
}

type Job = Box<dyn FnOnce() + Send>;

/// A few threads of our own that do the hashing. Each 19 MiB block is freed back to the
/// allocator of the thread that used it; on a handful of long-lived threads those blocks are
/// reused, where on the runtime's many blocking threads each would keep its own (hundreds of
/// megabytes after a burst).
#[derive(Debug, Clone)]
struct Workers {
    jobs: std::sync::mpsc::SyncSender<Job>,
}

impl Workers {
    fn start(threads: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(threads);
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("password-{i}")).spawn(move || {
                loop {
                    // The lock is held only to take the next job, never while it runs.
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    match next {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password thread");
            }
        }
        Self { jobs }
    }
}

impl PasswordChecks {
    pub fn new(running: usize, max_waiting: usize, max_wait: Duration) -> Self {
        let limit = running.max(1);
        Self {
            running: Arc::new(Semaphore::new(limit)),
            waiting: Arc::default(),
            max_waiting,
            max_wait,
            peak: Arc::default(),
            limit,
            workers: Workers::start(limit),
        }
    }

    /// As many checks at once as the machine has cores (at most 4: 76 MiB), eight times as many
    /// waiting up to two seconds.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from).clamp(1, 4);
        Self::new(cores, cores * 8, Duration::from_secs(2))
    }

    /// How many checks may run at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The most checks that ever ran at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Whether `password` matches `stored`, computed on a password thread when a turn is free.
    pub async fn verify(&self, password: String, stored: String) -> Result<bool, Busy> {
        self.run(move || verify(&password, &stored)).await
    }

    /// Hashes a new password on a password thread when a turn is free.
    pub async fn hash(&self, password: Password) -> Result<Result<String, HashError>, Busy> {
        self.run(move || hash(&password)).await
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        let permit = match self.running.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(Busy);
                }
                let turn = tokio::time::timeout(self.max_wait, self.running.clone().acquire_owned()).await;
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                match turn {
                    Ok(Ok(p)) => p,
                    _ => return Err(Busy),
                }
            }
        };
        let now_running = self.limit - self.running.available_permits();
        self.peak.fetch_max(now_running, Ordering::Relaxed);
        let (done, result) = tokio::sync::oneshot::channel();
        // The permit goes with the work: a client that hangs up does not free a turn while its
        // check still runs. A permit is a free thread, so the queue never holds more than the
        // threads can take at once.
        let job: Job = Box::new(move || {
            let out = work();
            drop(permit);
            let _ = done.send(out);
        });
        // Never full: a job is queued only with a permit, and there are as many places as permits.
        self.workers.jobs.try_send(job).map_err(|_| Busy)?;
        result.await.map_err(|_| Busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let pw = Password::parse("correct horse battery").unwrap();
        let h = hash(&pw).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("anything", "not a hash"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_checks_run_at_once_than_the_limit_and_the_overflow_is_turned_away() {
        let checks = PasswordChecks::new(2, 3, Duration::from_secs(60));
        // Every check waits at the gate until all twenty have asked for a turn.
        let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (checks, gate) = (checks.clone(), gate.clone());
                tokio::spawn(async move {
                    checks
                        .run(move || {
                            let (open, cv) = &*gate;
                            let _open = cv.wait_while(open.lock().unwrap(), |o| !*o).unwrap();
                        })
                        .await
                })
            })
            .collect();
        let turned_away = async {
            while tasks.iter().filter(|t| t.is_finished()).count() < 15 {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), turned_away).await.expect("the overflow is refused at once");
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap().is_ok());
        }
        assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 5, "two ran and three waited for their turn");
        assert_eq!(checks.peak(), 2, "never more than two at once");
    }
}
