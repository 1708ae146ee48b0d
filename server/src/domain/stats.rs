//! Delivery analytics from roll-ups: success rate, attempt latency percentiles, volume and errors
//! by kind, per tenant and per endpoint; hour by hour over 24 hours or 7 days, day by day over 30
//! or 90 days; and the replays made in the window, by whom and with what result.
//!
//! Attempts are counted per hour as they are recorded (`stats_hourly`). Once a UTC day has been
//! over for two hours, its hours are added up into daily counters (`stats_daily`), once whatever
//! the number of instances; the hourly counters are then kept 8 days (the 7-day window's reach)
//! and the daily ones for the retention period, so a 90-day window reads at most 90 rows per
//! counter instead of 2,160. The days not rolled up yet (today, yesterday) are read from hours.
//!
//! Latency is kept as a histogram with fixed bucket bounds, so roll-ups can be added together
//! across hours, endpoints and instances; a percentile is reported as the upper bound of the
//! bucket it falls in ("p95 ≤ 50 ms"), which is exact about what it claims.

use app::models::TenantId;
use std::collections::{BTreeMap, BTreeSet};

use app::models::{
    DayStatsOut, EndpointStatsOut, HourStatsOut, LatencyOut, ReplayActorOut, ReplayStatsOut, ReplayTally, StatsOut,
    StatsSummaryOut, StatsWindow,
};

use super::auth::{Actor, Scope};
use super::Hub;
use crate::error::{Error, Result};
use crate::store::deliveries::AttemptRow;
use crate::store::stats::{CounterRow, Key};
use crate::{store, time};

/// Upper bounds of the latency buckets, in milliseconds; one more bucket holds the rest.
pub const LATENCY_BOUNDS_MS: [i64; 24] =
    [1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 30_000];
const BUCKETS: usize = LATENCY_BOUNDS_MS.len() + 1;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// A day is rolled up once it has been over this long: an attempt is counted under the hour it
/// started in, and recorded within seconds of its end (30 s at most for a request), so no count
/// for the day can arrive later.
const ROLL_UP_AFTER_MS: i64 = 2 * HOUR_MS;
/// Hourly counters are kept this long (the 7-day window reaches 168 hours back), once rolled up.
pub const HOURLY_KEPT_DAYS: i64 = 8;

pub fn day_of(ms: i64) -> i64 {
    ms - ms.rem_euclid(DAY_MS)
}

fn bucket_of(duration_ms: i64) -> usize {
    LATENCY_BOUNDS_MS.partition_point(|&bound| bound < duration_ms)
}

/// What went wrong with an attempt, or `None` when the endpoint accepted it.
fn error_of(attempt: &AttemptRow, accepted: bool) -> Option<String> {
    match (attempt.status_code, attempt.error_kind.as_deref()) {
        _ if accepted => None,
        // A 2xx that still refused (Slack's `ok: false`) names its error kind.
        (Some(200..=299), None) => Some("refused".to_string()),
        (_, Some(kind)) => Some(kind.to_string()),
        (Some(status), None) => Some(format!("http_{}xx", status / 100)),
        (None, None) => Some("unknown".to_string()),
    }
}

/// The counters that a batch of finished attempts adds, keyed by (tenant, endpoint, hour,
/// metric); each attempt comes with its endpoint and whether it was accepted (delivered).
pub fn rollup<'a>(attempts: impl IntoIterator<Item = (&'a AttemptRow, &'a str, bool)>) -> BTreeMap<Key, i64> {
    let mut counts = BTreeMap::new();
    for (attempt, webhook_id, accepted) in attempts {
        let key = |metric: String| Key {
            tenant_id: attempt.tenant_id.clone(),
            webhook_id: webhook_id.to_string(),
            hour: time::hour_start(attempt.started_at),
            metric,
        };
        // A transformation that dropped the event sent nothing: counted as filtered, no attempt.
        if attempt.error_kind.as_deref() == Some(crate::transform::TRANSFORMATION_DROPPED) {
            *counts.entry(key("filtered".to_string())).or_insert(0) += 1;
            continue;
        }
        let error = error_of(attempt, accepted);
        // No request left the hub for these; their "latency" would only drag the figures down.
        let sent = !matches!(attempt.error_kind.as_deref(), Some("endpoint_disabled" | "blocked"))
            && !crate::transform::sent_nothing(attempt.error_kind.as_deref());
        if sent {
            *counts.entry(key(format!("lat:{}", bucket_of(attempt.duration_ms)))).or_insert(0) += 1;
        }
        let outcome = if error.is_some() { "failed" } else { "ok" };
        *counts.entry(key(outcome.to_string())).or_insert(0) += 1;
        if let Some(kind) = error {
            *counts.entry(key(format!("err:{kind}"))).or_insert(0) += 1;
        }
    }
    counts
}

