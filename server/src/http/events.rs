use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use app::models::{EventAccepted, EventIn, EventOut};

use super::{AppState, Caller, Json};
use crate::error::Result;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tenants/{tenant_id}/events", post(publish))
        .route("/api/v1/tenants/{tenant_id}/events/{id}", get(one))
        .route("/api/v1/tenants/{tenant_id}/events/{id}/attempts", get(attempts))
        // The payload limit itself is checked after parsing (IH_MAX_PAYLOAD_BYTES, 413); this
        // only stops absurd bodies before they are read into memory.
        .layer(DefaultBodyLimit::max(16 << 20))
}

async fn publish(State(s): State<AppState>, caller: Caller, Path(tenant_id): Path<String>, Json(input): Json<EventIn>) -> Result<(StatusCode, Json<EventAccepted>)> {
    let accepted = s.hub.publish_event(&caller.principal, &tenant_id, input).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

async fn one(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Path<(String, String)>) -> Result<Json<EventOut>> {
    Ok(Json(s.hub.get_event(&caller.principal, &tenant_id, &id).await?))
}

async fn attempts(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Path<(String, String)>) -> Result<Json<Value>> {
    let attempts = s.hub.event_attempts(&caller.principal, &tenant_id, &id).await?;
    Ok(Json(json!({ "data": attempts, "next_cursor": null })))
}
