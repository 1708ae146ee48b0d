use axum::extract::State;

use app::models::{DeliveryOut, DeliveryWithAttempts, Page};

use super::route::Route;
use super::route::{schema, Op};
use super::{AppState, Caller, Json, Path, Query};
use crate::domain::auth::Scope;
use crate::domain::deliveries::DeliveryQuery;
use crate::error::Result;

pub fn routes() -> Vec<Route> {
    vec![
        Op::get("/api/v1/tenants/{tenant_id}/webhook-deliveries", "Deliveries", "The delivery log, newest first")
            .scope(Scope::DeliveriesRead)
            .delivery_filters()
            .answers(200, Some(schema::<Page<DeliveryOut>>))
            .to(list),
        Op::get(
            "/api/v1/tenants/{tenant_id}/webhook-deliveries/{id}",
            "Deliveries",
            "One delivery with its attempts and its replay chain",
        )
        .scope(Scope::DeliveriesRead)
        .answers(200, Some(schema::<DeliveryWithAttempts>))
        .to(one),
    ]
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Path(tenant_id): Path<String>,
    Query(q): Query<DeliveryQuery>,
) -> Result<Json<Page<DeliveryOut>>> {
    Ok(Json(s.hub.list_deliveries(&caller.principal, &tenant_id, &q).await?))
}

async fn one(
    State(s): State<AppState>,
    caller: Caller,
    Path((tenant_id, id)): Path<(String, String)>,
) -> Result<Json<DeliveryWithAttempts>> {
    Ok(Json(s.hub.get_delivery(&caller.principal, &tenant_id, &id).await?))
}
