//! Per-caller meters: the rate limit over a sliding window (a second, a minute or an hour), and
//! the usage counts by outcome. Each key has one `Meter`, found through the key cache, so the
//! request path only touches atomics — no lock, no allocation.
//!
//! The sliding window is the two-window estimate: the current fixed window's count, plus the
//! previous window's count weighted by the share of it the sliding window still covers. It never
//! lets a burst at a window's edge through twice, as a fixed window does, and needs two counters.
//! The counters are this instance's; with `IH_REDIS_URL` every instance counts the same ones in
//! Redis instead (`crate::shared_limit`), and falls back to these while Redis is unreachable.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, RwLock};

use http::header::{HeaderName, RETRY_AFTER};
use http::{HeaderMap, HeaderValue};

use app::models::RateWindow;

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
    /// What its shared counters are called (the key's id; `operator` for the operator token).
    pub name: Box<str>,
    pub limit: i64,
    pub window: RateWindow,
    window_ms: i64,
    totals: Arc<Outcomes>,
    /// `"per-minute";q=<limit>;w=60` and the limit itself, built once per meter.
    policy: HeaderValue,
    limit_header: HeaderValue,
    /// The current fixed window (its index since the epoch), its count, and the previous one's.
    current: AtomicI64,
    used: AtomicI64,
    previous: AtomicI64,
    counts: [AtomicI64; 4],
    last_used: AtomicI64,
}

impl Meter {
    pub fn new(name: &str, limit: i64, window: RateWindow, totals: Arc<Outcomes>) -> Self {
        let seconds = window.seconds();
        Meter {
            name: name.into(),
            limit,
            window,
            window_ms: seconds * 1000,
            totals,
            policy: header_value(format_args!("\"{}\";q={limit};w={seconds}", policy_name(window))),
            limit_header: HeaderValue::from(limit),
            current: AtomicI64::new(0),
            used: AtomicI64::new(0),
            previous: AtomicI64::new(0),
            counts: Default::default(),
            last_used: AtomicI64::new(0),
        }
    }

    pub fn window_ms(&self) -> i64 {
        self.window_ms
    }

    /// Counts a request on this instance's counters; refused requests are not counted.
    pub fn check(&self, now_ms: i64) -> RateState {
        let index = now_ms / self.window_ms;
        let seen = self.current.load(Relaxed);
        if seen != index && self.current.compare_exchange(seen, index, Relaxed, Relaxed).is_ok() {
            let ended = self.used.swap(0, Relaxed);
            self.previous.store(if index == seen + 1 { ended } else { 0 }, Relaxed);
        }
        let previous = self.previous.load(Relaxed);
        let used = self.used.fetch_add(1, Relaxed) + 1;
        let state = sliding(self.limit, self.window_ms, now_ms, previous, used);
        if !state.allowed {
            self.used.fetch_sub(1, Relaxed); // refused requests do not use up the next ones
        }
        state
    }

