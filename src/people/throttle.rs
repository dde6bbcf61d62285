//! Throttling sign-in guesses. Every attempt is *reserved* before its password is checked, in one
//! write transaction, so parallel guesses are counted one after another and none slips past the
//! limit; a check that succeeds gives its reservation back.
//!
//! Two counters take each attempt: one for the user name *from this client address* (a guesser
//! elsewhere cannot lock the real user out), and one for the client address across all names
//! (random names do not get through either). Each lock lasts longer every time it is reached
//! again (back-off), up to a ceiling; counters idle for a day are pruned.

use sea_orm::{ConnectionTrait, DbErr};
use time::{Duration, OffsetDateTime};

use crate::store::throttle as store;
pub use crate::store::throttle::Counter;

/// How many failures a counter takes within its window before it locks, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub max_failures: i64,
    pub window: Duration,
    /// The first lock; each further one in a row lasts twice as long as the one before.
    pub lock: Duration,
    pub max_lock: Duration,
}

/// The sign-in limits: per user name from one client, and per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_name: Rule,
    pub per_client: Rule,
    /// A counter untouched (and unlocked) this long is forgotten, its back-off with it.
    pub forget_after: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_name: Rule {
                max_failures: 5,
                window: Duration::minutes(15),
                lock: Duration::minutes(15),
                max_lock: Duration::hours(24),
            },
            per_client: Rule {
                max_failures: 30,
                window: Duration::minutes(15),
                lock: Duration::minutes(15),
                max_lock: Duration::hours(24),
            },
            forget_after: Duration::hours(24),
        }
    }
}

/// Reserves one attempt on a counter: the counter to write back, and whether the attempt may
/// go on (`Err` holds when the lock ends).
pub fn reserve(
    c: Counter,
    rule: Rule,
    forget_after: Duration,
    now: OffsetDateTime,
) -> (Counter, Result<(), OffsetDateTime>) {
    let idle_since = c.updated_at.max(c.locked_until);
    let mut c = if now - idle_since >= forget_after { Counter::fresh(now) } else { c };
    c.updated_at = now;
    if c.locked_until > now {
        return (c, Err(c.locked_until));
    }
    if now - c.window_start >= rule.window {
        c.failures = 0;
        c.window_start = now;
    }
    if c.failures >= rule.max_failures {
        let factor = 1i32.checked_shl(u32::try_from(c.lockouts.min(20)).unwrap_or(20)).unwrap_or(i32::MAX);
        let lock = rule.lock.checked_mul(factor).unwrap_or(rule.max_lock).min(rule.max_lock);
        c.locked_until = now + lock;
        c.lockouts += 1;
        c.failures = 0;
        c.window_start = c.locked_until;
        return (c, Err(c.locked_until));
    }
    c.failures += 1;
    (c, Ok(()))
}

/// The counters' keys for a user name tried from a client address.
pub fn keys(username: &str, client: &str) -> (String, String) {
    (format!("name:{client}:{username}"), format!("client:{client}"))
}

/// Reserves an attempt on both counters, inside the caller's write transaction. `Err` holds the
/// later of the locks in force.
pub async fn reserve_attempt<C: ConnectionTrait>(
    c: &C,
    limits: &Limits,
    username: &str,
    client: &str,
    now: OffsetDateTime,
) -> Result<Result<(), OffsetDateTime>, DbErr> {
    store::prune(c, now - limits.forget_after).await?;
    let (name_key, client_key) = keys(username, client);
    let mut verdict = Ok(());
    for (key, rule) in [(client_key, limits.per_client), (name_key, limits.per_name)] {
        let (counter, outcome) = reserve(store::lock(c, &key, now).await?, rule, limits.forget_after, now);
        store::write(c, &key, &counter).await?;
        if let Err(until) = outcome {
            verdict = Err(verdict.err().map_or(until, |u: OffsetDateTime| u.max(until)));
            // A locked client stops here: its attempt at this name is not counted as well.
            break;
        }
    }
    Ok(verdict)
}

/// Gives back the reservation of an attempt whose password was right: the name's counter from
/// this client starts over, and the client's counter loses this attempt.
pub async fn release_attempt<C: ConnectionTrait>(c: &C, username: &str, client: &str) -> Result<(), DbErr> {
    let (name_key, client_key) = keys(username, client);
    store::delete(c, &name_key).await?;
    store::decrement(c, &client_key).await
}

/// Gives back a reservation whose password was never checked (the checker was busy).
pub async fn unreserve_attempt<C: ConnectionTrait>(c: &C, username: &str, client: &str) -> Result<(), DbErr> {
    let (name_key, client_key) = keys(username, client);
    store::decrement(c, &name_key).await?;
    store::decrement(c, &client_key).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 09:00 UTC);

    fn rule() -> Rule {
        Limits::default().per_name
    }

    fn attempts(mut c: Counter, n: usize, now: OffsetDateTime) -> (Counter, Vec<bool>) {
        let mut allowed = Vec::new();
        for _ in 0..n {
            let (next, outcome) = reserve(c, rule(), Duration::hours(24), now);
            c = next;
            allowed.push(outcome.is_ok());
        }
        (c, allowed)
    }

    #[test]
    fn five_attempts_pass_and_the_sixth_locks_for_the_window() {
        let (c, allowed) = attempts(Counter::fresh(NOW), 7, NOW);
        assert_eq!(allowed, [true, true, true, true, true, false, false]);
        assert_eq!(c.locked_until, NOW + Duration::minutes(15));
        let (_, after) = reserve(c, rule(), Duration::hours(24), NOW + Duration::minutes(15));
        assert!(after.is_ok(), "the lock ends when its time is up");
    }

    #[test]
    fn each_lock_in_a_row_lasts_twice_as_long_up_to_the_ceiling() {
        let mut c = Counter::fresh(NOW);
        let mut now = NOW;
        let mut locks = Vec::new();
        for _ in 0..9 {
            let (next, _) = attempts(c, 6, now);
            locks.push((next.locked_until - now).whole_minutes());
            now = next.locked_until;
            c = next;
        }
        assert_eq!(locks, [15, 30, 60, 120, 240, 480, 960, 1440, 1440]);
    }

    #[test]
    fn a_quiet_day_forgets_the_back_off() {
        let (c, _) = attempts(Counter::fresh(NOW), 6, NOW);
        assert_eq!(c.lockouts, 1);
        let later = c.locked_until + Duration::hours(24);
        let (c, outcome) = reserve(c, rule(), Duration::hours(24), later);
        assert!(outcome.is_ok());
        assert_eq!((c.lockouts, c.failures), (0, 1));
    }
}
