use app::models::{AttemptOut, BulkReplayIn, BulkReplayOut, DeliveryOut, DeliveryStatus, DeliveryWithAttempts, Page};

use super::auth::{Actor, Scope};
use super::ingest::notify_other_instances;
use super::tenants::audit_row;
use super::{page_cursor, page_limit, paginate, Hub};
use crate::error::{Error, Result};
use crate::store::{
    self,
    deliveries::{AttemptRow, DeliveryRow, Filter, NewDelivery},
};
use crate::{ids, time};
use app::models::{DeliveryId, TenantId};

pub fn delivery_out(row: DeliveryRow) -> DeliveryOut {
    let status = DeliveryStatus::parse(&row.status).unwrap_or(DeliveryStatus::Pending);
    let waiting = matches!(status, DeliveryStatus::Pending | DeliveryStatus::Failed);
    DeliveryOut {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        event_id: row.event_id.into(),
        webhook_id: row.webhook_id.into(),
        event_type: row.event_type,
        status,
        attempt_count: row.attempt_count,
        next_attempt_at: waiting.then(|| time::rfc3339(row.next_attempt_at)),
        last_status_code: row.last_status_code,
        last_error: row.last_error,
        replay_of: row.replay_of.map(Into::into),
        created_at: time::rfc3339(row.created_at),
        delivered_at: row.delivered_at.map(time::rfc3339),
    }
}

pub fn attempt_out(row: AttemptRow) -> AttemptOut {
    AttemptOut {
        id: row.id.into(),
        delivery_id: row.delivery_id.into(),
        attempt_number: row.attempt_number,
        started_at: time::rfc3339(row.started_at),
        duration_ms: row.duration_ms,
        status_code: row.status_code,
        response_headers: serde_json::from_str(&row.response_headers).unwrap_or_default(),
        response_body: row.response_body,
        error_kind: row.error_kind,
        error_message: row.error_message,
    }
}

/// The delivery log's query parameters as the API accepts them.
#[derive(Debug, Default, serde::Deserialize)]
pub struct DeliveryQuery {
    pub status: Option<String>,
    pub webhook_id: Option<String>,
    pub event_type: Option<String>,
    pub event_id: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

impl DeliveryQuery {
    fn filter(&self) -> Result<Filter> {
        let time = |field: &str, value: &Option<String>| -> Result<Option<i64>> {
            value
                .as_deref()
                .map(|v| time::parse_rfc3339(v).ok_or_else(|| Error::field(field, "must be an RFC 3339 time")))
                .transpose()
        };
        let status = match self.status.as_deref() {
            None => None,
            Some(s) => Some(
                DeliveryStatus::parse(s)
                    .ok_or_else(|| {
                        Error::field("status", "must be pending, delivering, delivered, failed or dead_letter")
                    })?
                    .as_str()
                    .to_string(),
            ),
        };
        // Refused rather than matching nothing: a delivery id pasted here (both are on the
        // delivery log's rows) would otherwise look like an event without deliveries.
        let event_id = match self.event_id.as_deref() {
            Some(id) if !ids::has_prefix(id, ids::EVENT) => {
                return Err(Error::field("event_id", "is not an event id (evt_ and 26 letters and digits)"))
            }
            id => id.map(str::to_string),
        };
        Ok(Filter {
            status,
            webhook_id: self.webhook_id.clone(),
            event_type: self.event_type.clone(),
            event_id,
            since: time("since", &self.since)?,
            until: time("until", &self.until)?,
        })
    }
}

impl Hub {
    /// The Prometheus text, with the queue depth read at scrape time. A database error shows
    /// as an empty queue rather than failing the scrape (the counters are still worth having).
    pub async fn render_metrics(&self) -> String {
        let now = time::now_ms();
        let (due, oldest) = store::deliveries::due_stats(&self.db, now).await.unwrap_or((0, None));
        let age = oldest.map_or(0.0, |at| (now - at).max(0) as f64 / 1000.0);
        let circuits = store::webhooks::circuit_counts(&self.db).await.unwrap_or_default();
        self.metrics.render(due, age, &circuits, &self.meters.totals, self.shared_limit.as_ref())
    }

    pub async fn list_deliveries(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        query: &DeliveryQuery,
    ) -> Result<Page<DeliveryOut>> {
        who.authorize(tenant_id, Scope::DeliveriesRead)?;
        let filter = query.filter()?;
        let limit = page_limit(query.limit);
        let rows = store::deliveries::list(
            &self.db,
            tenant_id,
            &filter,
            page_cursor(query.cursor.as_deref(), ids::DELIVERY)?,
            limit + 1,
        )
        .await?;
        Ok(paginate(rows, limit, |r| r.id.clone(), delivery_out))
    }

