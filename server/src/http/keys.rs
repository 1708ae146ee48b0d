use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;

use app::models::{ApiKeyCreated, ApiKeyIn, ApiKeyOut, AuditEntryOut, Page, RotateIn, UsageOut};

use super::{AppState, Caller, Json, PageQuery, Query};
use crate::error::Result;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tenants/{tenant_id}/api-keys", get(list).post(create))
        .route("/api/v1/tenants/{tenant_id}/api-keys/{id}", get(one).delete(remove))
        .route("/api/v1/tenants/{tenant_id}/api-keys/{id}/rotate", post(rotate))
        .route("/api/v1/tenants/{tenant_id}/api-keys/{id}/revoke", post(revoke))
        .route("/api/v1/tenants/{tenant_id}/api-keys/{id}/usage", get(usage))
        .route("/api/v1/tenants/{tenant_id}/audit-log", get(audit_log))
}

type Ids = Path<(String, String)>;

async fn create(State(s): State<AppState>, caller: Caller, Path(tenant_id): Path<String>, Json(input): Json<ApiKeyIn>) -> Result<(StatusCode, Json<ApiKeyCreated>)> {
    Ok((StatusCode::CREATED, Json(s.hub.create_key(&caller.principal, &tenant_id, input, caller.source_ip()).await?)))
}

async fn list(State(s): State<AppState>, caller: Caller, Path(tenant_id): Path<String>, Query(q): Query<PageQuery>) -> Result<Json<Page<ApiKeyOut>>> {
    Ok(Json(s.hub.list_keys(&caller.principal, &tenant_id, q.cursor.as_deref(), q.limit).await?))
}

async fn one(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Ids) -> Result<Json<ApiKeyOut>> {
    Ok(Json(s.hub.get_key(&caller.principal, &tenant_id, &id).await?))
}

async fn rotate(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Ids, body: axum::body::Bytes) -> Result<(StatusCode, Json<ApiKeyCreated>)> {
    let input: RotateIn = super::optional_json(&body)?;
    Ok((StatusCode::CREATED, Json(s.hub.rotate_key(&caller.principal, &tenant_id, &id, input, caller.source_ip()).await?)))
}

async fn revoke(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Ids) -> Result<Json<ApiKeyOut>> {
    Ok(Json(s.hub.revoke_key(&caller.principal, &tenant_id, &id, caller.source_ip()).await?))
}

async fn remove(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Ids) -> Result<StatusCode> {
    s.hub.delete_key(&caller.principal, &tenant_id, &id, caller.source_ip()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn usage(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Ids) -> Result<Json<UsageOut>> {
    Ok(Json(s.hub.key_usage(&caller.principal, &tenant_id, &id).await?))
}

async fn audit_log(State(s): State<AppState>, caller: Caller, Path(tenant_id): Path<String>, Query(q): Query<PageQuery>) -> Result<Json<Page<AuditEntryOut>>> {
    Ok(Json(s.hub.audit_log(&caller.principal, &tenant_id, q.cursor.as_deref(), q.limit).await?))
}
