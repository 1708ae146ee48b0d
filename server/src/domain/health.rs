//! Endpoint health: what an endpoint's attempts say about it, applied in the transaction that
//! records them (the delivery recorder's). A run of failures raises `webhook.failing`, opens the
//! circuit, and in the end disables the endpoint; a success ends the run and closes the circuit.
//!
//! The circuit breaker (WEBHOOKS.md, "Circuit breaker"):
//! - **closed → open** when the streak of consecutive failed attempts reaches
//!   `IH_CIRCUIT_OPEN_AFTER_FAILURES` (5). Until the cool-down ends (`IH_CIRCUIT_COOLDOWN_SECONDS`,
//!   30 s, doubled at each reopening up to `IH_CIRCUIT_MAX_COOLDOWN_SECONDS`, 600 s) the claim
//!   passes the endpoint by: none of its deliveries is claimed, sent or counted. Its rows are not
//!   rewritten (parking 300 deliveries each of 100 endpoints held SQLite's one writer for
//!   about half a second, which every other tenant's deliveries waited for); the claim skips
//!   the endpoint with one index seek, however deep its backlog.
//! - **open → half-open** when the cool-down has ended: one instance takes the probe
//!   (`store::webhooks::take_probe`) and sends one delivery; the others wait.
//! - **half-open → closed** on the probe's success (any success closes it), and its waiting
//!   deliveries go at once; **half-open → open** on its failure, with twice the cool-down.
//! - Auto-disable stays the last step: `IH_WEBHOOK_DISABLE_AFTER_FAILURES` (100) consecutive
//!   failed attempts, probes included (with the default cool-downs, about 16 hours of an
//!   endpoint that never succeeds), or a `410 Gone`.

use std::time::Duration;

use app::models::CircuitState;
use serde_json::json;

use crate::config::DeliveryConfig;
use crate::error::Result;
use crate::store::events::EventRow;
use crate::store::{self, Tx};

/// One endpoint's results within a recorded batch, in the order they finished.
pub struct Results<'a> {
    pub webhook_id: &'a str,
    /// One of them was delivered; `failures` counts those after it.
    pub reset: bool,
    pub failures: i64,
    pub last_error: Option<&'a str>,
}

impl<'a> Results<'a> {
    pub fn new(webhook_id: &'a str) -> Self {
        Results { webhook_id, reset: false, failures: 0, last_error: None }
    }

    /// Adds one attempt: a delivery ends the run; a failure lengthens it.
    pub fn add(&mut self, delivered: bool, error: Option<&'a str>) {
        if delivered {
            *self = Results { reset: true, ..Results::new(self.webhook_id) };
        } else {
            self.failures += 1;
            self.last_error = error;
        }
    }
}

/// The cool-down after the `opens`-th opening (1-based): doubling, capped.
pub fn cooldown(config: &DeliveryConfig, opens: i64) -> Duration {
    let doublings = (opens.max(1) - 1).min(20) as u32;
    config.circuit_cooldown.saturating_mul(1 << doublings).min(config.circuit_max_cooldown)
}

/// Applies a batch's results to each endpoint's health; returns the operational events to
/// publish in the same transaction.
pub async fn apply(tx: &mut Tx, config: &DeliveryConfig, results: &[Results<'_>], now: i64) -> Result<Vec<EventRow>> {
    let mut events = Vec::new();
    for r in results {
        let Some(h) = store::webhooks::count_failures(tx, r.webhook_id, r.reset, r.failures).await? else {
            continue;
        };
        let id = r.webhook_id;
        let streak = h.consecutive_failures;
        let event =
            |event_type: &str, data: serde_json::Value| EventRow::new(&h.tenant_id, event_type, data.to_string(), now);
        // Raised once a streak, when it reaches the threshold (the streak before this batch was shorter).
        if h.enabled && streak >= config.alert_after_failures && streak - r.failures < config.alert_after_failures {
            tracing::warn!(webhook_id = id, streak, "endpoint failing repeatedly");
            let data =
                json!({ "webhook_id": id, "url": h.url, "consecutive_failures": streak, "last_error": r.last_error });
            events.push(event("webhook.failing", data));
        }
        let state = CircuitState::parse(&h.circuit_state);
        if state != CircuitState::Closed && r.reset {
            store::webhooks::set_circuit(tx, id, CircuitState::Closed.as_str(), 0, 0).await?;
            tracing::info!(webhook_id = id, "circuit closed");
            events.push(event("webhook.circuit_closed", json!({ "webhook_id": id, "url": h.url })));
        } else if h.enabled && r.failures > 0 && opens_now(config, state, streak, r) {
            let opens = if state == CircuitState::Closed { 1 } else { h.circuit_opens + 1 };
            let wait = cooldown(config, opens);
            let until = now + wait.as_millis() as i64;
            store::webhooks::set_circuit(tx, id, CircuitState::Open.as_str(), until, opens).await?;
            tracing::warn!(webhook_id = id, streak, opens, "circuit opened");
            let data = json!({
                "webhook_id": id, "url": h.url, "consecutive_failures": streak, "last_error": r.last_error,
                "cooldown_seconds": wait.as_secs_f64(), "retry_at": crate::time::rfc3339(until), "opens": opens,
            });
            events.push(event("webhook.circuit_opened", data));
        }
        if h.enabled && streak >= config.disable_after_failures {
            let reason = format!("{streak} consecutive failed attempts");
            if store::webhooks::disable(tx, id, &reason, now).await? {
                tracing::warn!(webhook_id = id, streak, "endpoint disabled after sustained failure");
                let audit = store::audit::AuditRow::now(
                    Some(&h.tenant_id),
                    "system".into(),
                    "webhook.auto_disabled",
                    Some(id),
                    None,
                );
                store::audit::insert(tx, &audit).await?;
                let data = json!({ "webhook_id": id, "url": h.url, "reason": reason, "consecutive_failures": streak });
                events.push(event("webhook.disabled", data));
            }
        }
    }
    Ok(events)
}

/// Whether failures open the circuit now: a closed one when the streak reaches the threshold;
/// a half-open one when its probe failed. Failures of an open one (deliveries that were in
/// flight when it opened) change nothing: the cool-down already runs.
fn opens_now(config: &DeliveryConfig, state: CircuitState, streak: i64, r: &Results) -> bool {
    match state {
        CircuitState::Closed => streak >= config.circuit_after_failures,
        CircuitState::HalfOpen => !r.reset,
        CircuitState::Open => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reopening_doubles_the_cooldown_up_to_the_maximum() {
        let mut config = crate::config::Config::from_lookup(|_| None).unwrap().delivery;
        config.circuit_cooldown = Duration::from_secs(30);
        config.circuit_max_cooldown = Duration::from_secs(600);
        let secs: Vec<u64> = (1..=7).map(|n| cooldown(&config, n).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 600, 600]);
        assert_eq!(cooldown(&config, 1_000).as_secs(), 600, "no overflow");
    }

    #[test]
    fn a_half_open_circuit_reopens_on_a_failed_probe_and_an_open_one_waits() {
        let config = crate::config::Config::from_lookup(|_| None).unwrap().delivery;
        let mut failed = Results::new("wh_a");
        failed.add(false, Some("timeout"));
        assert!(opens_now(&config, CircuitState::HalfOpen, 9, &failed));
        assert!(!opens_now(&config, CircuitState::Open, 9, &failed), "stragglers do not extend it");
        assert!(!opens_now(&config, CircuitState::Closed, 4, &failed));
        assert!(opens_now(&config, CircuitState::Closed, 5, &failed));
    }
}
