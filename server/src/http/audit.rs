//! The audit log and the delivery analytics: read-only views of what happened.

use axum::extract::State;

use app::models::{AuditEntryOut, AuditFilter, Page, StatsOut, StatsWindow};

use super::route::Route;
use super::route::{schema, Op};
use super::{AppState, Json, Query, Tenant};
use crate::domain::auth::Actor;
use crate::domain::auth::Scope;
use crate::error::Result;

pub fn routes() -> Vec<Route> {
    vec![
        Op::get(
            "/api/v1/tenants/{tenant_id}/audit-log",
            "Audit log",
            "Every change of keys, webhooks and the tenant: actor, action, target, time, source IP",
        )
        .scope(Scope::AuditRead)
        .query("actor", "`operator`, `system` or a key id")
        .query("action", "an action (`webhook.created`) or a whole area (`webhook`)")
        .query("target", "the id of what changed")
        .time("since", "at or after (RFC 3339)")
        .time("until", "before (RFC 3339)")
        .choice("order", "`asc` (default, oldest first) or `desc`", &["asc", "desc"])
        .paged()
        .answers(200, Some(schema::<Page<AuditEntryOut>>))
        .to(audit_log),
        Op::get(
            "/api/v1/tenants/{tenant_id}/stats",
            "Analytics",
            "Success rate, latency percentiles, volume per hour and errors by kind, overall and per endpoint",
        )
        .scope(Scope::DeliveriesRead)
        .choice("window", "`24h` (default) or `7d`", &["24h", "7d"])
        .answers(200, Some(schema::<StatsOut>))
        .to(stats),
    ]
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct AuditQuery {
    #[serde(flatten)]
    pub filter: AuditFilter,
    #[serde(default)]
    pub order: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

async fn audit_log(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Page<AuditEntryOut>>> {
    let newest_first = match q.order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(crate::error::Error::field("order", "must be asc or desc")),
    };
    Ok(Json(s.hub.audit_log(&who, &tenant_id, &q.filter, newest_first, q.cursor.as_deref(), q.limit).await?))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct StatsQuery {
    #[serde(default)]
    pub window: StatsWindow,
}

async fn stats(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Query(q): Query<StatsQuery>,
) -> Result<Json<StatsOut>> {
    Ok(Json(s.hub.stats(&who, &tenant_id, q.window).await?))
}
