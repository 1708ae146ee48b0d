use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;

use app::models::{DeliveryOut, DeliveryWithAttempts, Page};

use super::{AppState, Caller, Json, Query};
use crate::domain::deliveries::DeliveryQuery;
use crate::error::Result;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tenants/{tenant_id}/webhook-deliveries", get(list))
        .route("/api/v1/tenants/{tenant_id}/webhook-deliveries/{id}", get(one))
}

async fn list(State(s): State<AppState>, caller: Caller, Path(tenant_id): Path<String>, Query(q): Query<DeliveryQuery>) -> Result<Json<Page<DeliveryOut>>> {
    Ok(Json(s.hub.list_deliveries(&caller.principal, &tenant_id, &q).await?))
}

async fn one(State(s): State<AppState>, caller: Caller, Path((tenant_id, id)): Path<(String, String)>) -> Result<Json<DeliveryWithAttempts>> {
    Ok(Json(s.hub.get_delivery(&caller.principal, &tenant_id, &id).await?))
}
