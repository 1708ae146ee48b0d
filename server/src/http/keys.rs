use axum::extract::State;
use axum::http::StatusCode;

use app::models::{ApiKeyCreated, ApiKeyIn, ApiKeyOut, ApiKeyPatch, Page, RotateIn, RotationScheduleIn, UsageOut};

use super::route::Route;
use super::route::{schema, Op};
use super::{AppState, Id, Json, OptionalJson, PageQuery, Query, Tenant};
use crate::domain::auth::Actor;
use crate::domain::auth::Scope;
use crate::error::Result;
use app::models::ApiKeyId;

pub fn routes() -> Vec<Route> {
    const KEYS: &str = "API keys";
    vec![
        Op::post(
            "/api/v1/tenants/{tenant_id}/api-keys",
            KEYS,
            "Create a key; the plaintext `key` is in this answer only",
        )
        .alias("/api/v1/keys")
        .alias("/api/v1/api-keys")
        .alias("/api/v1/integration/api-keys")
        .scope(Scope::KeysWrite)
        .body(schema::<ApiKeyIn>)
        .answers(201, Some(schema::<ApiKeyCreated>))
        .to(create),
        Op::get("/api/v1/tenants/{tenant_id}/api-keys", KEYS, "List keys (never the key or its hash)")
            .alias("/api/v1/keys")
            .alias("/api/v1/api-keys")
            .alias("/api/v1/integration/api-keys")
            .scope(Scope::KeysRead)
            .paged()
            .answers(200, Some(schema::<Page<ApiKeyOut>>))
            .to(list),
        Op::get("/api/v1/tenants/{tenant_id}/api-keys/{id}", KEYS, "One key, with its status and last use")
            .alias("/api/v1/keys/{id}")
            .alias("/api/v1/api-keys/{id}")
            .alias("/api/v1/integration/api-keys/{id}")
            .scope(Scope::KeysRead)
            .answers(200, Some(schema::<ApiKeyOut>))
            .to(one),
        Op::patch(
            "/api/v1/tenants/{tenant_id}/api-keys/{id}",
            KEYS,
            "Change a key's name, access, rate limit, allowed IPs or expiry (only the fields given; never the key)",
        )
        .alias("/api/v1/keys/{id}")
        .alias("/api/v1/api-keys/{id}")
        .scope(Scope::KeysWrite)
        .body(schema::<ApiKeyPatch>)
        .refuses(409, "the key is revoked or expired, or is rotated and the change moves its expiry")
        .answers(200, Some(schema::<ApiKeyOut>))
        .to(patch),
        Op::post(
            "/api/v1/tenants/{tenant_id}/api-keys/{id}/rotate",
            KEYS,
            "Rotate: a new key; the old one works until the grace period ends",
        )
        .scope(Scope::KeysWrite)
        .optional_body(schema::<RotateIn>)
        .refuses(409, "the key is not active (revoked, expired or already rotated)")
        .answers(201, Some(schema::<ApiKeyCreated>))
        .to(rotate),
        Op::post(
            "/api/v1/tenants/{tenant_id}/api-keys/{id}/revoke",
            KEYS,
            "Revoke: the key fails at once, on every instance within 1 s",
        )
        .alias_as("delete", "/api/v1/keys/{id}")
        .alias_as("delete", "/api/v1/api-keys/{id}")
        .alias("/api/v1/integration/api-keys/{id}/revoke")
        .scope(Scope::KeysWrite)
        .answers(200, Some(schema::<ApiKeyOut>))
        .to(revoke),
        Op::delete("/api/v1/tenants/{tenant_id}/api-keys/{id}", KEYS, "Delete (revokes and hides the key)")
            .scope(Scope::KeysWrite)
            .answers(204, None)
            .to(remove),
        Op::put(
            "/api/v1/tenants/{tenant_id}/api-keys/{id}/rotation-schedule",
            KEYS,
            "Remind the owner to rotate the key every N days (api_key.rotation_due); the successor keeps it",
        )
        .scope(Scope::KeysWrite)
        .body(schema::<RotationScheduleIn>)
        .refuses(409, "the key is revoked")
        .answers(200, Some(schema::<ApiKeyOut>))
        .to(schedule_rotation),
        Op::delete("/api/v1/tenants/{tenant_id}/api-keys/{id}/rotation-schedule", KEYS, "Stop the rotation reminders")
            .scope(Scope::KeysWrite)
            .refuses(409, "the key is revoked")
            .answers(200, Some(schema::<ApiKeyOut>))
            .to(unschedule_rotation),
        Op::get("/api/v1/tenants/{tenant_id}/api-keys/{id}/usage", KEYS, "Requests per hour by outcome")
            .scope(Scope::KeysRead)
            .answers(200, Some(schema::<UsageOut>))
            .to(usage),
    ]
}

async fn create(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Json(input): Json<ApiKeyIn>,
) -> Result<(StatusCode, Json<ApiKeyCreated>)> {
    Ok((StatusCode::CREATED, Json(s.hub.create_key(&who, &tenant_id, input).await?)))
}

async fn list(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Query(q): Query<PageQuery>,
) -> Result<Json<Page<ApiKeyOut>>> {
    Ok(Json(s.hub.list_keys(&who, &tenant_id, q.cursor.as_deref(), q.limit).await?))
}

async fn one(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<ApiKeyId>,
) -> Result<Json<ApiKeyOut>> {
    Ok(Json(s.hub.get_key(&who, &tenant_id, &id).await?))
}

async fn patch(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<ApiKeyId>,
    Json(input): Json<ApiKeyPatch>,
) -> Result<Json<ApiKeyOut>> {
    Ok(Json(s.hub.update_key(&who, &tenant_id, &id, input).await?))
}

async fn rotate(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<ApiKeyId>,
    OptionalJson(input): OptionalJson<RotateIn>,
) -> Result<(StatusCode, Json<ApiKeyCreated>)> {
    Ok((StatusCode::CREATED, Json(s.hub.rotate_key(&who, &tenant_id, &id, input).await?)))
}

async fn schedule_rotation(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<ApiKeyId>,
    Json(input): Json<RotationScheduleIn>,
) -> Result<Json<ApiKeyOut>> {
    Ok(Json(s.hub.schedule_key_rotation(&who, &tenant_id, &id, Some(input)).await?))
}

async fn unschedule_rotation(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<ApiKeyId>,
) -> Result<Json<ApiKeyOut>> {
    Ok(Json(s.hub.schedule_key_rotation(&who, &tenant_id, &id, None).await?))
}

async fn revoke(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<ApiKeyId>,
) -> Result<Json<ApiKeyOut>> {
    Ok(Json(s.hub.revoke_key(&who, &tenant_id, &id).await?))
}

async fn remove(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<ApiKeyId>,
) -> Result<StatusCode> {
    s.hub.delete_key(&who, &tenant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn usage(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<ApiKeyId>,
) -> Result<Json<UsageOut>> {
    Ok(Json(s.hub.key_usage(&who, &tenant_id, &id).await?))
}
