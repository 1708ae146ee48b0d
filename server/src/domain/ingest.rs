//! Group commit for publishes. Concurrent publishes queue here; one writer task commits them
//! together — events, their deliveries, the wake-up — in one transaction, then answers each.
//! On SQLite (one writer, an fsync per commit) this is what makes ingest fast; on PostgreSQL
//! it saves a round trip and a WAL flush per event. Nothing is answered before it is committed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Notify};

use app::models::TenantId;

use crate::domain::payload_filter;
use crate::domain::subscriptions::subscribes;
use crate::error::{Error, Result};
use crate::store::deliveries::NewDelivery;
use crate::store::events::EventRow;
use crate::store::stats::Key;
use crate::store::{self, Db};
use crate::{ids, on_tx};

/// The most publishes committed in one transaction.
const MAX_GROUP: usize = 512;

struct Job {
    event: EventRow,
    reply: oneshot::Sender<Result<Vec<String>>>,
}

#[derive(Clone)]
pub struct Ingest {
    queue: mpsc::Sender<Job>,
}

impl Ingest {
    pub fn start(db: Db, wake: Arc<Notify>) -> Self {
        let (queue, jobs) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(writer(db, jobs, wake));
        Ingest { queue }
    }

    /// Stores the event and its fan-out; returns the delivery ids once committed. With tracing
    /// on, the wait for the group commit is the `ingest.commit` span.
    pub async fn publish(&self, event: EventRow) -> Result<Vec<String>> {
        if crate::telemetry::tracing() {
            use tracing::Instrument;
            let span = tracing::info_span!(target: crate::telemetry::TARGET, "ingest.commit",
                ih.event_id = event.id.as_str(), ih.event_type = event.event_type.as_str(),
                ih.deliveries = tracing::field::Empty);
            let stored = self.queue_and_wait(event).instrument(span.clone()).await;
            if let Ok(ids) = &stored {
                span.record("ih.deliveries", ids.len());
            }
            return stored;
        }
        self.queue_and_wait(event).await
    }

    async fn queue_and_wait(&self, event: EventRow) -> Result<Vec<String>> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { event, reply })
            .await
            .map_err(|_| Error::Unavailable("the hub is shutting down".into()))?;
        answer.await.map_err(|_| Error::Unavailable("the hub is shutting down".into()))?
    }
}

async fn writer(db: Db, mut jobs: mpsc::Receiver<Job>, wake: Arc<Notify>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while jobs.recv_many(&mut group, MAX_GROUP).await > 0 {
        let events: Vec<&EventRow> = group.iter().map(|job| &job.event).collect();
        match commit(&db, &events).await {
            Ok(mut fanned_out) => {
                for job in group.drain(..) {
                    let ids = fanned_out.remove(&job.event.id).unwrap_or_default();
                    let _ = job.reply.send(Ok(ids));
                }
            }
            // One bad publish must not fail its neighbours: retry each on its own.
            Err(_) if group.len() > 1 => {
                for job in group.drain(..) {
                    let result = commit(&db, &[&job.event]).await;
                    let _ = job.reply.send(result.map(|mut m| m.remove(&job.event.id).unwrap_or_default()));
                }
            }
            Err(e) => {
                for job in group.drain(..) {
                    let _ = job.reply.send(Err(Error::internal("publish failed", &e)));
                }
            }
        }
        wake.notify_one();
    }
}

/// One transaction: the events, a delivery per subscribed endpoint, and (PostgreSQL) a
/// NOTIFY that other instances' workers receive when it commits.
async fn commit(db: &Db, events: &[&EventRow]) -> Result<HashMap<String, Vec<String>>> {
    let mut tx = db.begin().await?;
    let fanned_out = store_with_fan_out(&mut tx, events).await?;
    tx.commit().await?;
    Ok(fanned_out)
}

/// Inside `tx`: the events, and a delivery per enabled endpoint subscribed to each; returns the
/// delivery ids per event. Also used for the hub's own operational events.
pub async fn store_with_fan_out(tx: &mut store::Tx, events: &[&EventRow]) -> Result<HashMap<String, Vec<String>>> {
    let rows: Vec<EventRow> = events.iter().map(|e| (*e).clone()).collect();
    store::events::insert_many(tx, &rows).await?;
    let mut endpoints: HashMap<&str, Vec<Endpoint>> = HashMap::new();
    let mut deliveries = Vec::new();
    let mut filtered: BTreeMap<Key, i64> = BTreeMap::new();
    let mut fanned_out: HashMap<String, Vec<String>> = HashMap::new();
    for event in events {
        if !endpoints.contains_key(event.tenant_id.as_str()) {
            let tenant_id = TenantId::from(event.tenant_id.clone());
            let rows = store::webhooks::enabled_filters(tx, &tenant_id).await?;
            endpoints.insert(&event.tenant_id, rows.into_iter().map(Endpoint::new).collect());
        }
        let ids = fanned_out.entry(event.id.clone()).or_default();
        // The event as payload filters see it, made once and only when a filter asks.
        let mut seen_as: Option<serde_json::Value> = None;
        for endpoint in &endpoints[event.tenant_id.as_str()] {
            if !subscribes(&endpoint.types, &event.event_type) {
                continue;
            }
            if let Some(filter) = &endpoint.filter {
                let seen_as = seen_as.get_or_insert_with(|| payload_filter::event_view(event));
                if !payload_filter::matches(filter, seen_as) {
                    let key = Key {
                        tenant_id: event.tenant_id.clone(),
                        webhook_id: endpoint.id.clone(),
                        hour: crate::time::hour_start(event.created_at),
                        metric: "filtered".to_string(),
                    };
                    *filtered.entry(key).or_insert(0) += 1;
                    continue;
                }
            }
            let id = ids::new_id(ids::DELIVERY);
            ids.push(id.clone());
            deliveries.push(NewDelivery {
                id,
                tenant_id: event.tenant_id.clone(),
                event_id: event.id.clone(),
                webhook_id: endpoint.id.clone(),
                event_type: event.event_type.clone(),
                replay_of: None,
                replayed_by: None,
                created_at: event.created_at,
            });
        }
    }
    store::deliveries::insert_many(tx, &deliveries).await?;
    if !filtered.is_empty() {
        store::stats::add(tx, &filtered).await?;
    }
    if !deliveries.is_empty() {
        notify_other_instances(tx).await?;
    }
    Ok(fanned_out)
}

/// An enabled endpoint as the fan-out sees it: its event types and its payload filter.
struct Endpoint {
    id: String,
    types: Vec<String>,
    filter: Option<payload_filter::Expr>,
}

impl Endpoint {
    fn new((id, types, filter): (String, String, Option<String>)) -> Self {
        // Filters are checked when saved; one that no longer parses (a later version's grammar)
        // lets every event through rather than losing any, and says so.
        let filter = filter.and_then(|text| {
            payload_filter::parse(&text)
                .map_err(|e| tracing::warn!(webhook_id = %id, error = %e, "stored payload filter does not parse: not applied"))
                .ok()
        });
        Endpoint { types: serde_json::from_str(&types).unwrap_or_default(), filter, id }
    }
}

/// The channel the delivery workers of every instance LISTEN on.
pub const WAKE_CHANNEL: &str = "ih_deliveries_due";

/// Tells the workers of other instances (PostgreSQL) that work is due; delivered at commit.
pub async fn notify_other_instances(tx: &mut store::Tx) -> Result<()> {
    if let store::Tx::Postgres(_) = tx {
        on_tx!(tx, conn => sqlx::query("SELECT pg_notify($1, '')").bind(WAKE_CHANNEL).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}
