//! The event-type catalogue with schemas (see `domain::event_types`).

use app::models::{EventTypeIn, EventTypeListOut, EventTypeOut, EventTypePatch};
use axum::extract::State;
use axum::http::StatusCode;

use super::route::{schema, Op, Route};
use super::{AppState, Json, Name, Query, Tenant};
use crate::domain::auth::{Actor, Scope};
use crate::error::Result;

pub fn routes() -> Vec<Route> {
    const TYPES: &str = "Event types";
    vec![
        Op::post(
            "/api/v1/tenants/{tenant_id}/event-types",
            TYPES,
            "Register an event type: description, JSON Schema (2020-12) for its data, example, validate on publish",
        )
        .scope(Scope::WebhooksWrite)
        .body(schema::<EventTypeIn>)
        .refuses(409, "the name is a built-in type's or is registered already")
        .answers(201, Some(schema::<EventTypeOut>))
        .to(create),
        Op::get(
            "/api/v1/tenants/{tenant_id}/event-types",
            TYPES,
            "The catalogue: built-in types with their schemas, then the tenant's (archived ones with ?archived=true)",
        )
        .scope(Scope::WebhooksRead)
        .choice("archived", "true lists archived types too", &["true", "false"])
        .answers(200, Some(schema::<EventTypeListOut>))
        .to(list),
        Op::get("/api/v1/tenants/{tenant_id}/event-types/{name}", TYPES, "One event type, archived or not")
            .scope(Scope::WebhooksRead)
            .answers(200, Some(schema::<EventTypeOut>))
            .to(one),
        Op::patch(
            "/api/v1/tenants/{tenant_id}/event-types/{name}",
            TYPES,
            "Change an event type (only the fields given; archived: false restores it); a built-in type: validate only",
        )
        .scope(Scope::WebhooksWrite)
        .body(schema::<EventTypePatch>)
        .refuses(409, "built-in types keep their schema: only validate changes, and not on the hub's own types")
        .answers(200, Some(schema::<EventTypeOut>))
        .to(patch),
        Op::delete(
            "/api/v1/tenants/{tenant_id}/event-types/{name}",
            TYPES,
            "Archive an event type: kept for the events that named it, no longer validated",
        )
        .scope(Scope::WebhooksWrite)
        .refuses(409, "built-in types cannot be archived")
        .answers(204, None)
        .to(archive),
    ]
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub archived: Option<bool>,
}

async fn create(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Json(input): Json<EventTypeIn>,
) -> Result<(StatusCode, Json<EventTypeOut>)> {
    Ok((StatusCode::CREATED, Json(s.hub.create_event_type(&who, &tenant_id, input).await?)))
}

async fn list(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Query(q): Query<ListQuery>,
) -> Result<Json<EventTypeListOut>> {
    let data = s.hub.list_event_types(&who, &tenant_id, q.archived.unwrap_or(false)).await?;
    Ok(Json(EventTypeListOut { data }))
}

async fn one(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Name(name): Name,
) -> Result<Json<EventTypeOut>> {
    Ok(Json(s.hub.get_event_type(&who, &tenant_id, &name).await?))
}

async fn patch(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Name(name): Name,
    Json(input): Json<EventTypePatch>,
) -> Result<Json<EventTypeOut>> {
    Ok(Json(s.hub.patch_event_type(&who, &tenant_id, &name, input).await?))
}

async fn archive(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Name(name): Name,
) -> Result<StatusCode> {
    s.hub.archive_event_type(&who, &tenant_id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