/// Counters added up over some hours and endpoints.
#[derive(Debug, Default, Clone)]
struct Tally {
    ok: i64,
    failed: i64,
    /// Events an endpoint's payload filter let pass by (no delivery was made).
    filtered: i64,
    latency: [i64; BUCKETS],
    errors: BTreeMap<String, i64>,
}

impl Tally {
    fn add(&mut self, metric: &str, count: i64) {
        match metric.split_once(':') {
            None if metric == "ok" => self.ok += count,
            None if metric == "failed" => self.failed += count,
            None if metric == "filtered" => self.filtered += count,
            Some(("lat", bucket)) => {
                if let Some(slot) = bucket.parse::<usize>().ok().and_then(|b| self.latency.get_mut(b)) {
                    *slot += count;
                }
            }
            Some(("err", kind)) => *self.errors.entry(kind.to_string()).or_insert(0) += count,
            _ => {} // a metric a newer version wrote: ignored rather than misread
        }
    }

    /// The upper bound of the bucket holding the `q` quantile; the open last bucket reports
    /// its lower bound.
    fn percentile(&self, q: f64) -> Option<i64> {
        let total: i64 = self.latency.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as i64).max(1);
        let mut seen = 0;
        for (bucket, count) in self.latency.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(LATENCY_BOUNDS_MS[bucket.min(LATENCY_BOUNDS_MS.len() - 1)]);
            }
        }
        None
    }

    fn summary(&self) -> StatsSummaryOut {
        let attempts = self.ok + self.failed;
        StatsSummaryOut {
            attempts,
            succeeded: self.ok,
            failed: self.failed,
            success_rate: (attempts > 0).then(|| self.ok as f64 / attempts as f64),
            latency_ms: LatencyOut {
                p50: self.percentile(0.50),
                p95: self.percentile(0.95),
                p99: self.percentile(0.99),
            },
            errors: self.errors.clone(),
            filtered: self.filtered,
        }
    }
}

fn count_replays(tally: &mut ReplayTally, status: &str, count: i64) {
    tally.replays += count;
    match status {
        "delivered" => tally.delivered += count,
        "dead_letter" => tally.dead_letter += count,
        _ => tally.in_flight += count,
    }
}

