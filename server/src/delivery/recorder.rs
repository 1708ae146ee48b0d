//! Writes attempts and outcomes in batches: finished deliveries queue here and one task
//! commits them together. Each sender waits for its batch to commit, so a delivery is only
//! considered done once its record is durable.

use app::models::DeliveryStatus;
use tokio::sync::{mpsc, oneshot};

use crate::domain::{health, Hub};
use crate::store::deliveries::{AttemptRow, Outcome};
use crate::store::events::EventRow;
use crate::{store, time};

use super::OPERATIONAL_TYPES;

fn operational_event(tenant_id: &str, event_type: &str, data: serde_json::Value, now: i64) -> EventRow {
    EventRow::new(tenant_id, event_type, data.to_string(), now)
}

const MAX_BATCH: usize = 512;

pub struct Record {
    pub attempt: AttemptRow,
    pub outcome: Outcome,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    /// The endpoint answered 410 Gone: disable it.
    pub disable_webhook: Option<String>,
}

pub struct Recorder {
    queue: mpsc::Sender<(Record, oneshot::Sender<()>)>,
}

impl Recorder {
    pub fn start(hub: Hub) -> Self {
        let (queue, records) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(hub, records));
        Recorder { queue }
    }

    pub async fn record(&self, record: Record) {
        let (done, committed) = oneshot::channel();
        if self.queue.send((record, done)).await.is_ok() {
            let _ = committed.await;
        }
    }
}

async fn write_batches(hub: Hub, mut records: mpsc::Receiver<(Record, oneshot::Sender<()>)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while records.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut delay = std::time::Duration::from_millis(50);
        // A failed write is retried until it succeeds: the attempt happened and must be kept.
        // Meanwhile the leases run on; if we never succeed, the deliveries become due again.
        while let Err(e) = write(&hub, &batch).await {
            tracing::error!(error = ?e, records = batch.len(), "recording attempts failed; retrying");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(std::time::Duration::from_secs(5));
        }
        for (_, done) in batch.drain(..) {
            let _ = done.send(());
        }
    }
}

async fn write(hub: &Hub, batch: &[(Record, oneshot::Sender<()>)]) -> crate::error::Result<()> {
    let now = time::now_ms();
    let attempts: Vec<AttemptRow> = batch.iter().map(|(r, _)| r.attempt.clone()).collect();
    let outcomes: Vec<Outcome> = batch.iter().map(|(r, _)| r.outcome.clone()).collect();
    let mut tx = hub.db.begin().await?;
    tx.without_flush_wait().await?;
    store::deliveries::record(&mut tx, &hub.instance_id, &attempts, &outcomes, now).await?;
    let rollup = crate::domain::stats::rollup(
        batch.iter().map(|(r, _)| (&r.attempt, r.webhook_id.as_str(), r.outcome.status == DeliveryStatus::Delivered)),
    );
    store::stats::add(&mut tx, &rollup).await?;
    let mut gone = 0;
    for webhook_id in batch.iter().filter_map(|(r, _)| r.disable_webhook.as_deref()) {
        if store::webhooks::disable(&mut tx, webhook_id, "the endpoint answered 410 Gone", now).await? {
            tracing::warn!(webhook_id, "endpoint disabled: it answered 410 Gone");
            gone += 1;
        }
    }
    // Each endpoint's results, in the order the attempts finished; an attempt that never left
    // (the endpoint is disabled) says nothing of its health.
    let mut results: Vec<health::Results> = Vec::new();
    for (r, _) in batch {
        // Nor one whose transformation kept it from leaving: the program's fault, not the
        // receiver's (a failing program must not open the circuit or disable the endpoint).
        let kind = r.attempt.error_kind.as_deref();
        if kind == Some("endpoint_disabled") || crate::transform::sent_nothing(kind) {
            continue;
        }
        let i = results.iter().position(|s| s.webhook_id == r.webhook_id).unwrap_or_else(|| {
            results.push(health::Results::new(&r.webhook_id));
            results.len() - 1
        });
        results[i].add(r.outcome.status == DeliveryStatus::Delivered, r.outcome.last_error.as_deref());
    }
    let mut operational = health::apply(&mut tx, &hub.config.delivery, &results, now).await?;
    // Dead letters are announced too — but not those of operational events, or a failing
    // subscriber would announce its own failures forever.
    for (r, _) in batch {
        if r.outcome.status == DeliveryStatus::DeadLetter && !OPERATIONAL_TYPES.contains(&r.event_type.as_str()) {
            let data = serde_json::json!({ "delivery_id": r.outcome.delivery_id, "webhook_id": r.webhook_id, "event_id": r.event_id, "event_type": r.event_type, "last_error": r.outcome.last_error });
            operational.push(operational_event(&r.attempt.tenant_id, "delivery.dead_lettered", data, now));
        }
    }
    if !operational.is_empty() {
        let events: Vec<&EventRow> = operational.iter().collect();
        crate::domain::ingest::store_with_fan_out(&mut tx, &events).await?;
    }
    tx.commit().await?;
    hub.metrics.webhooks_disabled_gone.add(gone);
    for e in &operational {
        match e.event_type.as_str() {
            "webhook.circuit_opened" => hub.metrics.circuit_opened.inc(),
            "webhook.circuit_closed" => hub.metrics.circuit_closed.inc(),
            // Raised once, when health::apply disables an endpoint after sustained failure.
            "webhook.disabled" => hub.metrics.webhooks_disabled_failing.inc(),
            _ => {}
        }
    }
    if !operational.is_empty() {
        hub.wake.notify_one();
    }
    hub.changes.changed(batch.iter().map(|(r, _)| r.attempt.tenant_id.as_str()));
    Ok(())
}
