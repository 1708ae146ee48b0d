use app::models::{AttemptOut, DeliveryOut, DeliveryStatus, DeliveryWithAttempts, Page};

use super::auth::{Principal, Scope};
use super::{page_limit, paginate, Hub};
use crate::error::{Error, Result};
use crate::store::{self, deliveries::{AttemptRow, DeliveryRow, Filter}};
use crate::time;

pub fn delivery_out(row: DeliveryRow) -> DeliveryOut {
    let status = DeliveryStatus::parse(&row.status).unwrap_or(DeliveryStatus::Pending);
    let waiting = matches!(status, DeliveryStatus::Pending | DeliveryStatus::Failed);
    DeliveryOut {
        id: row.id,
        tenant_id: row.tenant_id,
        event_id: row.event_id,
        webhook_id: row.webhook_id,
        event_type: row.event_type,
        status,
        attempt_count: row.attempt_count,
        next_attempt_at: waiting.then(|| time::rfc3339(row.next_attempt_at)),
        last_status_code: row.last_status_code,
        last_error: row.last_error,
        replay_of: row.replay_of,
        created_at: time::rfc3339(row.created_at),
        delivered_at: row.delivered_at.map(time::rfc3339),
    }
}

pub fn attempt_out(row: AttemptRow) -> AttemptOut {
    AttemptOut {
        id: row.id,
        delivery_id: row.delivery_id,
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
                    .ok_or_else(|| Error::field("status", "must be pending, delivering, delivered, failed or dead_letter"))?
                    .as_str()
                    .to_string(),
            ),
        };
        Ok(Filter {
            status,
            webhook_id: self.webhook_id.clone(),
            event_type: self.event_type.clone(),
            event_id: None,
            since: time("since", &self.since)?,
            until: time("until", &self.until)?,
        })
    }
}

impl Hub {
    pub async fn list_deliveries(&self, who: &Principal, tenant_id: &str, query: &DeliveryQuery) -> Result<Page<DeliveryOut>> {
        who.authorize(tenant_id, Scope::DeliveriesRead)?;
        let filter = query.filter()?;
        let limit = page_limit(query.limit);
        let rows = store::deliveries::list(&self.db, tenant_id, &filter, query.cursor.as_deref(), limit + 1).await?;
        Ok(paginate(rows, limit, |r| r.id.clone(), delivery_out))
    }

    pub async fn get_delivery(&self, who: &Principal, tenant_id: &str, id: &str) -> Result<DeliveryWithAttempts> {
        who.authorize(tenant_id, Scope::DeliveriesRead)?;
        let row = store::found(store::deliveries::get(&self.db, tenant_id, id).await?, "delivery")?;
        let attempts = store::deliveries::attempts_of(&self.db, &[row.id.clone()]).await?;
        Ok(DeliveryWithAttempts {
            delivery: delivery_out(row),
            attempts: attempts.into_iter().map(attempt_out).collect(),
        })
    }
}
