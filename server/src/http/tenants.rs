use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;

use app::models::{Page, TenantIn, TenantOut};

use super::{AppState, Caller, Json, PageQuery, Query};
use crate::error::Result;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tenants", get(list).post(create))
        .route("/api/v1/tenants/{tenant_id}", get(one))
        .route("/api/v1/whoami", get(whoami))
}

/// Who the credential is: the operator, or a key with its tenant and scopes. No database work,
/// which also makes it the route the authentication benchmark measures.
async fn whoami(caller: Caller) -> axum::Json<serde_json::Value> {
    use crate::domain::auth::Principal;
    axum::Json(match &caller.principal {
        Principal::Operator => serde_json::json!({ "actor": "operator" }),
        Principal::Key(key) => serde_json::json!({ "actor": key.id, "tenant_id": key.tenant_id, "scopes": key.scopes }),
    })
}

async fn create(State(s): State<AppState>, caller: Caller, Json(input): Json<TenantIn>) -> Result<(StatusCode, Json<TenantOut>)> {
    let tenant = s.hub.create_tenant(&caller.principal, input, caller.source_ip()).await?;
    Ok((StatusCode::CREATED, Json(tenant)))
}

async fn list(State(s): State<AppState>, caller: Caller, Query(q): Query<PageQuery>) -> Result<Json<Page<TenantOut>>> {
    Ok(Json(s.hub.list_tenants(&caller.principal, q.cursor.as_deref(), q.limit).await?))
}

async fn one(State(s): State<AppState>, caller: Caller, Path(tenant_id): Path<String>) -> Result<Json<TenantOut>> {
    Ok(Json(s.hub.get_tenant(&caller.principal, &tenant_id).await?))
}
