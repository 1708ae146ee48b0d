use app::models::{AttemptOut, EventAccepted, EventIn, EventOut, Page};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;

use super::route::Route;
use super::route::{schema, Op};
use super::{AppState, Caller, Json, Path};
use crate::domain::auth::Scope;
use crate::error::Result;

async fn publish(
    State(s): State<AppState>,
    caller: Caller,
    Path(tenant_id): Path<String>,
    Json(input): Json<EventIn>,
) -> Result<(StatusCode, Json<EventAccepted>)> {
    let accepted = s.hub.publish_event(&caller.principal, &tenant_id, input).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

async fn one(
    State(s): State<AppState>,
    caller: Caller,
    Path((tenant_id, id)): Path<(String, String)>,
) -> Result<Json<EventOut>> {
    Ok(Json(s.hub.get_event(&caller.principal, &tenant_id, &id).await?))
}

pub fn routes() -> Vec<Route> {
    vec![
        Op::post(
            "/api/v1/tenants/{tenant_id}/events",
            "Events",
            "Publish an event: stored with one delivery per subscribed endpoint, in one transaction",
        )
        .scope(Scope::EventsPublish)
        .body(schema::<EventIn>)
        .answers(202, Some(schema::<EventAccepted>))
        .to(publish)
        // The payload limit itself is checked after parsing (IH_MAX_PAYLOAD_BYTES, 413); this
        // only stops absurd bodies before they are read into memory.
        .layer(DefaultBodyLimit::max(16 << 20)),
        Op::get("/api/v1/tenants/{tenant_id}/events/{id}", "Events", "The event with its deliveries")
            .scope(Scope::DeliveriesRead)
            .answers(200, Some(schema::<EventOut>))
            .to(one),
        Op::get(
            "/api/v1/tenants/{tenant_id}/events/{id}/attempts",
            "Events",
            "Every attempt of every delivery of the event",
        )
        .scope(Scope::DeliveriesRead)
        .answers(200, Some(schema::<Page<AttemptOut>>))
        .to(attempts),
    ]
}

async fn attempts(
    State(s): State<AppState>,
    caller: Caller,
    Path((tenant_id, id)): Path<(String, String)>,
) -> Result<Json<Page<AttemptOut>>> {
    let data = s.hub.event_attempts(&caller.principal, &tenant_id, &id).await?;
    Ok(Json(Page { data, next_cursor: None }))
}
