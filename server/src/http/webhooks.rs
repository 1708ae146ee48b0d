use app::models::{
    DeliveryOut, DeliveryWithAttempts, Page, RotateSecretIn, SecretOut, TestSendIn, WebhookIn, WebhookOut, WebhookPatch,
};
use axum::extract::State;
use axum::http::StatusCode;

use super::route::Route;
use super::route::{schema, Op};
use super::{AppState, Caller, Json, OptionalJson, PageQuery, Path, Query};
use crate::domain::auth::Scope;
use crate::domain::deliveries::DeliveryQuery;
use crate::error::Result;

pub fn routes() -> Vec<Route> {
    const HOOKS: &str = "Webhooks";
    vec![
        Op::post("/api/v1/tenants/{tenant_id}/webhooks", HOOKS, "Create an endpoint")
            .scope(Scope::WebhooksWrite)
            .body(schema::<WebhookIn>)
            .answers(201, Some(schema::<WebhookOut>))
            .to(create),
        Op::get("/api/v1/tenants/{tenant_id}/webhooks", HOOKS, "List endpoints")
            .scope(Scope::WebhooksRead)
            .paged()
            .answers(200, Some(schema::<Page<WebhookOut>>))
            .to(list),
        Op::get("/api/v1/tenants/{tenant_id}/webhooks/{id}", HOOKS, "One endpoint")
            .scope(Scope::WebhooksRead)
            .answers(200, Some(schema::<WebhookOut>))
            .to(one),
        Op::patch("/api/v1/tenants/{tenant_id}/webhooks/{id}", HOOKS, "Update an endpoint (only the fields given)")
            .scope(Scope::WebhooksWrite)
            .body(schema::<WebhookPatch>)
            .answers(200, Some(schema::<WebhookOut>))
            .to(patch),
        Op::delete("/api/v1/tenants/{tenant_id}/webhooks/{id}", HOOKS, "Delete an endpoint (soft: its history stays)")
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
        Op::post(
            "/api/v1/tenants/{tenant_id}/webhooks/{id}/test",
            HOOKS,
            "Send a test event now; answers with the delivery and its attempt",
        )
        .scope(Scope::WebhooksWrite)
        .optional_body(schema::<TestSendIn>)
        .answers(200, Some(schema::<DeliveryWithAttempts>))
        .to(test_send),
        Op::get("/api/v1/tenants/{tenant_id}/webhooks/{id}/deliveries", HOOKS, "The endpoint's deliveries")
            .scope(Scope::DeliveriesRead)
            .paged()
            .answers(200, Some(schema::<Page<DeliveryOut>>))
            .to(deliveries),
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