impl Hub {
    pub async fn stats(&self, who: &Actor, tenant_id: &TenantId, window: StatsWindow) -> Result<StatsOut> {
        who.authorize(tenant_id, Scope::DeliveriesRead)?;
        self.ensure_tenant_exists(tenant_id).await?;
        if let Some(days) = self.config.retention.delivery_days.map(|d| d.max(super::retention::MIN_STATS_DAYS)) {
            if window.days() > days {
                return Err(Error::field(
                    "window",
                    format!(
                        "the {} window reaches past the data's {days}-day retention (IH_RETENTION_DAYS)",
                        window.label()
                    ),
                ));
            }
        }
        let now = time::now_ms();
        let (first, step, buckets, counters) = if window.hourly() {
            let first = time::hour_start(now) - (window.hours() - 1) * HOUR_MS;
            (first, HOUR_MS, window.hours(), store::stats::since(&self.db, tenant_id, first).await?)
        } else {
            let first = day_of(now) - (window.days() - 1) * DAY_MS;
            (first, DAY_MS, window.days(), self.daily_counters(tenant_id, first, now).await?)
        };
        let mut overall = Tally::default();
        let mut by_bucket = vec![Tally::default(); buckets as usize];
        let mut by_endpoint: BTreeMap<String, Tally> = BTreeMap::new();
        for c in &counters {
            overall.add(&c.metric, c.count);
            if let Some(tally) = usize::try_from((c.hour - first) / step).ok().and_then(|i| by_bucket.get_mut(i)) {
                tally.add(&c.metric, c.count);
            }
            by_endpoint.entry(c.webhook_id.clone()).or_default().add(&c.metric, c.count);
        }
        // Every live endpoint (the Slack connector too) is listed, idle ones as well: "no
        // traffic" is health information.
        let webhooks = store::webhooks::all_kinds(&self.db, tenant_id, 500).await?;
        let mut endpoints: Vec<EndpointStatsOut> = webhooks
            .iter()
            .map(|w| EndpointStatsOut {
                webhook_id: w.id.clone().into(),
                url: w.url.clone(),
                enabled: w.enabled,
                circuit: app::models::CircuitState::parse(&w.circuit_state),
                paused: super::maintenance::paused(w, now).is_some(),
                stats: by_endpoint.remove(&w.id).unwrap_or_default().summary(),
            })
            .collect();
        // Deleted endpoints keep their history.
        endpoints.extend(by_endpoint.into_iter().map(|(webhook_id, tally)| EndpointStatsOut {
            webhook_id: webhook_id.into(),
            url: String::new(),
            enabled: false,
            circuit: app::models::CircuitState::Closed,
            paused: false,
            stats: tally.summary(),
        }));
        let starts =
            by_bucket.iter().enumerate().map(|(i, tally)| (time::rfc3339(first + i as i64 * step), tally.summary()));
        let (hours, days) = if window.hourly() {
            (starts.map(|(hour, stats)| HourStatsOut { hour, stats }).collect(), Vec::new())
        } else {
            (Vec::new(), starts.map(|(day, stats)| DayStatsOut { day, stats }).collect())
        };
        Ok(StatsOut {
            window,
            since: time::rfc3339(first),
            overall: overall.summary(),
            hours,
            days,
            endpoints,
            replays: self.replay_stats(tenant_id, first).await?,
        })
    }

    /// The tenant's counters from `first_day` on, each under its day: the rolled-up days from
    /// their daily counters, the others added up from their hours.
    async fn daily_counters(&self, tenant_id: &TenantId, first_day: i64, now: i64) -> Result<Vec<CounterRow>> {
        let rolled: BTreeSet<i64> = store::stats::rolled_days(&self.db, first_day).await?.into_iter().collect();
        let mut counters = store::stats::daily_since(&self.db, tenant_id, first_day).await?;
        // A day rolled up between the two reads has daily rows but was read as not rolled up:
        // its hours count below, so its daily rows go (never both).
        counters.retain(|c| rolled.contains(&c.hour));
        let first_unrolled =
            (0..).map(|i| first_day + i * DAY_MS).take_while(|&day| day <= now).find(|day| !rolled.contains(day));
        if let Some(from) = first_unrolled {
            for mut c in store::stats::since(&self.db, tenant_id, from).await? {
                c.hour = day_of(c.hour);
                if !rolled.contains(&c.hour) {
                    counters.push(c);
                }
            }
        }
        Ok(counters)
    }

    /// Replays made from `since` on: how many, what became of them, and by whom.
    async fn replay_stats(&self, tenant_id: &TenantId, since: i64) -> Result<ReplayStatsOut> {
        let mut total = ReplayTally::default();
        let mut by_actor: BTreeMap<Option<String>, ReplayTally> = BTreeMap::new();
        for (actor, status, count) in store::deliveries::replay_counts(&self.db, tenant_id, since).await? {
            count_replays(&mut total, &status, count);
            count_replays(by_actor.entry(actor).or_default(), &status, count);
        }
        let keys: Vec<&str> = by_actor.keys().flatten().map(String::as_str).filter(|a| *a != "operator").collect();
        let names: BTreeMap<String, String> =
            store::api_keys::names(&self.db, tenant_id, &keys).await?.into_iter().collect();
        let mut by_actor: Vec<ReplayActorOut> = by_actor
            .into_iter()
            .map(|(actor, tally)| ReplayActorOut {
                name: actor.as_ref().and_then(|a| names.get(a).cloned()),
                actor,
                tally,
            })
            .collect();
        by_actor.sort_by(|a, b| b.tally.replays.cmp(&a.tally.replays));
        let finished = total.delivered + total.dead_letter;
        Ok(ReplayStatsOut {
            success_rate: (finished > 0).then(|| total.delivered as f64 / finished as f64),
            tally: total,
            by_actor,
        })
    }

