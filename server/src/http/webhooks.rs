use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use app::models::{DeliveryOut, DeliveryWithAttempts, Page, RotateSecretIn, TestSendIn, WebhookIn, WebhookOut, WebhookPatch};

use super::{AppState, Caller, Json, PageQuery, Query};
use crate::domain::deliveries::DeliveryQuery;
use crate::error::Result;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tenants/{tenant_id}/webhooks", get(list).post(create))
        .route("/api/v1/tenants/{tenant_id}/webhooks/{id}", get(one).patch(patch).delete(remove))
        .route("/api/v1/tenants/{tenant_id}/webhooks/{id}/rotate-secret", post(rotate_secret))
        .route("/api/v1/tenants/{tenant_id}/webhooks/{id}/test", post(test_send))
        .route("/api/v1/tenants/{tenant_id}/webhooks/{id}/secret", get(secret))
        .route("/api/v1/tenants/{tenant_id}/webhooks/{id}/deliveries", get(deliveries))
}

async fn create(State(s): State<AppState>, caller: Caller, Path(tenant_id): Path<String>, Json(input): Json<WebhookIn>) -> Result<(StatusCode, Json<WebhookOut>)> {
    let webhook = s.hub.create_webhook(&caller.principal, &tenant_id, input, caller.source_ip()).await?;
    Ok((StatusCode::CREATED, Json(webhook)))
}

async fn list(State(s): State<AppState>, caller: Caller, Path(tenant_id): Path<String>, Query(q): Query<PageQuery>) -> Result<Json<Page<WebhookOut>>> {
    Ok(Json(s.hub.list_webhooks(&caller.principal, &tenant_id, q.cursor.as_deref(), q.limit).await?))
}

async fn one(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Path<(String, String)>) -> Result<Json<WebhookOut>> {
    Ok(Json(s.hub.get_webhook(&caller.principal, &tenant_id, &id).await?))
}

async fn patch(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Path<(String, String)>, Json(input): Json<WebhookPatch>) -> Result<Json<WebhookOut>> {
    Ok(Json(s.hub.patch_webhook(&caller.principal, &tenant_id, &id, input, caller.source_ip()).await?))
}

async fn rotate_secret(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Path<(String, String)>, body: axum::body::Bytes) -> Result<Json<Value>> {
    let input: RotateSecretIn = super::optional_json(&body)?;
    let secret = s.hub.rotate_webhook_secret(&caller.principal, &tenant_id, &id, input, caller.source_ip()).await?;
    Ok(Json(json!({ "secret": secret })))
}

/// Sends a sample event to this endpoint now and answers with the delivery and its attempt.
async fn test_send(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Path<(String, String)>, body: axum::body::Bytes) -> Result<Json<DeliveryWithAttempts>> {
    let input: TestSendIn = super::optional_json(&body)?;
    Ok(Json(s.worker.test_send(&caller.principal, &tenant_id, &id, input).await?))
}

async fn remove(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Path<(String, String)>) -> Result<StatusCode> {
    s.hub.delete_webhook(&caller.principal, &tenant_id, &id, caller.source_ip()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn secret(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Path<(String, String)>) -> Result<Json<Value>> {
    let secret = s.hub.webhook_secret(&caller.principal, &tenant_id, &id).await?;
    Ok(Json(json!({ "secret": secret })))
}

async fn deliveries(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Path<(String, String)>, Query(mut q): Query<DeliveryQuery>) -> Result<Json<Page<DeliveryOut>>> {
    s.hub.get_webhook(&caller.principal, &tenant_id, &id).await?;
    q.webhook_id = Some(id);
    Ok(Json(s.hub.list_deliveries(&caller.principal, &tenant_id, &q).await?))
}
