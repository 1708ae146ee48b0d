use app::models::{
    DeliveryOut, DeliveryWithAttempts, MaintenanceIn, Page, PauseIn, RotateSecretIn, RotationScheduleIn, SecretOut,
    TestSendIn, WebhookIn, WebhookOut, WebhookPatch,
};
use axum::extract::State;
use axum::http::StatusCode;

use super::route::Route;
use super::route::{schema, Op};
use super::{AppState, Id, Json, OptionalJson, PageQuery, Query, Tenant};
use crate::domain::auth::Actor;
use crate::domain::auth::Scope;
use crate::domain::deliveries::DeliveryQuery;
use crate::error::Result;
use app::models::WebhookId;

pub fn routes() -> Vec<Route> {
    const HOOKS: &str = "Webhooks";
    vec![
        Op::post("/api/v1/tenants/{tenant_id}/webhooks", HOOKS, "Create an endpoint")
            .alias("/api/v1/subscriptions")
            .alias("/api/v1/webhooks")
            .alias("/api/v1/integration/webhooks")
            .scope(Scope::WebhooksWrite)
            .body(schema::<WebhookIn>)
            .answers(201, Some(schema::<WebhookOut>))
            .to(create),
        Op::get("/api/v1/tenants/{tenant_id}/webhooks", HOOKS, "List endpoints")
            .alias("/api/v1/webhooks")
            .alias("/api/v1/integration/webhooks")
            .scope(Scope::WebhooksRead)
            .paged()
            .answers(200, Some(schema::<Page<WebhookOut>>))
            .to(list),
        Op::get("/api/v1/tenants/{tenant_id}/webhooks/{id}", HOOKS, "One endpoint")
            .alias("/api/v1/webhooks/{id}")
            .alias("/api/v1/integration/webhooks/{id}")
            .scope(Scope::WebhooksRead)
            .answers(200, Some(schema::<WebhookOut>))
            .to(one),
        Op::put(
            "/api/v1/tenants/{tenant_id}/webhooks/{id}",
            HOOKS,
            "Replace an endpoint: what the body leaves out returns to its default (the secret stays unless given)",
        )
        .alias("/api/v1/webhooks/{id}")
        .alias("/api/v1/integration/webhooks/{id}")
        .scope(Scope::WebhooksWrite)
        .body(schema::<WebhookIn>)
        .answers(200, Some(schema::<WebhookOut>))
        .to(replace),
        Op::patch("/api/v1/tenants/{tenant_id}/webhooks/{id}", HOOKS, "Update an endpoint (only the fields given)")
            .alias("/api/v1/webhooks/{id}")
            .scope(Scope::WebhooksWrite)
            .body(schema::<WebhookPatch>)
            .answers(200, Some(schema::<WebhookOut>))
            .to(patch),
        Op::delete("/api/v1/tenants/{tenant_id}/webhooks/{id}", HOOKS, "Delete an endpoint (soft: its history stays)")
            .alias("/api/v1/webhooks/{id}")
            .alias("/api/v1/integration/webhooks/{id}")
            .scope(Scope::WebhooksWrite)
            .answers(204, None)
            .to(remove),
        Op::get("/api/v1/tenants/{tenant_id}/webhooks/{id}/secret", HOOKS, "The signing secret")
            .scope(Scope::WebhooksWrite)
            .answers(200, Some(schema::<SecretOut>))
            .to(secret),
        Op::post(
            "/api/v1/tenants/{tenant_id}/webhooks/{id}/rotate-secret",
            HOOKS,
            "A new signing secret; both sign during the grace period",
        )
        .scope(Scope::WebhooksWrite)
        .optional_body(schema::<RotateSecretIn>)
        .answers(200, Some(schema::<SecretOut>))
        .to(rotate_secret),
        Op::put(
            "/api/v1/tenants/{tenant_id}/webhooks/{id}/rotation-schedule",
            HOOKS,
            "Rotate the signing secret every N days (webhook.secret_rotated tells subscribers)",
        )
        .scope(Scope::WebhooksWrite)
        .body(schema::<RotationScheduleIn>)
        .answers(200, Some(schema::<WebhookOut>))
        .to(schedule_rotation),
        Op::delete(
            "/api/v1/tenants/{tenant_id}/webhooks/{id}/rotation-schedule",
            HOOKS,
            "Stop rotating the signing secret on schedule",
        )
        .scope(Scope::WebhooksWrite)
        .answers(200, Some(schema::<WebhookOut>))
        .to(unschedule_rotation),
        Op::post(
            "/api/v1/tenants/{tenant_id}/webhooks/{id}/test",
            HOOKS,
            "Send a test event now; answers with the delivery and its attempt",
        )
        .scope(Scope::WebhooksWrite)
        .optional_body(schema::<TestSendIn>)
        .answers(200, Some(schema::<DeliveryWithAttempts>))
        .to(test_send),
        Op::post(
            "/api/v1/tenants/{tenant_id}/webhooks/{id}/pause",
            HOOKS,
            "Pause the endpoint now, until a time or until resumed: its deliveries wait, without attempts",
        )
        .alias("/api/v1/webhooks/{id}/pause")
        .scope(Scope::WebhooksWrite)
        .optional_body(schema::<PauseIn>)
        .answers(200, Some(schema::<WebhookOut>))
        .to(pause),
        Op::post(
            "/api/v1/tenants/{tenant_id}/webhooks/{id}/resume",
            HOOKS,
            "End a pause: the waiting deliveries go out (unless a maintenance window holds them)",
        )
        .alias("/api/v1/webhooks/{id}/resume")
        .scope(Scope::WebhooksWrite)
        .answers(200, Some(schema::<WebhookOut>))
        .to(resume),
        Op::put(
            "/api/v1/tenants/{tenant_id}/webhooks/{id}/maintenance",
            HOOKS,
            "Set the endpoint's maintenance windows (once or weekly), replacing its others",
        )
        .alias("/api/v1/webhooks/{id}/maintenance")
        .scope(Scope::WebhooksWrite)
        .body(schema::<MaintenanceIn>)
        .answers(200, Some(schema::<WebhookOut>))
        .to(maintenance),
        Op::get("/api/v1/tenants/{tenant_id}/webhooks/{id}/deliveries", HOOKS, "The endpoint's deliveries")
            .scope(Scope::DeliveriesRead)
            .paged()
            .answers(200, Some(schema::<Page<DeliveryOut>>))
            .to(deliveries),
    ]
}

