use app::models::{valid_event_type, AttemptOut, EventAccepted, EventIn, EventOut, BUILTIN_EVENT_TYPES};

use super::auth::{Actor, Scope};
use super::deliveries::{attempt_out, delivery_out};
use super::Hub;
use crate::error::{Error, Result};
use crate::store::{self, deliveries::Filter, events::EventRow};
use crate::time;
use app::models::{EventId, TenantId};

impl Hub {
    pub async fn publish_event(&self, who: &Actor, tenant_id: &TenantId, input: EventIn) -> Result<EventAccepted> {
        who.authorize(tenant_id, Scope::EventsPublish)?;
        let event_type = input.event_type.trim();
        if super::subscriptions::is_operational(event_type) {
            return Err(Error::field("event_type", format!("{event_type} is published by the hub itself")));
        }
        if !valid_event_type(event_type) {
            return Err(Error::field(
                "event_type",
                format!("must be one of {BUILTIN_EVENT_TYPES:?} or a name of lowercase letters, digits, '_', '.', '-'"),
            ));
        }
        let payload = serde_json::to_string(&input.payload).expect("a JSON value serialises");
        if payload.len() > self.config.max_payload_bytes {
            return Err(Error::PayloadTooLarge(format!(
                "the payload has {} bytes; the limit is {}",
                payload.len(),
                self.config.max_payload_bytes
            )));
        }
        self.ensure_tenant_exists(tenant_id).await?;
        self.check_payload(tenant_id, event_type, &input.payload).await?;
        let event = EventRow::new(tenant_id, event_type, payload, time::now_ms());
        let id = event.id.clone();
        let deliveries = self.ingest.publish(event).await?;
        self.metrics.events_published.inc();
        self.changes.changed([tenant_id.as_str()]);
        Ok(EventAccepted { id: id.into(), deliveries })
    }

    /// The catalogue: the built-in types, the hub's operational types (subscribable by name),
    /// and the types the tenant has published.
    pub async fn event_types(&self, who: &Actor, tenant_id: Option<&TenantId>) -> Result<Vec<String>> {
        let mut types: Vec<String> =
            BUILTIN_EVENT_TYPES.iter().chain(&app::models::OPERATIONAL_EVENT_TYPES).map(|t| t.to_string()).collect();
        if let Some(asked) = tenant_id {
            who.authorize(asked, Scope::WebhooksRead)?;
        }
        if let Some(tenant_id) = tenant_id.or(who.tenant_id()) {
            let used = store::events::types_used(&self.db, tenant_id).await?;
            for t in used {
                if !types.contains(&t) {
                    types.push(t);
                }
            }
        }
        Ok(types)
    }

    /// Tenants are never deleted, so a tenant seen once needs no second look-up.
    pub(crate) async fn ensure_tenant_exists(&self, tenant_id: &TenantId) -> Result<()> {
        if self.known_tenants.lock().expect("not poisoned").contains(tenant_id.as_str()) {
            return Ok(());
        }
        store::found(store::tenants::get(&self.db, tenant_id).await?, "tenant")?;
        self.known_tenants.lock().expect("not poisoned").insert(tenant_id.to_string());
        Ok(())
    }

    pub async fn get_event(&self, who: &Actor, tenant_id: &TenantId, id: &EventId) -> Result<EventOut> {
        who.authorize(tenant_id, Scope::DeliveriesRead)?;
        let event = store::found(store::events::get(&self.db, tenant_id, id).await?, "event")?;
        let filter = Filter { event_id: Some(id.to_string()), ..Filter::default() };
        let deliveries = store::deliveries::list(&self.db, tenant_id, &filter, None, 1000).await?;
        Ok(EventOut {
            id: event.id.into(),
            event_type: event.event_type,
            payload: serde_json::from_str(&event.payload).unwrap_or_default(),
            created_at: time::rfc3339(event.created_at),
            deliveries: deliveries.into_iter().map(delivery_out).collect(),
        })
    }

    /// Every attempt of every delivery of an event, oldest first.
    pub async fn event_attempts(&self, who: &Actor, tenant_id: &TenantId, id: &EventId) -> Result<Vec<AttemptOut>> {
        who.authorize(tenant_id, Scope::DeliveriesRead)?;
        store::found(store::events::get(&self.db, tenant_id, id).await?, "event")?;
        let filter = Filter { event_id: Some(id.to_string()), ..Filter::default() };
        let ids: Vec<String> = store::deliveries::list(&self.db, tenant_id, &filter, None, 1000)
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect();
        let attempts = store::deliveries::attempts_of(&self.db, &ids).await?;
        Ok(attempts.into_iter().map(attempt_out).collect())
    }
}
