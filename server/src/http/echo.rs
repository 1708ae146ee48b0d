//! The echo inspector's routes: the public receiver, and the list of what it received.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use super::{AppState, Caller, Json};
use crate::error::Result;

/// Unauthenticated, like any webhook receiver: the signature is what it checks.
pub fn public_router() -> Router<AppState> {
    Router::new().route("/echo/{tenant_id}/{name}", post(receive))
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/tenants/{tenant_id}/echo", get(list))
}

async fn receive(State(s): State<AppState>, Path((tenant_id, _name)): Path<(String, String)>, uri: Uri, headers: HeaderMap, body: axum::body::Bytes) -> Result<Json<Value>> {
    let verified = s.hub.receive_echo(&tenant_id, uri.path(), &headers, &body).await?;
    Ok(Json(json!({ "received": true, "signature_verified": verified })))
}

async fn list(State(s): State<AppState>, caller: Caller, Path(tenant_id): Path<String>) -> Result<Json<Value>> {
    let data = s.hub.echo_requests(&caller.principal, &tenant_id).await?;
    Ok(Json(json!({ "data": data, "url": s.hub.new_echo_url(&tenant_id) })))
}
