//! An endpoint's send rate (`rate_limit_per_second`): sends to it start at least `1/N` second
//! apart, so no second holds more than `N` of them, even the first after a quiet spell (a
//! receiver that says "10 a second" usually means it of every second). One number per endpoint,
//! the time its next send may start. A delivery that may not go now is given back with that
//! time; the deliveries of one batch that wait are spread one interval apart, so they come back
//! when they can go rather than all at once.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct Pacer {
    /// When each paced endpoint's next send may start, in microseconds.
    next_free: Mutex<HashMap<String, i64>>,
}

impl Pacer {
    /// Takes a send for `endpoint` at `now_us` under `per_second`: `Ok` when it may start now,
    /// else `Err` with the time (µs) the next one may. A refusal takes nothing.
    pub fn take(&self, endpoint: &str, per_second: i64, now_us: i64) -> Result<(), i64> {
        let mut next_free = self.next_free.lock().expect("not poisoned");
        match next_free.get(endpoint) {
            Some(&free_at) if free_at > now_us => Err(free_at),
            _ => {
                next_free.insert(endpoint.to_string(), now_us + Self::interval_us(per_second));
                Ok(())
            }
        }
    }

    /// Microseconds between two sends at `per_second`.
    pub fn interval_us(per_second: i64) -> i64 {
        1_000_000 / per_second.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_start_one_interval_apart_and_a_refusal_takes_nothing() {
        let pacer = Pacer::default();
        let t0 = 1_000_000_000;
        assert_eq!(pacer.take("wh_a", 4, t0), Ok(()));
        assert_eq!(pacer.take("wh_a", 4, t0), Err(t0 + 250_000), "the next waits a quarter second");
        assert_eq!(pacer.take("wh_a", 4, t0 + 100_000), Err(t0 + 250_000), "a refusal took nothing");
        assert_eq!(pacer.take("wh_a", 4, t0 + 250_000), Ok(()));
        assert_eq!(pacer.take("wh_a", 4, t0 + 300_000), Err(t0 + 500_000));
        assert_eq!(pacer.take("wh_b", 4, t0), Ok(()), "each endpoint has its own pace");
        // After a quiet spell there is no burst: still one at a time.
        let later = t0 + 60_000_000;
        assert_eq!(pacer.take("wh_a", 4, later), Ok(()));
        assert_eq!(pacer.take("wh_a", 4, later), Err(later + 250_000));
    }
}