    /// Adds up every day that has been over for [`ROLL_UP_AFTER_MS`] and is not rolled up yet
    /// into daily counters; returns the days this call rolled up (another instance may have done
    /// some). Run by the retention pass, before it deletes old hourly counters.
    pub async fn roll_up_stats(&self, now: i64) -> Result<u64> {
        let mut rolled = 0;
        for day in store::stats::days_to_roll_up(&self.db, day_of(now - ROLL_UP_AFTER_MS), DAY_MS).await? {
            if store::stats::roll_up_day(&self.db, day, DAY_MS, now).await? {
                rolled += 1;
            }
        }
        Ok(rolled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(started_at: i64, duration_ms: i64, status_code: Option<i64>, error_kind: Option<&str>) -> AttemptRow {
        AttemptRow {
            id: crate::ids::new_id(crate::ids::ATTEMPT),
            delivery_id: "dlv_x".into(),
            tenant_id: "tnt_a".into(),
            attempt_number: 1,
            started_at,
            duration_ms,
            status_code,
            response_headers: "{}".into(),
            response_body: None,
            error_kind: error_kind.map(str::to_string),
            error_message: None,
        }
    }

    fn tally(counts: &BTreeMap<Key, i64>) -> Tally {
        let mut tally = Tally::default();
        for (key, count) in counts {
            tally.add(&key.metric, *count);
        }
        tally
    }

    #[test]
    fn latency_buckets_are_bounded_above() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(1), 0);
        assert_eq!(bucket_of(2), 1);
        assert_eq!(bucket_of(30_000), LATENCY_BOUNDS_MS.len() - 1);
        assert_eq!(bucket_of(30_001), LATENCY_BOUNDS_MS.len());
    }

    #[test]
    fn a_known_set_of_attempts_gives_known_figures() {
        let hour = 1_700_000_000_000 - 1_700_000_000_000 % HOUR_MS;
        let mut attempts = Vec::new();
        attempts.extend((0..50).map(|_| attempt(hour + 10, 3, Some(200), None))); // ≤ 3 ms
        attempts.extend((0..45).map(|_| attempt(hour + 20, 40, Some(204), None))); // ≤ 50 ms
        attempts.extend((0..3).map(|_| attempt(hour + 30, 400, Some(503), None))); // ≤ 500 ms
        attempts.extend((0..2).map(|_| attempt(hour + HOUR_MS, 10_000, None, Some("timeout")))); // next hour
        let counts = rollup(attempts.iter().map(|a| (a, "wh_1", a.status_code.is_some_and(|s| s < 300))));
        assert_eq!(counts.keys().map(|k| k.hour).collect::<std::collections::BTreeSet<_>>().len(), 2, "two hours");

        let summary = tally(&counts).summary();
        assert_eq!((summary.attempts, summary.succeeded, summary.failed), (100, 95, 5));
        assert_eq!(summary.success_rate, Some(0.95));
        assert_eq!(summary.latency_ms, LatencyOut { p50: Some(3), p95: Some(50), p99: Some(10_000) });
        assert_eq!(summary.errors, BTreeMap::from([("http_5xx".to_string(), 3), ("timeout".to_string(), 2)]));
    }

    #[test]
    fn attempts_that_sent_nothing_have_no_latency() {
        let a = attempt(0, 0, None, Some("endpoint_disabled"));
        let summary = tally(&rollup([(&a, "wh_1", false)])).summary();
        assert_eq!((summary.attempts, summary.failed), (1, 1));
        assert_eq!(summary.latency_ms.p50, None);
        assert_eq!(summary.errors.get("endpoint_disabled"), Some(&1));
    }

    #[test]
    fn a_2xx_that_was_refused_counts_as_failed_by_its_error_kind() {
        let a = attempt(0, 12, Some(200), Some("channel_not_found"));
        let summary = tally(&rollup([(&a, "wh_1", false)])).summary();
        assert_eq!((summary.succeeded, summary.failed), (0, 1));
        assert_eq!(summary.errors.get("channel_not_found"), Some(&1));
    }
}
