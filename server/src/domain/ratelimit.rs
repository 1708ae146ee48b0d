//! Per-caller request limits over fixed one-minute windows. A fixed window gives exact
//! `remaining` and `reset` values for the headers; its known cost — up to twice the limit
//! across a window boundary — is acceptable for this purpose and documented in API_KEYS.md.
//! Counts live in each instance's memory: with N instances behind a balancer, a key can make up
//! to N × its limit per minute.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct RateLimiter(Mutex<HashMap<String, (i64, i64)>>);

#[derive(Debug, Clone, Copy)]
pub struct RateState {
    pub allowed: bool,
    pub limit: i64,
    pub remaining: i64,
    /// Seconds until the window resets.
    pub reset: i64,
}

impl RateLimiter {
    pub fn check(&self, caller: &str, limit: i64, now_ms: i64) -> RateState {
        let window = now_ms / 60_000;
        let reset = 60 - (now_ms / 1000) % 60;
        let mut windows = self.0.lock().expect("not poisoned");
        if windows.len() > 100_000 {
            windows.retain(|_, (w, _)| *w == window);
        }
        let entry = windows.entry(caller.to_string()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        let allowed = entry.1 < limit;
        if allowed {
            entry.1 += 1;
        }
        RateState { allowed, limit, remaining: (limit - entry.1).max(0), reset }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_within_a_window_and_resets_with_the_next() {
        let limiter = RateLimiter::default();
        let t = 120_000; // the start of a minute
        assert_eq!(limiter.check("k", 2, t).remaining, 1);
        assert!(limiter.check("k", 2, t + 1).allowed);
        let third = limiter.check("k", 2, t + 2);
        assert!(!third.allowed);
        assert_eq!(third.reset, 60);
        assert!(limiter.check("other", 2, t + 3).allowed, "limits are per caller");
        assert!(limiter.check("k", 2, t + 60_000).allowed);
    }
}