    /// Sets the rate-limit headers of an authenticated answer — IETF `RateLimit-Policy` and
    /// `RateLimit`, the `X-RateLimit-*` trio, and `Retry-After` when refused. They are on every
    /// authenticated response, so only the two values that change per request are built here
    /// (one allocation each); the rest are shared.
    pub fn write_headers(&self, rate: &RateState, headers: &mut HeaderMap) {
        headers.insert(RATELIMIT_POLICY, self.policy.clone());
        headers.insert(RATELIMIT, ratelimit_value(policy_name(self.window), rate));
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

fn policy_name(window: RateWindow) -> &'static str {
    match window {
        RateWindow::Second => "per-second",
        RateWindow::Minute => "per-minute",
        RateWindow::Hour => "per-hour",
    }
}

/// The sliding-window verdict on a request, given the previous fixed window's count and the
/// current one's *with* this request: allowed when `previous × (share of the previous window the
/// sliding window still covers) + current ≤ limit` (in integers: × `window_ms`). `reset` is the
/// end of the current fixed window for an allowed request, and for a refused one how long until
/// a request would be allowed (`Retry-After`).
pub fn sliding(limit: i64, window_ms: i64, now_ms: i64, previous: i64, current: i64) -> RateState {
    let elapsed = now_ms.rem_euclid(window_ms);
    let left = window_ms - elapsed;
    let load = previous * left + current * window_ms;
    let allowed = load <= limit * window_ms;
    let wait_ms = if allowed {
        left
    } else if current <= limit && previous > 0 {
        // Within this window, once the previous window's weight has fallen far enough.
        left - (limit - current) * window_ms / previous
    } else {
        // Only in the next window, where this window's count is the weighted one.
        let counted = current - 1;
        left + if counted > 0 { (window_ms - (limit - 1) * window_ms / counted).max(0) } else { 0 }
    };
    RateState {
        allowed,
        limit,
        remaining: if allowed { (limit * window_ms - load) / window_ms } else { 0 },
        reset: ((wait_ms + 999) / 1000).max(1),
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
fn ratelimit_value(policy: &str, rate: &RateState) -> HeaderValue {
    let (mut remaining, mut reset) = (itoa::Buffer::new(), itoa::Buffer::new());
    let parts = [
        &b"\""[..],
        policy.as_bytes(),
        b"\";r=",
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
    /// key's limit or window is no longer the meter's. Called on key-cache misses only.
    pub fn for_key(&self, key_id: &str, limit: i64, window: RateWindow) -> Arc<Meter> {
        let same = |meter: &Meter| meter.limit == limit && meter.window == window;
        if let Some(meter) = self.meters.read().expect("not poisoned").get(key_id) {
            if same(meter) {
                return meter.clone();
            }
        }
        let mut meters = self.meters.write().expect("not poisoned");
        let fresh = Arc::new(Meter::new(key_id, limit, window, self.totals.clone()));
        if let Some(old) = meters.get(key_id) {
            if same(old) {
                return old.clone(); // another request replaced it meanwhile
            }
            if old.window == window {
                fresh.current.store(old.current.load(Relaxed), Relaxed);
                fresh.used.store(old.used.load(Relaxed), Relaxed);
                fresh.previous.store(old.previous.load(Relaxed), Relaxed);
            }
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

    fn meter(limit: i64, window: RateWindow) -> Meter {
        Meter::new("key_1", limit, window, Default::default())
    }

    #[test]
    fn a_burst_at_a_window_edge_does_not_pass_twice() {
        let meter = meter(2, RateWindow::Minute);
        let t = 120_000; // the start of a minute
        assert_eq!(meter.check(t).remaining, 1);
        assert!(meter.check(t + 1).allowed);
        let third = meter.check(t + 2);
        assert!(!third.allowed);
        // Allowed again once the two requests weigh at most one: halfway through the next minute.
        assert_eq!(third.reset, 90);
        assert!(!meter.check(t + 60_000).allowed, "a fixed window would allow two more here");
        assert!(!meter.check(t + 89_000).allowed);
        assert!(meter.check(t + 90_000).allowed);
        assert!(!meter.check(t + 90_001).allowed);
    }

    #[test]
    fn the_window_can_be_a_second_or_an_hour() {
        let second = meter(3, RateWindow::Second);
        assert!((0..3).all(|i| second.check(5_000 + i).allowed));
        assert!(!second.check(5_010).allowed);
        assert!(second.check(7_000).allowed, "two seconds later the earlier ones weigh nothing");
        let hour = meter(1, RateWindow::Hour);
        assert!(hour.check(3_600_000).allowed);
        let refused = hour.check(3_600_000 + 60_000);
        assert!(!refused.allowed);
        assert_eq!(
            refused.reset,
            3_540 + 3_600,
            "the rest of this hour, then all of the next (1 weighs until it ends)"
        );
    }

    #[test]
    fn the_estimate_weighs_the_previous_window_by_what_the_sliding_window_still_covers() {
        // 10 in the previous minute; 15 s into this one, 3/4 of it is still covered: 7.5 counted.
        let state = sliding(10, 60_000, 60_000 * 7 + 15_000, 10, 2);
        assert!(state.allowed);
        assert_eq!(state.remaining, 0); // 10 - 7.5 - 2 = 0.5
        assert!(!sliding(10, 60_000, 60_000 * 7 + 15_000, 10, 3).allowed);
        // Refused at 9.5: allowed once the previous minute weighs 7, at 18 s (3 s from now).
        assert_eq!(sliding(10, 60_000, 60_000 * 7 + 15_000, 10, 3).reset, 3);
    }

    #[test]
    fn the_headers_carry_the_limit_the_remainder_and_the_reset() {
        let meter = meter(2, RateWindow::Minute);
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
        assert_eq!(headers["retry-after"], "75", "45 s to the next minute, then 30 s until the two weigh one");
        let hourly = Meter::new("key_2", 5, RateWindow::Hour, Default::default());
        hourly.write_headers(&hourly.check(t), &mut headers);
        assert_eq!(headers["ratelimit-policy"], "\"per-hour\";q=5;w=3600");
        assert!(headers["ratelimit"].to_str().unwrap().starts_with("\"per-hour\";r=4;"));
    }

    #[test]
    fn a_changed_limit_takes_effect_and_keeps_the_counts() {
        let meters = Meters::default();
        let old = meters.for_key("key_1", 2, RateWindow::Minute);
        old.count(Outcome::Ok, 1);
        assert!(Arc::ptr_eq(&old, &meters.for_key("key_1", 2, RateWindow::Minute)));
        let new = meters.for_key("key_1", 5, RateWindow::Minute);
        assert_eq!(new.limit, 5);
        assert_eq!(new.counts[Outcome::Ok as usize].load(Relaxed), 1);
        let hourly = meters.for_key("key_1", 5, RateWindow::Hour);
        assert_eq!(hourly.window, RateWindow::Hour);
        assert_eq!(hourly.counts[Outcome::Ok as usize].load(Relaxed), 1, "usage counts carry over too");
    }

    #[tokio::test]
    async fn usage_survives_a_failed_flush() {
        let dir = crate::scratch::ScratchDir::new();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("u.db").display()), false).await.unwrap();
        let meters = Meters::default();
        meters.for_key("key_1", 10, RateWindow::Minute).count(Outcome::Ok, 7);
        db.close().await;
        assert!(meters.flush(&db, 0).await.is_err());
        let meter = meters.for_key("key_1", 10, RateWindow::Minute);
        assert_eq!(meter.counts[Outcome::Ok as usize].load(Relaxed), 1, "the count was put back");
        assert_eq!(meter.last_used.load(Relaxed), 7);
    }
}