    pub async fn get_delivery(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        id: &DeliveryId,
    ) -> Result<DeliveryWithAttempts> {
        who.authorize(tenant_id, Scope::DeliveriesRead)?;
        let row = store::found(store::deliveries::get(&self.db, tenant_id, id).await?, "delivery")?;
        let attempts = store::deliveries::attempts_of(&self.db, std::slice::from_ref(&row.id)).await?;
        let replays = store::deliveries::replays_of(&self.db, &row.id).await?;
        let mut replayed_from = Vec::new();
        let mut parent = row.replay_of.clone();
        while let Some(id) = parent.take().filter(|_| replayed_from.len() < 100) {
            parent = store::deliveries::get(&self.db, tenant_id, &DeliveryId::from(id.clone()))
                .await?
                .and_then(|d| d.replay_of);
            replayed_from.insert(0, id);
        }
        Ok(DeliveryWithAttempts {
            delivery: delivery_out(row),
            attempts: attempts.into_iter().map(attempt_out).collect(),
            replayed_from,
            replays,
        })
    }

    /// A new delivery of the same event to the same endpoint, linked to the one it replays.
    pub async fn replay_delivery(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        id: &DeliveryId,
        dead_letters_only: bool,
    ) -> Result<DeliveryOut> {
        who.authorize(tenant_id, Scope::DeliveriesReplay)?;
        let original = store::found(store::deliveries::get(&self.db, tenant_id, id).await?, "delivery")?;
        if dead_letters_only && DeliveryStatus::parse(&original.status) != Some(DeliveryStatus::DeadLetter) {
            return Err(Error::NotFound("dead letter"));
        }
        let mut replayed = self.replay_rows(who, tenant_id, vec![original]).await?;
        self.changes.changed([tenant_id.as_str()]);
        Ok(replayed.remove(0))
    }

    /// Sends a delivery that is waiting for its next retry at once, instead of a replay that
    /// would send the event a second time beside it (once the receiver is fixed, say). Its
    /// attempts go on counting towards the endpoint's limit.
    pub async fn retry_delivery(&self, who: &Actor, tenant_id: &TenantId, id: &DeliveryId) -> Result<DeliveryOut> {
        who.authorize(tenant_id, Scope::DeliveriesReplay)?;
        let row = store::found(store::deliveries::get(&self.db, tenant_id, id).await?, "delivery")?;
        let now = time::now_ms();
        let mut tx = self.db.begin().await?;
        if !store::deliveries::make_due(&mut tx, tenant_id, id, now).await? {
            // Failed or pending when read but not waiting now: a worker claimed it meanwhile.
            return Err(Error::Conflict(match DeliveryStatus::parse(&row.status) {
                Some(done @ (DeliveryStatus::Delivered | DeliveryStatus::DeadLetter)) => {
                    format!("a delivery that is {done} is not retried; replay it instead")
                }
                _ => "the delivery is being sent now".into(),
            }));
        }
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), "delivery.retried", Some(id))).await?;
        notify_other_instances(&mut tx).await?;
        tx.commit().await?;
        self.wake.notify_one();
        self.changes.changed([tenant_id.as_str()]);
        Ok(delivery_out(store::found(store::deliveries::get(&self.db, tenant_id, id).await?, "delivery")?))
    }

    /// Replays every delivery matching the filter (at most 10 000 a call).
    pub async fn bulk_replay(&self, who: &Actor, tenant_id: &TenantId, input: BulkReplayIn) -> Result<BulkReplayOut> {
        who.authorize(tenant_id, Scope::DeliveriesReplay)?;
        let query = DeliveryQuery {
            status: input.status,
            webhook_id: input.webhook_id,
            event_type: input.event_type,
            event_id: input.event_id,
            since: input.since,
            until: input.until,
            ..Default::default()
        };
        let rows = store::deliveries::list(&self.db, tenant_id, &query.filter()?, None, 10_000).await?;
        if rows.is_empty() {
            return Ok(BulkReplayOut { replayed: 0, deliveries: Vec::new() });
        }
        let replayed = self.replay_rows(who, tenant_id, rows).await?;
        self.changes.changed([tenant_id.as_str()]);
        Ok(BulkReplayOut {
            replayed: replayed.len(),
            deliveries: replayed.into_iter().map(|d| d.id.into_string()).collect(),
        })
    }

    async fn replay_rows(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        originals: Vec<DeliveryRow>,
    ) -> Result<Vec<DeliveryOut>> {
        let now = time::now_ms();
        let new: Vec<NewDelivery> = originals
            .iter()
            .map(|o| NewDelivery {
                id: ids::new_id(ids::DELIVERY),
                tenant_id: o.tenant_id.clone(),
                event_id: o.event_id.clone(),
                webhook_id: o.webhook_id.clone(),
                event_type: o.event_type.clone(),
                replay_of: Some(o.id.clone()),
                replayed_by: Some(who.actor()),
                created_at: now,
            })
            .collect();
        let mut tx = self.db.begin().await?;
        store::deliveries::insert_many(&mut tx, &new).await?;
        let target = if new.len() == 1 { new[0].replay_of.clone() } else { Some(format!("{} deliveries", new.len())) };
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), "delivery.replayed", target.as_deref())).await?;
        notify_other_instances(&mut tx).await?;
        tx.commit().await?;
        self.wake.notify_one();
        let mut out = Vec::with_capacity(new.len());
        for d in new {
            out.push(delivery_out(store::found(
                store::deliveries::get(&self.db, tenant_id, &DeliveryId::from(d.id.clone())).await?,
                "delivery",
            )?));
        }
        Ok(out)
    }
}
