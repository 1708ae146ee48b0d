//! The stores keep Unix milliseconds; the API speaks RFC 3339 UTC.

use chrono::{DateTime, SecondsFormat, Utc};

/// Unix milliseconds from the system clock (without chrono's calendar arithmetic, which
/// `Utc::now()` does on every call: this runs twice per authenticated request).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn parse_rfc3339(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis())
}

/// The start of the hour `ms` falls in (Unix ms): the key of the hourly statistics.
pub fn hour_start(ms: i64) -> i64 {
    ms - ms.rem_euclid(3_600_000)
}
