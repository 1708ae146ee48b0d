//! Per-caller meters: the rate limit over fixed one-minute windows, and the usage counts by
//! outcome. Each key has one `Meter`, found through the key cache, so the request path only
//! touches atomics — no lock, no allocation.
//!
//! A fixed window gives exact `remaining` and `reset` values for the headers; its known cost —
//! up to twice the limit across a window boundary — is documented in API_KEYS.md. Meters live in
//! each instance's memory: with N instances behind a balancer, a key can make up to N × its
//! limit per minute.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, RwLock};

use http::header::{HeaderName, RETRY_AFTER};
use http::{HeaderMap, HeaderValue};

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
    pub const ALL: [Outcome; 4] = [Outcome::Ok, Outcome::Unauthorized, Outcome::Forbidden, Outcome::RateLimited];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Forbidden => "forbidden",
            Outcome::RateLimited => "rate_limited",
        }
    }
}

const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const X_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const X_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const X_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// Requests by outcome over every caller of this hub, for `/metrics`. Each meter holds the hub's
/// (an `Arc` given once, when the meter is made), so counting costs one more relaxed add and no
/// clone per request.
#[derive(Debug, Default)]
pub struct Outcomes([AtomicU64; 4]);

impl Outcomes {
    pub fn add(&self, outcome: Outcome) {
        self.0[outcome as usize].fetch_add(1, Relaxed);
    }
    pub fn get(&self, outcome: Outcome) -> u64 {
        self.0[outcome as usize].load(Relaxed)
    }
}

#[derive(Debug)]
pub struct Meter {
    pub limit: i64,
    totals: Arc<Outcomes>,
    /// `"per-minute";q=<limit>;w=60` and the limit itself, built once per meter.
    policy: HeaderValue,
    limit_header: HeaderValue,
    window: AtomicI64,
    used: AtomicI64,
    counts: [AtomicI64; 4],
    last_used: AtomicI64,
}

impl Meter {
    pub fn new(limit: i64, totals: Arc<Outcomes>) -> Self {
        Meter {
            limit,
            totals,
            policy: header_value(format_args!("\"per-minute\";q={limit};w=60")),
            limit_header: HeaderValue::from(limit),
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
        RateState {
            allowed,
            limit: self.limit,
            remaining: (self.limit - used).max(0),
            reset: 60 - (now_ms / 1000) % 60,
        }
    }

    /// Sets the rate-limit headers of an authenticated answer — IETF `RateLimit-Policy` and
    /// `RateLimit`, the `X-RateLimit-*` trio, and `Retry-After` when refused. They are on every
    /// authenticated response, so only the two values that change per request are built here
    /// (one allocation each); the rest are shared.
    pub fn write_headers(&self, rate: &RateState, headers: &mut HeaderMap) {
        headers.insert(RATELIMIT_POLICY, self.policy.clone());
        headers.insert(RATELIMIT, ratelimit_value(rate));
        headers.insert(X_LIMIT, self.limit_header.clone());
        headers.insert(X_REMAINING, HeaderValue::from(rate.remaining));
        headers.insert(X_RESET, seconds(rate.reset));
        if !rate.allowed {
            headers.insert(RETRY_AFTER, seconds(rate.reset));
        }
    }

    pub fn count(&self, outcome: Outcome, now_ms: i64) {
        self.counts[outcome as usize].fetch_add(1, Relaxed);
        self.totals.add(outcome);
        if outcome == Outcome::Ok {
            self.last_used.fetch_max(now_ms, Relaxed);
        }
    }
}

/// A short header value formatted on the stack: its only allocation is the value's own.
fn header_value(args: std::fmt::Arguments) -> HeaderValue {
    let mut buf = [0u8; 96];
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    let _ = cursor.write_fmt(args);
    let len = cursor.position() as usize;
    HeaderValue::from_bytes(&buf[..len]).expect("the values are ASCII")
}

/// `"per-minute";r=<remaining>;t=<reset>`, put together on the stack without `fmt` (which cost
/// more than the rest of this header's work, measured with callgrind).
fn ratelimit_value(rate: &RateState) -> HeaderValue {
    let (mut remaining, mut reset) = (itoa::Buffer::new(), itoa::Buffer::new());
    let parts = [
        &b"\"per-minute\";r="[..],
        remaining.format(rate.remaining).as_bytes(),
        b";t=",
        reset.format(rate.reset).as_bytes(),
    ];
    let mut buf = [0u8; 64];
    let mut len = 0;
    for part in parts {
        buf[len..len + part.len()].copy_from_slice(part);
        len += part.len();
    }
    HeaderValue::from_bytes(&buf[..len]).expect("the values are ASCII")
}

/// `0..=60` seconds as header values made once; cloning one shares it instead of allocating.
fn seconds(n: i64) -> HeaderValue {
    static TABLE: LazyLock<Vec<HeaderValue>> = LazyLock::new(|| (0..=60).map(HeaderValue::from).collect());
    usize::try_from(n).ok().and_then(|i| TABLE.get(i)).cloned().unwrap_or_else(|| HeaderValue::from(n))
}

/// The meters of every key seen by this instance, by key id, and their outcome totals.
#[derive(Default)]
pub struct Meters {
    meters: RwLock<HashMap<String, Arc<Meter>>>,
    pub totals: Arc<Outcomes>,
}

impl Meters {
    /// The key's meter; created on first sight, and replaced (counts carried over) when the
    /// key's limit is no longer the meter's. Called on key-cache misses only.
    pub fn for_key(&self, key_id: &str, limit: i64) -> Arc<Meter> {
        if let Some(meter) = self.meters.read().expect("not poisoned").get(key_id) {
            if meter.limit == limit {
                return meter.clone();
            }
        }
        let mut meters = self.meters.write().expect("not poisoned");
        let fresh = Arc::new(Meter::new(limit, self.totals.clone()));
        if let Some(old) = meters.get(key_id) {
            if old.limit == limit {
                return old.clone(); // another request replaced it meanwhile
            }
            fresh.window.store(old.window.load(Relaxed), Relaxed);
            fresh.used.store(old.used.load(Relaxed), Relaxed);
            for (to, from) in fresh.counts.iter().zip(&old.counts) {
                to.store(from.swap(0, Relaxed), Relaxed);
            }
            fresh.last_used.store(old.last_used.swap(0, Relaxed), Relaxed);
        }
        meters.insert(key_id.to_string(), fresh.clone());
        fresh
    }

