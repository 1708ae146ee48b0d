use app::models::{AttemptOut, EventAccepted, EventId, EventIn, EventOut, LeadIn, LeadUpdateIn, Page};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;

use super::route::Route;
use super::route::{schema, Op};
use super::{AppState, Id, Json, Tenant};
use crate::domain::auth::{Actor, Scope};
use crate::error::Result;

async fn publish(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Json(input): Json<EventIn>,
) -> Result<(StatusCode, Json<EventAccepted>)> {
    let accepted = s.hub.publish_event(&who, &tenant_id, input).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

async fn publish_lead(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Json(lead): Json<LeadIn>,
) -> Result<(StatusCode, Json<EventAccepted>)> {
    Ok((StatusCode::ACCEPTED, Json(s.hub.publish_lead(&who, &tenant_id, lead).await?)))
}

async fn publish_lead_update(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Json(update): Json<LeadUpdateIn>,
) -> Result<(StatusCode, Json<EventAccepted>)> {
    Ok((StatusCode::ACCEPTED, Json(s.hub.publish_lead_update(&who, &tenant_id, update).await?)))
}

async fn one(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<EventId>,
) -> Result<Json<EventOut>> {
    Ok(Json(s.hub.get_event(&who, &tenant_id, &id).await?))
}

pub fn routes() -> Vec<Route> {
    vec![
        Op::post(
            "/api/v1/tenants/{tenant_id}/events",
            "Events",
            "Publish an event: stored with one delivery per subscribed endpoint, in one transaction",
        )
        .alias("/api/v1/events")
        .scope(Scope::EventsPublish)
        .body(schema::<EventIn>)
        .answers(202, Some(schema::<EventAccepted>))
        .to(publish)
        // The payload limit itself is checked after parsing (IH_MAX_PAYLOAD_BYTES, 413); this
        // only stops absurd bodies before they are read into memory.
        .layer(DefaultBodyLimit::max(16 << 20)),
        Op::post(
            "/api/v1/tenants/{tenant_id}/events/leads",
            "Events",
            "Publish a lead as `new_lead`: the body is the lead itself",
        )
        .alias("/api/v1/events/leads")
        .scope(Scope::EventsPublish)
        .body(schema::<LeadIn>)
        .answers(202, Some(schema::<EventAccepted>))
        .to(publish_lead),
        Op::post(
            "/api/v1/tenants/{tenant_id}/events/leads/updates",
            "Events",
            "Publish a change to a lead as `lead_update`: the lead and its `changes`",
        )
        .alias("/api/v1/events/leads/updates")
        .scope(Scope::EventsPublish)
        .body(schema::<LeadUpdateIn>)
        .answers(202, Some(schema::<EventAccepted>))
        .to(publish_lead_update),
        Op::get("/api/v1/tenants/{tenant_id}/events/{id}", "Events", "The event with its deliveries")
            .scope(Scope::DeliveriesRead)
            .answers(200, Some(schema::<EventOut>))
            .to(one),
        Op::get(
            "/api/v1/tenants/{tenant_id}/events/{id}/attempts",
            "Events",
            "Every attempt of every delivery of the event",
        )
        .alias("/api/v1/admin/events/{id}/attempts")
        .scope(Scope::DeliveriesRead)
        .answers(200, Some(schema::<Page<AttemptOut>>))
        .to(attempts),
    ]
}

async fn attempts(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<EventId>,
) -> Result<Json<Page<AttemptOut>>> {
    let data = s.hub.event_attempts(&who, &tenant_id, &id).await?;
    Ok(Json(Page { data, next_cursor: None }))
}
