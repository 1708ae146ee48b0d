use axum::extract::State;

use app::models::{DeliveryOut, DeliveryWithAttempts, Page};

use super::route::Route;
use super::route::{schema, Op};
use super::{AppState, Id, Json, Query, Tenant};
use crate::domain::auth::Actor;
use crate::domain::auth::Scope;
use crate::domain::deliveries::DeliveryQuery;
use crate::error::Result;
use app::models::DeliveryId;

pub fn routes() -> Vec<Route> {
    vec![
        Op::get("/api/v1/tenants/{tenant_id}/webhook-deliveries", "Deliveries", "The delivery log, newest first")
            .alias("/api/v1/webhooks/deliveries")
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
    who: Actor,
    Tenant(tenant_id): Tenant,
    Query(q): Query<DeliveryQuery>,
) -> Result<Json<Page<DeliveryOut>>> {
    Ok(Json(s.hub.list_deliveries(&who, &tenant_id, &q).await?))
}

async fn one(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<DeliveryId>,
) -> Result<Json<DeliveryWithAttempts>> {
    Ok(Json(s.hub.get_delivery(&who, &tenant_id, &id).await?))
}
