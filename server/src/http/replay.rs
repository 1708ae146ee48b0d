//! Dead letters, replay (one, bulk) and the seed's integrator routes, whose tenant is the key's.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use app::models::{BulkReplayIn, DeliveryOut, EventAccepted, EventIn, Page, WebhookIn, WebhookOut};

use super::{AppState, Caller, Json, Query};
use crate::domain::deliveries::DeliveryQuery;
use crate::error::{Error, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tenants/{tenant_id}/webhook-deliveries/{id}/replay", post(replay))
        .route("/api/v1/tenants/{tenant_id}/webhook-deliveries/replay", post(bulk))
        .route("/api/v1/tenants/{tenant_id}/dead-letters", get(dead_letters))
        .route("/api/v1/tenants/{tenant_id}/dead-letters/{id}/replay", post(replay_dead_letter))
        .route("/api/v1/subscriptions", post(subscribe))
        .route("/api/v1/events", post(publish))
        .route("/api/v1/admin/events/{event_id}/attempts", get(attempts))
        .route("/api/v1/admin/dead-letters/{id}/replay", post(admin_replay))
        .route("/api/v1/event-types", get(event_types))
}

/// The tenant of the calling key; the operator must use the tenant-scoped routes.
fn own_tenant(caller: &Caller) -> Result<String> {
    caller
        .principal
        .tenant_id()
        .map(str::to_string)
        .ok_or_else(|| Error::BadRequest("this route takes the tenant from an API key; the operator token must use /api/v1/tenants/{tenant_id}/…".into()))
}

async fn replay(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Path<(String, String)>) -> Result<(StatusCode, Json<DeliveryOut>)> {
    Ok((StatusCode::CREATED, Json(s.hub.replay_delivery(&caller.principal, &tenant_id, &id, false, caller.source_ip()).await?)))
}

async fn replay_dead_letter(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Path<(String, String)>) -> Result<(StatusCode, Json<DeliveryOut>)> {
    Ok((StatusCode::CREATED, Json(s.hub.replay_delivery(&caller.principal, &tenant_id, &id, true, caller.source_ip()).await?)))
}

async fn bulk(State(s): State<AppState>, caller: Caller, Path(tenant_id): Path<String>, body: axum::body::Bytes) -> Result<(StatusCode, Json<app::models::BulkReplayOut>)> {
    let input: BulkReplayIn = super::optional_json(&body)?;
    Ok((StatusCode::ACCEPTED, Json(s.hub.bulk_replay(&caller.principal, &tenant_id, input, caller.source_ip()).await?)))
}

async fn dead_letters(State(s): State<AppState>, caller: Caller, Path(tenant_id): Path<String>, Query(mut q): Query<DeliveryQuery>) -> Result<Json<Page<DeliveryOut>>> {
    q.status = Some("dead_letter".into());
    Ok(Json(s.hub.list_deliveries(&caller.principal, &tenant_id, &q).await?))
}

async fn subscribe(State(s): State<AppState>, caller: Caller, Json(input): Json<WebhookIn>) -> Result<(StatusCode, Json<WebhookOut>)> {
    let tenant_id = own_tenant(&caller)?;
    Ok((StatusCode::CREATED, Json(s.hub.create_webhook(&caller.principal, &tenant_id, input, caller.source_ip()).await?)))
}

async fn publish(State(s): State<AppState>, caller: Caller, Json(input): Json<EventIn>) -> Result<(StatusCode, Json<EventAccepted>)> {
    let tenant_id = own_tenant(&caller)?;
    Ok((StatusCode::ACCEPTED, Json(s.hub.publish_event(&caller.principal, &tenant_id, input).await?)))
}

async fn attempts(State(s): State<AppState>, caller: Caller, Path(event_id): Path<String>) -> Result<Json<Value>> {
    let tenant_id = own_tenant(&caller)?;
    let attempts = s.hub.event_attempts(&caller.principal, &tenant_id, &event_id).await?;
    Ok(Json(json!({ "data": attempts, "next_cursor": null })))
}

async fn admin_replay(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<(StatusCode, Json<DeliveryOut>)> {
    let tenant_id = own_tenant(&caller)?;
    Ok((StatusCode::CREATED, Json(s.hub.replay_delivery(&caller.principal, &tenant_id, &id, true, caller.source_ip()).await?)))
}

async fn event_types(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>> {
    Ok(Json(json!({ "data": s.hub.event_types(&caller.principal, None).await? })))
}
