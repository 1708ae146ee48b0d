use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use app::models::{DeliveryOut, Page, WebhookIn, WebhookOut};

use super::{AppState, Caller, Json, PageQuery, Query};
use crate::domain::deliveries::DeliveryQuery;
use crate::error::Result;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tenants/{tenant_id}/webhooks", get(list).post(create))
        .route("/api/v1/tenants/{tenant_id}/webhooks/{id}", get(one).delete(remove))
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
