//! Dead letters and replay (one, bulk).

use app::models::{BulkReplayIn, BulkReplayOut, DeliveryId, DeliveryOut, DeliveryStatus, EventTypesOut, Page};
use axum::extract::State;
use axum::http::StatusCode;

use super::route::Route;
use super::route::{schema, Op};
use super::{AppState, Id, Json, OptionalJson, Query, Tenant};
use crate::domain::auth::{Actor, Scope};
use crate::domain::deliveries::DeliveryQuery;
use crate::error::Result;

pub fn routes() -> Vec<Route> {
    const REPLAY: &str = "Deliveries";
    vec![
        Op::post(
            "/api/v1/tenants/{tenant_id}/webhook-deliveries/{id}/replay",
            REPLAY,
            "Replay a delivery: a new delivery linked to it",
        )
        .scope(Scope::DeliveriesReplay)
        .answers(201, Some(schema::<DeliveryOut>))
        .to(replay),
        Op::post(
            "/api/v1/tenants/{tenant_id}/webhook-deliveries/{id}/retry",
            REPLAY,
            "Retry now: a delivery waiting for its next retry is sent at once (no second delivery)",
        )
        .scope(Scope::DeliveriesReplay)
        .answers(200, Some(schema::<DeliveryOut>))
        .refuses(409, "the delivery is not waiting: it is being sent, delivered or dead-lettered (replay those)")
        .to(retry),
        Op::post(
            "/api/v1/tenants/{tenant_id}/webhook-deliveries/replay",
            REPLAY,
            "Replay in bulk, by status, endpoint and time (default: dead letters)",
        )
        .scope(Scope::DeliveriesReplay)
        .optional_body(schema::<BulkReplayIn>)
        .answers(202, Some(schema::<BulkReplayOut>))
        .to(bulk),
        Op::get("/api/v1/tenants/{tenant_id}/dead-letters", REPLAY, "Deliveries that exhausted their attempts")
            .scope(Scope::DeliveriesRead)
            .delivery_filters()
            .answers(200, Some(schema::<Page<DeliveryOut>>))
            .to(dead_letters),
        Op::post("/api/v1/tenants/{tenant_id}/dead-letters/{id}/replay", REPLAY, "Replay a dead letter")
            .alias("/api/v1/admin/dead-letters/{id}/replay")
            .scope(Scope::DeliveriesReplay)
            .answers(201, Some(schema::<DeliveryOut>))
            .to(replay_dead_letter),
        Op::get(
            "/api/v1/event-types",
            "Events",
            "The event-type catalogue: built-in, operational, and the types the key's tenant has published",
        )
        .answers(200, Some(schema::<EventTypesOut>))
        .to(event_types),
    ]
}

async fn replay(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<DeliveryId>,
) -> Result<(StatusCode, Json<DeliveryOut>)> {
    Ok((StatusCode::CREATED, Json(s.hub.replay_delivery(&who, &tenant_id, &id, false).await?)))
}

async fn retry(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<DeliveryId>,
) -> Result<Json<DeliveryOut>> {
    Ok(Json(s.hub.retry_delivery(&who, &tenant_id, &id).await?))
}

async fn replay_dead_letter(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<DeliveryId>,
) -> Result<(StatusCode, Json<DeliveryOut>)> {
    Ok((StatusCode::CREATED, Json(s.hub.replay_delivery(&who, &tenant_id, &id, true).await?)))
}

async fn bulk(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    OptionalJson(input): OptionalJson<BulkReplayIn>,
) -> Result<(StatusCode, Json<BulkReplayOut>)> {
    Ok((StatusCode::ACCEPTED, Json(s.hub.bulk_replay(&who, &tenant_id, input).await?)))
}

async fn dead_letters(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Query(mut q): Query<DeliveryQuery>,
) -> Result<Json<Page<DeliveryOut>>> {
    q.status = Some(DeliveryStatus::DeadLetter.as_str().into());
    Ok(Json(s.hub.list_deliveries(&who, &tenant_id, &q).await?))
}

async fn event_types(State(s): State<AppState>, who: Actor) -> Result<Json<EventTypesOut>> {
    Ok(Json(EventTypesOut { data: s.hub.event_types(&who, None).await? }))
}