    /// Writes the counts gathered since the last flush, in one transaction, to the current
    /// hour (flushes run every few seconds, so at most that much lands in the next hour).
    pub async fn flush(&self, db: &Db, now_ms: i64) -> Result<()> {
        let hour = now_ms / 3_600_000;
        let mut counts = Vec::new();
        let mut last_used = Vec::new();
        for (key_id, meter) in self.meters.read().expect("not poisoned").iter() {
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
        let written = async {
            let mut tx = db.begin().await?;
            store::api_keys::add_usage(&mut tx, &counts, &last_used).await?;
            tx.commit().await
        }
        .await;
        if written.is_err() {
            // Put the counts back, so the next flush writes them: usage is not lost to a
            // passing database error.
            let meters = self.meters.read().expect("not poisoned");
            for (key_id, _, outcome, n) in &counts {
                if let (Some(meter), Some(i)) =
                    (meters.get(key_id), Outcome::ALL.iter().position(|o| o.name() == *outcome))
                {
                    meter.counts[i].fetch_add(*n, Relaxed);
                }
            }
            for (key_id, at) in &last_used {
                if let Some(meter) = meters.get(key_id) {
                    meter.last_used.fetch_max(*at, Relaxed);
                }
            }
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_within_a_window_and_resets_with_the_next() {
        let meter = Meter::new(2, Default::default());
        let t = 120_000; // the start of a minute
        assert_eq!(meter.check(t).remaining, 1);
        assert!(meter.check(t + 1).allowed);
        let third = meter.check(t + 2);
        assert!(!third.allowed);
        assert_eq!(third.reset, 60);
        assert!(meter.check(t + 60_000).allowed);
    }

    #[test]
    fn the_headers_carry_the_limit_the_remainder_and_the_reset() {
        let meter = Meter::new(2, Default::default());
        let t = 120_000 + 15_000; // 45 s before the window ends
        let mut headers = HeaderMap::new();
        meter.write_headers(&meter.check(t), &mut headers);
        assert_eq!(headers["ratelimit-policy"], "\"per-minute\";q=2;w=60");
        assert_eq!(headers["ratelimit"], "\"per-minute\";r=1;t=45");
        assert_eq!(headers["x-ratelimit-limit"], "2");
        assert_eq!(headers["x-ratelimit-remaining"], "1");
        assert_eq!(headers["x-ratelimit-reset"], "45");
        assert!(!headers.contains_key("retry-after"));
        meter.check(t);
        meter.write_headers(&meter.check(t), &mut headers);
        assert_eq!(headers["x-ratelimit-remaining"], "0");
        assert_eq!(headers["retry-after"], "45");
    }

    #[test]
    fn a_changed_limit_takes_effect_and_keeps_the_counts() {
        let meters = Meters::default();
        let old = meters.for_key("key_1", 2);
        old.count(Outcome::Ok, 1);
        assert!(Arc::ptr_eq(&old, &meters.for_key("key_1", 2)));
        let new = meters.for_key("key_1", 5);
        assert_eq!(new.limit, 5);
        assert_eq!(new.counts[Outcome::Ok as usize].load(Relaxed), 1);
    }

    #[tokio::test]
    async fn usage_survives_a_failed_flush() {
        let dir = crate::scratch::ScratchDir::new();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("u.db").display()), false).await.unwrap();
        let meters = Meters::default();
        meters.for_key("key_1", 10).count(Outcome::Ok, 7);
        db.close().await;
        assert!(meters.flush(&db, 0).await.is_err());
        let meter = meters.for_key("key_1", 10);
        assert_eq!(meter.counts[Outcome::Ok as usize].load(Relaxed), 1, "the count was put back");
        assert_eq!(meter.last_used.load(Relaxed), 7);
    }
}
