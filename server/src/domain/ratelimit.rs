//! Per-caller meters: the rate limit over fixed one-minute windows, and the usage counts by
//! outcome. Each key has one `Meter`, found through the key cache, so the request path only
//! touches atomics — no lock, no allocation.
//!
//! A fixed window gives exact `remaining` and `reset` values for the headers; its known cost —
//! up to twice the limit across a window boundary — is documented in API_KEYS.md. Meters live in
//! each instance's memory: with N instances behind a balancer, a key can make up to N × its
//! limit per minute.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};

use http::HeaderValue;

use crate::error::Result;
use crate::store::{self, Db};

#[derive(Debug, Clone, Copy)]
pub struct RateState {
    pub allowed: bool,
    pub limit: i64,
    pub remaining: i64,
    /// Seconds until the window resets.
    pub reset: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Unauthorized,
    Forbidden,
    RateLimited,
}

impl Outcome {
    const ALL: [Outcome; 4] = [Outcome::Ok, Outcome::Unauthorized, Outcome::Forbidden, Outcome::RateLimited];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Forbidden => "forbidden",
            Outcome::RateLimited => "rate_limited",
        }
    }
}

#[derive(Debug)]
pub struct Meter {
    pub limit: i64,
    /// `"per-minute";q=<limit>;w=60`, built once.
    pub policy: HeaderValue,
    window: AtomicI64,
    used: AtomicI64,
    counts: [AtomicI64; 4],
    last_used: AtomicI64,
}

impl Meter {
    pub fn new(limit: i64) -> Self {
        Meter {
            limit,
            policy: HeaderValue::from_str(&format!("\"per-minute\";q={limit};w=60")).expect("ASCII"),
            window: AtomicI64::new(0),
            used: AtomicI64::new(0),
            counts: Default::default(),
            last_used: AtomicI64::new(0),
        }
    }

    pub fn check(&self, now_ms: i64) -> RateState {
        let window = now_ms / 60_000;
        let seen = self.window.load(Relaxed);
        if seen != window && self.window.compare_exchange(seen, window, Relaxed, Relaxed).is_ok() {
            self.used.store(0, Relaxed);
        }
        let used = self.used.fetch_add(1, Relaxed) + 1;
        let allowed = used <= self.limit;
        if !allowed {
            self.used.fetch_sub(1, Relaxed); // refused requests do not use up the next ones
        }
        RateState { allowed, limit: self.limit, remaining: (self.limit - used).max(0), reset: 60 - (now_ms / 1000) % 60 }
    }

    pub fn count(&self, outcome: Outcome, now_ms: i64) {
        self.counts[outcome as usize].fetch_add(1, Relaxed);
        if outcome == Outcome::Ok {
            self.last_used.fetch_max(now_ms, Relaxed);
        }
    }
}

/// The meters of every key seen by this instance, by key id.
#[derive(Default)]
pub struct Meters(RwLock<HashMap<String, Arc<Meter>>>);

impl Meters {
    /// The key's meter; created on first sight. Called on key-cache misses only.
    pub fn for_key(&self, key_id: &str, limit: i64) -> Arc<Meter> {
        if let Some(meter) = self.0.read().expect("not poisoned").get(key_id) {
            if meter.limit == limit {
                return meter.clone();
            }
        }
        self.0.write().expect("not poisoned").entry(key_id.to_string()).or_insert_with(|| Arc::new(Meter::new(limit))).clone()
    }

    /// Writes the counts gathered since the last flush, in one transaction, to the current
    /// hour (flushes run every few seconds, so at most that much lands in the next hour).
    pub async fn flush(&self, db: &Db, now_ms: i64) -> Result<()> {
        let hour = now_ms / 3_600_000;
        let mut counts = Vec::new();
        let mut last_used = Vec::new();
        for (key_id, meter) in self.0.read().expect("not poisoned").iter() {
            for outcome in Outcome::ALL {
                let n = meter.counts[outcome as usize].swap(0, Relaxed);
                if n > 0 {
                    counts.push((key_id.clone(), hour, outcome.name(), n));
                }
            }
            let at = meter.last_used.swap(0, Relaxed);
            if at > 0 {
                last_used.push((key_id.clone(), at));
            }
        }
        if counts.is_empty() && last_used.is_empty() {
            return Ok(());
        }
        let mut tx = db.begin().await?;
        store::api_keys::add_usage(&mut tx, &counts, &last_used).await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_within_a_window_and_resets_with_the_next() {
        let meter = Meter::new(2);
        let t = 120_000; // the start of a minute
        assert_eq!(meter.check(t).remaining, 1);
        assert!(meter.check(t + 1).allowed);
        let third = meter.check(t + 2);
        assert!(!third.allowed);
        assert_eq!(third.reset, 60);
        assert!(meter.check(t + 60_000).allowed);
        assert_eq!(meter.policy, "\"per-minute\";q=2;w=60");
    }
}
