use app::models::{DeliveryWithAttempts, SlackConnectorIn, SlackConnectorOut, TestSendIn};
use axum::extract::State;
use axum::http::StatusCode;

use super::route::Route;
use super::route::{schema, Op};
use super::{AppState, Json, OptionalJson, Tenant};
use crate::domain::auth::Actor;
use crate::domain::auth::Scope;
use crate::error::Result;

pub fn routes() -> Vec<Route> {
    const SLACK: &str = "Slack connector";
    const PATH: &str = "/api/v1/tenants/{tenant_id}/connectors/slack";
    vec![
        Op::get(PATH, SLACK, "The tenant's Slack connector (404 when it has none)")
            .scope(Scope::WebhooksRead)
            .answers(200, Some(schema::<SlackConnectorOut>))
            .to(one),
        Op::put(PATH, SLACK, "Create (201) or change (200) the Slack connector; fields left out keep their value")
            .scope(Scope::WebhooksWrite)
            .body(schema::<SlackConnectorIn>)
            .answers(201, Some(schema::<SlackConnectorOut>))
            .or(200)
            .to(put),
        Op::delete(PATH, SLACK, "Remove the Slack connector (its deliveries stay)")
            .scope(Scope::WebhooksWrite)
            .answers(204, None)
            .to(remove),
        Op::post(
            "/api/v1/tenants/{tenant_id}/connectors/slack/test",
            SLACK,
            "Post a test message now; answers with the delivery and its attempt",
        )
        .scope(Scope::WebhooksWrite)
        .optional_body(schema::<TestSendIn>)
        .answers(200, Some(schema::<DeliveryWithAttempts>))
        .to(test_message),
    ]
}

async fn one(State(s): State<AppState>, who: Actor, Tenant(tenant_id): Tenant) -> Result<Json<SlackConnectorOut>> {
    Ok(Json(s.hub.slack_connector(&who, &tenant_id).await?))
}

async fn put(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Json(input): Json<SlackConnectorIn>,
) -> Result<(StatusCode, Json<SlackConnectorOut>)> {
    let (connector, created) = s.hub.put_slack_connector(&who, &tenant_id, input).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(connector)))
}

async fn remove(State(s): State<AppState>, who: Actor, Tenant(tenant_id): Tenant) -> Result<StatusCode> {
    s.hub.delete_slack_connector(&who, &tenant_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Posts a sample event (a `request_submitted` unless another type is given) through the connector now.
async fn test_message(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    OptionalJson(input): OptionalJson<TestSendIn>,
) -> Result<Json<DeliveryWithAttempts>> {
    Ok(Json(s.worker.slack_test(&who, &tenant_id, input).await?))
}
