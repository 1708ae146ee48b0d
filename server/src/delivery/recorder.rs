//! Writes attempts and outcomes in batches: finished deliveries queue here and one task
//! commits them together. Each sender waits for its batch to commit, so a delivery is only
//! considered done once its record is durable.

use tokio::sync::{mpsc, oneshot};

use crate::domain::Hub;
use crate::store::deliveries::{AttemptRow, Outcome};
use crate::{store, time};

const MAX_BATCH: usize = 512;

pub struct Record {
    pub attempt: AttemptRow,
    pub outcome: Outcome,
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
    for webhook_id in batch.iter().filter_map(|(r, _)| r.disable_webhook.as_deref()) {
        if store::webhooks::disable(&mut tx, webhook_id, "the endpoint answered 410 Gone", now).await? {
            tracing::warn!(webhook_id, "endpoint disabled: it answered 410 Gone");
        }
    }
    tx.commit().await
}
