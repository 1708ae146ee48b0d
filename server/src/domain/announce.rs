//! Domain events: what changed in a tenant's configuration (`webhook.created`, `api_key.revoked`,
//! …), published through the same engine as the hub's operational events. They are stored in the
//! change's own transaction, so an event exists exactly when its change does, and go only to
//! endpoints that name them (`*` does not cover them; see `subscriptions::subscribes`). Their payloads
//! never carry a secret or a key.

use app::models::TenantId;

use crate::error::Result;
use crate::store::events::EventRow;
use crate::store::Tx;
use crate::time;

use super::Hub;

/// Stores `event_type` with `data` and its deliveries in `tx`; true when some endpoint takes it
/// (then the worker should be woken once the transaction commits: [`Hub::announced`]).
pub async fn announce(tx: &mut Tx, tenant_id: &TenantId, event_type: &str, data: serde_json::Value) -> Result<bool> {
    debug_assert!(app::models::OPERATIONAL_EVENT_TYPES.contains(&event_type), "{event_type} is not in the catalogue");
    // Most changes have no subscriber: then nothing is stored (no event row for each change).
    let endpoints = crate::store::webhooks::enabled_filters(tx, tenant_id).await?;
    let wanted = endpoints.iter().any(|(_, filters, _)| {
        super::subscriptions::subscribes(&serde_json::from_str::<Vec<String>>(filters).unwrap_or_default(), event_type)
    });
    if !wanted {
        return Ok(false);
    }
    let event = EventRow::new(tenant_id, event_type, data.to_string(), time::now_ms());
    let fanned_out = super::ingest::store_with_fan_out(tx, &[&event]).await?;
    // Other instances are told at commit by the fan-out itself.
    Ok(fanned_out.values().any(|deliveries| !deliveries.is_empty()))
}

impl Hub {
    /// After the commit of a change that [`announce`]d: wakes this instance's worker when the
    /// event has deliveries, and tells the UI's live views.
    pub fn announced(&self, tenant_id: &str, delivered: bool) {
        if delivered {
            self.wake.notify_one();
            self.changes.changed([tenant_id]);
        }
    }
}
