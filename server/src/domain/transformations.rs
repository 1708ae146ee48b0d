//! Trying a transformation before saving it: the program run on the tenant's latest events, as
//! the sender would run it (same workers, same limits), showing each output or error.

use app::models::{TenantId, TransformTryIn, TransformTryOut};

use super::auth::{Actor, Scope};
use super::Hub;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::store::events::EventRow;
use crate::transform::Transformed;
use crate::{store, time};

/// Events a try runs on.
const TRIED: i64 = 3;

impl Hub {
    pub async fn try_transformation(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        input: TransformTryIn,
    ) -> Result<Vec<TransformTryOut>> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        self.ensure_tenant_exists(tenant_id).await?;
        let program = input.program.trim();
        if program.is_empty() {
            return Err(Error::field(
                "transformation",
                "write a jq program first, such as {event: .type, payload: .data}",
            ));
        }
        self.transformer.check(program).await.map_err(super::webhooks::transformation_refused)?;
        let event_type = input.event_type.as_deref().filter(|t| !t.is_empty() && *t != "*");
        let mut events = store::events::latest(&self.db, tenant_id, event_type, TRIED).await?;
        if events.is_empty() {
            // Nothing published yet: the type's example stands in.
            let name = event_type.unwrap_or("request_submitted");
            let example = match self.get_event_type(who, tenant_id, name).await {
                Ok(t) => t.example,
                Err(_) => None,
            }
            .unwrap_or_else(|| app::models::sample_payload(name));
            let mut row = EventRow::new(tenant_id, name, example.to_string(), time::now_ms());
            row.id = "example".into();
            events.push(row);
        }
        let max_bytes = self.config.max_payload_bytes * 4;
        let mut tried = Vec::with_capacity(events.len());
        for e in events {
            let body = Message {
                event_id: &e.id,
                event_type: &e.event_type,
                created_at_ms: e.created_at,
                payload: &e.payload,
                traceparent: None,
            }
            .body();
            let event = serde_json::from_str(&body).unwrap_or_default();
            let mut out = TransformTryOut {
                event_id: e.id.clone(),
                event_type: e.event_type.clone(),
                body: None,
                headers: Vec::new(),
                dropped: false,
                error: None,
            };
            match self.transformer.apply(program, event, max_bytes).await {
                Ok(Transformed::Send { body, headers }) => {
                    out.body = Some(body);
                    out.headers = headers;
                }
                Ok(Transformed::Drop) => out.dropped = true,
                Err(e) => out.error = Some(e.to_string()),
            }
            tried.push(out);
        }
        Ok(tried)
    }
}
