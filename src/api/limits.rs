//! Each token's rate: a bucket that holds a minute's calls and refills at the token's rate, kept
//! in this server's memory (with several servers, each allows the rate).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<i64, Bucket>>,
}

struct Bucket {
    calls: f64,
    at: Instant,
}

/// More tokens than any deployment has: past it the buckets start over rather than grow.
const MAX_BUCKETS: usize = 100_000;

impl Limiter {
    /// Takes one call from the token's bucket, or says how long until one is there.
    pub fn take(&self, token: i64, per_minute: u32, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(per_minute.max(1));
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(&token) {
            buckets.clear();
        }
        let bucket = buckets.entry(token).or_insert(Bucket { calls: capacity, at: now });
        // Calls racing for the lock may come with instants out of order: time never runs back.
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.calls = (bucket.calls + elapsed * per_second).min(capacity);
        bucket.at = bucket.at.max(now);
        if bucket.calls >= 1.0 {
            bucket.calls -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.calls) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_gets_its_rate_and_then_waits_for_the_next_call() {
        let limiter = Limiter::default();
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.take(1, 3, start).is_ok());
        }
        let wait = limiter.take(1, 3, start).expect_err("the fourth call in the same instant waits");
        assert!((19.0..=20.5).contains(&wait.as_secs_f64()), "a call every 20 s at 3 a minute: {wait:?}");
        assert!(limiter.take(2, 3, start).is_ok(), "another token has its own bucket");
        assert!(limiter.take(1, 3, start + Duration::from_secs(20)).is_ok(), "refilled after 20 s");
    }
}
