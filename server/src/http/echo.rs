//! The echo inspector's routes: the public receiver, and the list of what it received.

use app::models::{EchoListOut, EchoReceivedOut};
use axum::extract::State;
use axum::http::{HeaderMap, Uri};

use super::route::Route;
use super::route::{schema, Auth, Op};
use super::{AppState, Json, Tenant};
use crate::domain::auth::Actor;
use crate::domain::auth::Scope;
use crate::error::Result;

/// Unauthenticated, like any webhook receiver: the signature is what it checks.

pub fn routes() -> Vec<Route> {
    vec![
        Op::post(
            "/echo/{tenant_id}/{name}",
            "Echo inspector",
            "Receive a webhook: recorded, and its signature checked against the tenant's endpoints that point here",
        )
        .auth(Auth::Public)
        .raw_body()
        .answers(200, Some(schema::<EchoReceivedOut>))
        .to(receive),
        Op::get(
            "/api/v1/tenants/{tenant_id}/echo",
            "Echo inspector",
            "The last 100 requests the echo inspector received, and a URL to point an endpoint at",
        )
        .scope(Scope::WebhooksRead)
        .answers(200, Some(schema::<EchoListOut>))
        .to(list),
    ]
}

async fn receive(
    State(s): State<AppState>,
    Tenant(tenant_id): Tenant,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<EchoReceivedOut>> {
    let signature_verified = s.hub.receive_echo(&tenant_id, uri.path(), &headers, &body).await?;
    Ok(Json(EchoReceivedOut { received: true, signature_verified }))
}

async fn list(State(s): State<AppState>, who: Actor, Tenant(tenant_id): Tenant) -> Result<Json<EchoListOut>> {
    let data = s.hub.echo_requests(&who, &tenant_id).await?;
    Ok(Json(EchoListOut { data, url: s.hub.new_echo_url(&tenant_id) }))
}