async fn create(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Json(input): Json<WebhookIn>,
) -> Result<(StatusCode, Json<WebhookOut>)> {
    let webhook = s.hub.create_webhook(&who, &tenant_id, input).await?;
    Ok((StatusCode::CREATED, Json(webhook)))
}

async fn list(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Query(q): Query<PageQuery>,
) -> Result<Json<Page<WebhookOut>>> {
    Ok(Json(s.hub.list_webhooks(&who, &tenant_id, q.cursor.as_deref(), q.limit).await?))
}

async fn one(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<WebhookId>,
) -> Result<Json<WebhookOut>> {
    Ok(Json(s.hub.get_webhook(&who, &tenant_id, &id).await?))
}

async fn patch(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<WebhookId>,
    Json(input): Json<WebhookPatch>,
) -> Result<Json<WebhookOut>> {
    Ok(Json(s.hub.patch_webhook(&who, &tenant_id, &id, input).await?))
}

async fn replace(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<WebhookId>,
    Json(input): Json<WebhookIn>,
) -> Result<Json<WebhookOut>> {
    Ok(Json(s.hub.replace_webhook(&who, &tenant_id, &id, input).await?))
}

async fn rotate_secret(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<WebhookId>,
    OptionalJson(input): OptionalJson<RotateSecretIn>,
) -> Result<Json<SecretOut>> {
    let secret = s.hub.rotate_webhook_secret(&who, &tenant_id, &id, input).await?;
    Ok(Json(SecretOut { secret }))
}

/// Sends a sample event to this endpoint now and answers with the delivery and its attempt.
async fn test_send(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<WebhookId>,
    OptionalJson(input): OptionalJson<TestSendIn>,
) -> Result<Json<DeliveryWithAttempts>> {
    Ok(Json(s.worker.test_send(&who, &tenant_id, &id, input).await?))
}

async fn schedule_rotation(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<WebhookId>,
    Json(input): Json<RotationScheduleIn>,
) -> Result<Json<WebhookOut>> {
    Ok(Json(s.hub.schedule_secret_rotation(&who, &tenant_id, &id, Some(input)).await?))
}

async fn unschedule_rotation(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<WebhookId>,
) -> Result<Json<WebhookOut>> {
    Ok(Json(s.hub.schedule_secret_rotation(&who, &tenant_id, &id, None).await?))
}

async fn pause(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<WebhookId>,
    OptionalJson(input): OptionalJson<PauseIn>,
) -> Result<Json<WebhookOut>> {
    Ok(Json(s.hub.pause_webhook(&who, &tenant_id, &id, input).await?))
}

async fn resume(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<WebhookId>,
) -> Result<Json<WebhookOut>> {
    Ok(Json(s.hub.resume_webhook(&who, &tenant_id, &id).await?))
}

async fn maintenance(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<WebhookId>,
    Json(input): Json<MaintenanceIn>,
) -> Result<Json<WebhookOut>> {
    Ok(Json(s.hub.set_maintenance(&who, &tenant_id, &id, input).await?))
}

async fn remove(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<WebhookId>,
) -> Result<StatusCode> {
    s.hub.delete_webhook(&who, &tenant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn secret(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<WebhookId>,
) -> Result<Json<SecretOut>> {
    let secret = s.hub.webhook_secret(&who, &tenant_id, &id).await?;
    Ok(Json(SecretOut { secret }))
}

async fn deliveries(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Id(id): Id<WebhookId>,
    Query(mut q): Query<DeliveryQuery>,
) -> Result<Json<Page<DeliveryOut>>> {
    s.hub.get_webhook(&who, &tenant_id, &id).await?;
    q.webhook_id = Some(id.into_string());
    Ok(Json(s.hub.list_deliveries(&who, &tenant_id, &q).await?))
}
