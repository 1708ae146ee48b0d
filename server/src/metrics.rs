//! Prometheus metrics, kept in atomics on the hot path and rendered as text on scrape.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Attempt latency buckets, in milliseconds.
const BUCKETS_MS: [u64; 12] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 30000];

#[derive(Default)]
pub struct Metrics {
    pub events_published: Counter,
    pub delivered: Counter,
    pub retried: Counter,
    pub dead_lettered: Counter,
    /// Claimed deliveries given back because their endpoint had no free slot.
    pub deferred: Counter,
    /// Circuit-breaker transitions this instance recorded.
    pub circuit_opened: Counter,
    pub circuit_closed: Counter,
    /// Endpoints this instance disabled: they answered 410 Gone, or failed for too long.
    pub webhooks_disabled_gone: Counter,
    pub webhooks_disabled_failing: Counter,
    latency_buckets: [AtomicU64; BUCKETS_MS.len()],
    latency_sum_ms: AtomicU64,
    latency_count: AtomicU64,
    /// Rows deleted by retention, in `Purged::by_kind` order.
    purged: [Counter; 8],
    /// When the last retention pass ended (Unix ms; 0: none yet).
    last_purge_ms: AtomicU64,
}

impl Metrics {
    pub fn record_attempt(&self, status: app::models::DeliveryStatus, duration_ms: i64) {
        use app::models::DeliveryStatus::{DeadLetter, Delivered};
        match status {
            Delivered => self.delivered.inc(),
            DeadLetter => self.dead_lettered.inc(),
            _ => self.retried.inc(),
        }
        let ms = duration_ms.max(0) as u64;
        if let Some(i) = BUCKETS_MS.iter().position(|b| ms <= *b) {
            self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.latency_sum_ms.fetch_add(ms, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_purge(&self, purged: &crate::domain::retention::Purged, now_ms: i64) {
        for (counter, (_, n)) in self.purged.iter().zip(purged.by_kind()) {
            counter.add(n);
        }
        self.last_purge_ms.store(now_ms.max(0) as u64, Ordering::Relaxed);
    }

    /// The Prometheus text exposition format (version 0.0.4).
    /// `circuits`: how many enabled endpoints are in each circuit state, read at scrape time.
    pub fn render(
        &self,
        due: i64,
        oldest_due_age_seconds: f64,
        circuits: &[(String, i64)],
        requests: &crate::domain::ratelimit::Outcomes,
        shared_limit: Option<&crate::shared_limit::SharedLimiter>,
    ) -> String {
        let mut out = String::with_capacity(2048);
        let _ = writeln!(out, "# HELP ih_events_published_total Events accepted for delivery.");
        let _ = writeln!(out, "# TYPE ih_events_published_total counter");
        let _ = writeln!(out, "ih_events_published_total {}", self.events_published.get());
        let _ = writeln!(out, "# HELP ih_deliveries_total Delivery attempts by outcome.");
        let _ = writeln!(out, "# TYPE ih_deliveries_total counter");
        for (outcome, counter) in
            [("delivered", &self.delivered), ("retry", &self.retried), ("dead_letter", &self.dead_lettered)]
        {
            let _ = writeln!(out, "ih_deliveries_total{{outcome=\"{outcome}\"}} {}", counter.get());
        }
        let _ = writeln!(out, "# HELP ih_deliveries_deferred_total Claimed deliveries put back: their endpoint was at its rate limit, lost a race for its last slot, or is waiting for its circuit's probe.");
        let _ = writeln!(out, "# TYPE ih_deliveries_deferred_total counter");
        let _ = writeln!(out, "ih_deliveries_deferred_total {}", self.deferred.get());
        let _ = writeln!(out, "# HELP ih_attempt_duration_seconds Latency of delivery attempts.");
        let _ = writeln!(out, "# TYPE ih_attempt_duration_seconds histogram");
        let mut cumulative = 0;
        for (bucket, count) in BUCKETS_MS.iter().zip(&self.latency_buckets) {
            cumulative += count.load(Ordering::Relaxed);
            let _ =
                writeln!(out, "ih_attempt_duration_seconds_bucket{{le=\"{}\"}} {cumulative}", *bucket as f64 / 1000.0);
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "ih_attempt_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "ih_attempt_duration_seconds_sum {}",
            self.latency_sum_ms.load(Ordering::Relaxed) as f64 / 1000.0
        );
        let _ = writeln!(out, "ih_attempt_duration_seconds_count {count}");
        let _ = writeln!(out, "# HELP ih_deliveries_due Deliveries due now (the queue depth).");
        let _ = writeln!(out, "# TYPE ih_deliveries_due gauge");
        let _ = writeln!(out, "ih_deliveries_due {due}");
        let _ = writeln!(out, "# HELP ih_oldest_due_age_seconds How long the oldest due delivery has waited.");
        let _ = writeln!(out, "# TYPE ih_oldest_due_age_seconds gauge");
        let _ = writeln!(out, "ih_oldest_due_age_seconds {oldest_due_age_seconds}");
        let _ = writeln!(out, "# HELP ih_webhook_circuits Enabled endpoints by circuit-breaker state.");
        let _ = writeln!(out, "# TYPE ih_webhook_circuits gauge");
        for state in app::models::CircuitState::ALL.map(app::models::CircuitState::as_str) {
            let n = circuits.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
            let _ = writeln!(out, "ih_webhook_circuits{{state=\"{state}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP ih_circuit_transitions_total Circuit-breaker openings and closings on this instance."
        );
        let _ = writeln!(out, "# TYPE ih_circuit_transitions_total counter");
        let _ = writeln!(out, "ih_circuit_transitions_total{{to=\"open\"}} {}", self.circuit_opened.get());
        let _ = writeln!(out, "ih_circuit_transitions_total{{to=\"closed\"}} {}", self.circuit_closed.get());
        let _ = writeln!(out, "# HELP ih_webhooks_disabled_total Endpoints this instance disabled, by reason.");
        let _ = writeln!(out, "# TYPE ih_webhooks_disabled_total counter");
        for (reason, counter) in [("gone", &self.webhooks_disabled_gone), ("failing", &self.webhooks_disabled_failing)]
        {
            let _ = writeln!(out, "ih_webhooks_disabled_total{{reason=\"{reason}\"}} {}", counter.get());
        }
        let _ = writeln!(
            out,
            "# HELP ih_api_requests_total Requests to /api/v1/ with a credential, by outcome: ok, unauthorized (unknown, revoked or expired), forbidden (IP allow-list), rate_limited (429)."
        );
        let _ = writeln!(out, "# TYPE ih_api_requests_total counter");
        for outcome in crate::domain::ratelimit::Outcome::ALL {
            let _ = writeln!(out, "ih_api_requests_total{{outcome=\"{}\"}} {}", outcome.name(), requests.get(outcome));
        }
        if let Some(limiter) = shared_limit {
            let _ = writeln!(
                out,
                "# HELP ih_rate_limit_shared 1 while rate limits are counted in Redis with every instance; 0 while Redis is unreachable and this instance counts alone."
            );
            let _ = writeln!(out, "# TYPE ih_rate_limit_shared gauge");
            let _ = writeln!(out, "ih_rate_limit_shared {}", u8::from(limiter.is_shared()));
            let _ = writeln!(
                out,
                "# HELP ih_rate_limit_redis_errors_total Requests whose rate limit could not be counted in Redis (judged on this instance's counters instead)."
            );
            let _ = writeln!(out, "# TYPE ih_rate_limit_redis_errors_total counter");
            let _ = writeln!(out, "ih_rate_limit_redis_errors_total {}", limiter.errors());
        }
        let _ = writeln!(out, "# HELP ih_retention_deleted_total Rows deleted because they passed their retention.");
        let _ = writeln!(out, "# TYPE ih_retention_deleted_total counter");
        let kinds = crate::domain::retention::Purged::default().by_kind();
        for (counter, (kind, _)) in self.purged.iter().zip(kinds) {
            let _ = writeln!(out, "ih_retention_deleted_total{{kind=\"{kind}\"}} {}", counter.get());
        }
        let _ = writeln!(
            out,
            "# HELP ih_retention_last_pass_timestamp_seconds When the last retention pass ended (0: none yet)."
        );
        let _ = writeln!(out, "# TYPE ih_retention_last_pass_timestamp_seconds gauge");
        let _ = writeln!(
            out,
            "ih_retention_last_pass_timestamp_seconds {}",
            self.last_purge_ms.load(Ordering::Relaxed) as f64 / 1000.0
        );
        out
    }
}
