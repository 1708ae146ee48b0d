//! Dead letters, replay (one, bulk) and the seed's integrator routes, whose tenant is the key's.

use app::models::{
    AttemptOut, BulkReplayIn, BulkReplayOut, DeliveryOut, EventAccepted, EventIn, EventTypesOut, Page, WebhookIn,
    WebhookOut,
};
use axum::extract::State;
use axum::http::StatusCode;

use super::route::Route;
use super::route::{schema, Op};
use super::{AppState, Caller, Json, OptionalJson, Path, Query};
use crate::domain::auth::Scope;
use crate::domain::deliveries::DeliveryQuery;
use crate::error::{Error, Result};

pub fn routes() -> Vec<Route> {
    const REPLAY: &str = "Deliveries";
    const SEED: &str = "Integrator routes (tenant from the key)";
    const OWN_TENANT: &str = "the operator token: these routes take the tenant from an API key";
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
        Op::post("/api/v1/subscriptions", SEED, "Create an endpoint")
            .scope(Scope::WebhooksWrite)
            .body(schema::<WebhookIn>)
            .answers(201, Some(schema::<WebhookOut>))
            .refuses(400, OWN_TENANT)
            .to(subscribe),
        Op::post("/api/v1/events", SEED, "Publish an event")
            .scope(Scope::EventsPublish)
            .body(schema::<EventIn>)
            .answers(202, Some(schema::<EventAccepted>))
            .refuses(400, OWN_TENANT)
            .to(publish),
        Op::get("/api/v1/admin/events/{event_id}/attempts", SEED, "Every attempt of an event's deliveries")
            .scope(Scope::DeliveriesRead)
            .answers(200, Some(schema::<Page<AttemptOut>>))
            .refuses(400, OWN_TENANT)
            .to(attempts),
        Op::post("/api/v1/admin/dead-letters/{id}/replay", SEED, "Replay a dead letter")
            .scope(Scope::DeliveriesReplay)
            .answers(201, Some(schema::<DeliveryOut>))
            .refuses(400, OWN_TENANT)
            .to(admin_replay),
    ]
}

/// The tenant of the calling key; the operator must use the tenant-scoped routes.
fn own_tenant(caller: &Caller) -> Result<String> {
    caller.principal.tenant_id().map(str::to_string).ok_or_else(|| {
        Error::BadRequest(
            "this route takes the tenant from an API key; the operator token must use /api/v1/tenants/{tenant_id}/…"
                .into(),
        )
    })
}

async fn replay(
    State(s): State<AppState>,
    caller: Caller,
    Path((tenant_id, id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<DeliveryOut>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.hub.replay_delivery(&caller.principal, &tenant_id, &id, false, caller.source_ip()).await?),
    ))
}

async fn retry(
    State(s): State<AppState>,
    caller: Caller,
    Path((tenant_id, id)): Path<(String, String)>,
) -> Result<Json<DeliveryOut>> {
    Ok(Json(s.hub.retry_delivery(&caller.principal, &tenant_id, &id, caller.source_ip()).await?))
}

async fn replay_dead_letter(
    State(s): State<AppState>,
    caller: Caller,
    Path((tenant_id, id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<DeliveryOut>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.hub.replay_delivery(&caller.principal, &tenant_id, &id, true, caller.source_ip()).await?),
    ))
}

async fn bulk(
    State(s): State<AppState>,
    caller: Caller,
    Path(tenant_id): Path<String>,
    OptionalJson(input): OptionalJson<BulkReplayIn>,
) -> Result<(StatusCode, Json<BulkReplayOut>)> {
    Ok((StatusCode::ACCEPTED, Json(s.hub.bulk_replay(&caller.principal, &tenant_id, input, caller.source_ip()).await?)))
}

async fn dead_letters(
    State(s): State<AppState>,
    caller: Caller,
    Path(tenant_id): Path<String>,
    Query(mut q): Query<DeliveryQuery>,
) -> Result<Json<Page<DeliveryOut>>> {
    q.status = Some("dead_letter".into());
    Ok(Json(s.hub.list_deliveries(&caller.principal, &tenant_id, &q).await?))
}

async fn subscribe(
    State(s): State<AppState>,
    caller: Caller,
    Json(input): Json<WebhookIn>,
) -> Result<(StatusCode, Json<WebhookOut>)> {
    let tenant_id = own_tenant(&caller)?;
    Ok((
        StatusCode::CREATED,
        Json(s.hub.create_webhook(&caller.principal, &tenant_id, input, caller.source_ip()).await?),
    ))
}

async fn publish(
    State(s): State<AppState>,
    caller: Caller,
    Json(input): Json<EventIn>,
) -> Result<(StatusCode, Json<EventAccepted>)> {
    let tenant_id = own_tenant(&caller)?;
    Ok((StatusCode::ACCEPTED, Json(s.hub.publish_event(&caller.principal, &tenant_id, input).await?)))
}

async fn attempts(
    State(s): State<AppState>,
    caller: Caller,
    Path(event_id): Path<String>,
) -> Result<Json<Page<AttemptOut>>> {
    let tenant_id = own_tenant(&caller)?;
    let data = s.hub.event_attempts(&caller.principal, &tenant_id, &event_id).await?;
    Ok(Json(Page { data, next_cursor: None }))
}

async fn admin_replay(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<DeliveryOut>)> {
    let tenant_id = own_tenant(&caller)?;
    Ok((
        StatusCode::CREATED,
        Json(s.hub.replay_delivery(&caller.principal, &tenant_id, &id, true, caller.source_ip()).await?),
    ))
}

async fn event_types(State(s): State<AppState>, caller: Caller) -> Result<Json<EventTypesOut>> {
    Ok(Json(EventTypesOut { data: s.hub.event_types(&caller.principal, None).await? }))
}
