//! What an attempt's result means for the delivery: done, try again later, or give up.

use std::time::Duration;

use rand::Rng;

/// The longest we wait between two attempts, whatever the backoff or `Retry-After` say.
pub const MAX_DELAY: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Delivered,
    /// Try again after this long.
    Retry(Duration),
    /// The receiver refused for good (a 4xx other than 408/429); dead-letter it.
    Rejected,
    /// `410 Gone`: dead-letter and disable the endpoint.
    Gone,
}

/// Classifies an attempt. `status` is `None` when no response came (timeout, refused, DNS).
pub fn verdict(status: Option<u16>, retry_after: Option<Duration>, attempt: i64, base: Duration) -> Verdict {
    match status {
        Some(200..=299) => Verdict::Delivered,
        Some(410) => Verdict::Gone,
        Some(408 | 429) | Some(500..=599) | None => Verdict::Retry(delay(attempt, base, retry_after)),
        Some(_) => Verdict::Rejected,
    }
}

/// Exponential backoff: `base × 2^(attempt-1)`, ±20 % jitter so failing receivers are not hit
/// by every retry at once; a `Retry-After` from the receiver wins when it asks for longer.
pub fn delay(attempt: i64, base: Duration, retry_after: Option<Duration>) -> Duration {
    let exponent = (attempt.max(1) - 1).min(20) as i32;
    let backoff = base.as_secs_f64() * 2f64.powi(exponent);
    let jittered = backoff * rand::rng().random_range(0.8..=1.2);
    let computed = Duration::from_secs_f64(jittered.min(MAX_DELAY.as_secs_f64()));
    retry_after.map_or(computed, |asked| asked.min(MAX_DELAY).max(computed))
}

/// `Retry-After` as delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some((date.with_timezone(&chrono::Utc) - now).to_std().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_grow_exponentially_within_the_jitter() {
        let base = Duration::from_secs(10);
        for (attempt, nominal) in [(1, 10.0), (2, 20.0), (3, 40.0), (6, 320.0)] {
            let d = delay(attempt, base, None).as_secs_f64();
            assert!(d >= nominal * 0.8 && d <= nominal * 1.2, "attempt {attempt}: {d}");
        }
    }

    #[test]
    fn retry_after_wins_when_longer_and_is_capped() {
        let base = Duration::from_secs(1);
        assert_eq!(delay(1, base, Some(Duration::from_secs(120))), Duration::from_secs(120));
        assert!(delay(1, base, Some(Duration::from_secs(0))) >= Duration::from_millis(800));
        assert_eq!(delay(1, base, Some(Duration::from_secs(10_000_000))), MAX_DELAY);
    }

    #[test]
    fn statuses_map_to_the_documented_verdicts() {
        let base = Duration::from_secs(1);
        assert_eq!(verdict(Some(204), None, 1, base), Verdict::Delivered);
        assert_eq!(verdict(Some(410), None, 1, base), Verdict::Gone);
        assert_eq!(verdict(Some(400), None, 1, base), Verdict::Rejected);
        assert!(matches!(verdict(Some(503), None, 1, base), Verdict::Retry(_)));
        assert!(matches!(verdict(Some(429), None, 1, base), Verdict::Retry(_)));
        assert!(matches!(verdict(None, None, 1, base), Verdict::Retry(_)));
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
