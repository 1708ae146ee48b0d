use app::models::{
    DeliveryOut, DeliveryWithAttempts, Page, RotateSecretIn, SecretOut, TestSendIn, WebhookIn, WebhookOut, WebhookPatch,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;

use super::openapi::{schema, Op};
use super::{AppState, Caller, Json, OptionalJson, PageQuery, Path, Query};
use crate::domain::deliveries::DeliveryQuery;
use crate::error::Result;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tenants/{tenant_id}/webhooks", get(list).post(create))
        .route("/api/v1/tenants/{tenant_id}/webhooks/{id}", get(one).patch(patch).delete(remove))
        .route("/api/v1/tenants/{tenant_id}/webhooks/{id}/rotate-secret", post(rotate_secret))
        .route("/api/v1/tenants/{tenant_id}/webhooks/{id}/test", post(test_send))
        .route("/api/v1/tenants/{tenant_id}/webhooks/{id}/secret", get(secret))
        .route("/api/v1/tenants/{tenant_id}/webhooks/{id}/deliveries", get(deliveries))
}

pub fn operations() -> Vec<Op> {
    const HOOKS: &str = "Webhooks";
    vec![
        Op::post("/api/v1/tenants/{tenant_id}/webhooks", HOOKS, "Create an endpoint")
            .scope("webhooks:write")
            .body(schema::<WebhookIn>)
            .answers(201, Some(schema::<WebhookOut>)),
        Op::get("/api/v1/tenants/{tenant_id}/webhooks", HOOKS, "List endpoints")
            .scope("webhooks:read")
            .paged()
            .answers(200, Some(schema::<Page<WebhookOut>>)),
        Op::get("/api/v1/tenants/{tenant_id}/webhooks/{id}", HOOKS, "One endpoint")
            .scope("webhooks:read")
            .answers(200, Some(schema::<WebhookOut>)),
        Op::patch("/api/v1/tenants/{tenant_id}/webhooks/{id}", HOOKS, "Update an endpoint (only the fields given)")
            .scope("webhooks:write")
            .body(schema::<WebhookPatch>)
            .answers(200, Some(schema::<WebhookOut>)),
        Op::delete("/api/v1/tenants/{tenant_id}/webhooks/{id}", HOOKS, "Delete an endpoint (soft: its history stays)")
            .scope("webhooks:write")
            .answers(204, None),
        Op::get("/api/v1/tenants/{tenant_id}/webhooks/{id}/secret", HOOKS, "The signing secret")
            .scope("webhooks:write")
            .answers(200, Some(schema::<SecretOut>)),
        Op::post(
            "/api/v1/tenants/{tenant_id}/webhooks/{id}/rotate-secret",
            HOOKS,
            "A new signing secret; both sign during the grace period",
        )
        .scope("webhooks:write")
        .optional_body(schema::<RotateSecretIn>)
        .answers(200, Some(schema::<SecretOut>)),
        Op::post(
            "/api/v1/tenants/{tenant_id}/webhooks/{id}/test",
            HOOKS,
            "Send a test event now; answers with the delivery and its attempt",
        )
        .scope("webhooks:write")
        .optional_body(schema::<TestSendIn>)
        .answers(200, Some(schema::<DeliveryWithAttempts>)),
        Op::get("/api/v1/tenants/{tenant_id}/webhooks/{id}/deliveries", HOOKS, "The endpoint's deliveries")
            .scope("deliveries:read")
            .paged()
            .answers(200, Some(schema::<Page<DeliveryOut>>)),
    ]
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Path(tenant_id): Path<String>,
    Json(input): Json<WebhookIn>,
) -> Result<(StatusCode, Json<WebhookOut>)> {
    let webhook = s.hub.create_webhook(&caller.principal, &tenant_id, input, caller.source_ip()).await?;
    Ok((StatusCode::CREATED, Json(webhook)))
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Path(tenant_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Page<WebhookOut>>> {
    Ok(Json(s.hub.list_webhooks(&caller.principal, &tenant_id, q.cursor.as_deref(), q.limit).await?))
}

async fn one(
    State(s): State<AppState>,
    caller: Caller,
    Path((tenant_id, id)): Path<(String, String)>,
) -> Result<Json<WebhookOut>> {
    Ok(Json(s.hub.get_webhook(&caller.principal, &tenant_id, &id).await?))
}

async fn patch(
    State(s): State<AppState>,
    caller: Caller,
    Path((tenant_id, id)): Path<(String, String)>,
    Json(input): Json<WebhookPatch>,
) -> Result<Json<WebhookOut>> {
    Ok(Json(s.hub.patch_webhook(&caller.principal, &tenant_id, &id, input, caller.source_ip()).await?))
}

async fn rotate_secret(
    State(s): State<AppState>,
    caller: Caller,
    Path((tenant_id, id)): Path<(String, String)>,
    OptionalJson(input): OptionalJson<RotateSecretIn>,
) -> Result<Json<SecretOut>> {
    let secret = s.hub.rotate_webhook_secret(&caller.principal, &tenant_id, &id, input, caller.source_ip()).await?;
    Ok(Json(SecretOut { secret }))
}

/// Sends a sample event to this endpoint now and answers with the delivery and its attempt.
async fn test_send(
    State(s): State<AppState>,
    caller: Caller,
    Path((tenant_id, id)): Path<(String, String)>,
    OptionalJson(input): OptionalJson<TestSendIn>,
) -> Result<Json<DeliveryWithAttempts>> {
    Ok(Json(s.worker.test_send(&caller.principal, &tenant_id, &id, input).await?))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path((tenant_id, id)): Path<(String, String)>,
) -> Result<StatusCode> {
    s.hub.delete_webhook(&caller.principal, &tenant_id, &id, caller.source_ip()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn secret(
    State(s): State<AppState>,
    caller: Caller,
    Path((tenant_id, id)): Path<(String, String)>,
) -> Result<Json<SecretOut>> {
    let secret = s.hub.webhook_secret(&caller.principal, &tenant_id, &id).await?;
    Ok(Json(SecretOut { secret }))
}

async fn deliveries(
    State(s): State<AppState>,
    caller: Caller,
    Path((tenant_id, id)): Path<(String, String)>,
    Query(mut q): Query<DeliveryQuery>,
) -> Result<Json<Page<DeliveryOut>>> {
    s.hub.get_webhook(&caller.principal, &tenant_id, &id).await?;
    q.webhook_id = Some(id);
    Ok(Json(s.hub.list_deliveries(&caller.principal, &tenant_id, &q).await?))
}
