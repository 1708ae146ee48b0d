//! The REST API: one module per area, each with its `router()`, merged here.

mod audit;
mod auth;
mod caller;
mod connectors;
mod cors;
mod deliveries;
mod echo;
mod event_types;
mod events;
pub mod idempotency;

mod keys;
pub mod openapi;
mod replay;
pub mod route;
mod system;
mod tenants;
mod webhooks;

use axum::body::{Body, Bytes};
use axum::response::Response;
use axum::Router;

pub use crate::client::{client_ip, over_https};
pub use crate::input::{Json, OptionalJson, PageQuery, Path, Query};
pub use crate::state::AppState;
pub use auth::Authenticate;
pub use caller::{Id, Name, Tenant, OWN_TENANT};

use crate::domain::Hub;
use crate::error::Error;

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => json_bytes(body.into()),
            Err(e) => Error::Internal(format!("the answer did not serialise: {e}")).into_response(),
        }
    }
}

/// Room for the headers of an authenticated JSON answer: content-type, the content-length axum
/// adds, and the five rate-limit headers. A `HeaderMap` first allocates for 6 and would otherwise
/// grow (allocate again and re-hash) on every authenticated answer.
const ANSWER_HEADERS: usize = 7;

/// A JSON answer (also of JSON serialised beforehand).
pub fn json_bytes(body: Bytes) -> Response {
    let mut headers = http::HeaderMap::with_capacity(ANSWER_HEADERS);
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    let mut response = Response::new(Body::from(body));
    *response.headers_mut() = headers;
    response
}

/// Every route of the REST API, area by area.
pub fn table() -> Vec<route::Route> {
    [
        system::routes(),
        openapi::routes(),
        tenants::routes(),
        keys::routes(),
        webhooks::routes(),
        events::routes(),
        event_types::routes(),
        deliveries::routes(),
        replay::routes(),
        echo::routes(),
        audit::routes(),
        connectors::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every documented operation: the route table's.
pub fn operations() -> Vec<route::Op> {
    table().into_iter().flat_map(|route| route.op.at_each_path()).collect()
}

/// The OpenAPI document of the route table.
pub fn openapi_document() -> serde_json::Value {
    openapi::document(operations())
}

/// The REST routes, from the route table. Those under `/api/v1/` are authenticated by
/// [`authenticate`], which wraps the finished router.
pub fn api_router() -> Router<AppState> {
    route::router(table()).method_not_allowed_fallback(method_not_allowed)
}

/// A path that exists but does not take this method: a problem like every other error (axum's
/// own answer is an empty body); axum still sets `Allow`.
async fn method_not_allowed(method: http::Method) -> Error {
    Error::MethodNotAllowed(format!("this path does not take {method}; the Allow header lists what it takes"))
}

/// The whole router behind the layer that authenticates, rate-limits and replays idempotent POSTs
/// on `/api/v1/`. It wraps the router rather than the REST routes (`Router::layer`) because axum
/// boxes a layered route once more on every request: measured with bench/auth-instructions.sh,
/// that was 1,487 instructions of each authenticated request.
pub fn authenticate(router: Router, hub: Hub) -> Authenticate<Router> {
    tower::Layer::layer(&auth::AuthLayer(hub), router)
}

/// What the hub serves: the authenticated router, behind CORS for the REST API when
/// `IH_CORS_ALLOWED_ORIGINS` is set (otherwise nothing more per request than before).
pub type Service = tower::util::Either<cors::ApiCors<Authenticate<Router>>, Authenticate<Router>>;

pub fn service(router: Router, hub: Hub) -> Service {
    let origins = hub.config.cors_allowed_origins.clone();
    let authenticated = authenticate(router, hub);
    match origins {
        Some(origins) => tower::util::Either::Left(cors::ApiCors::new(authenticated, &origins)),
        None => tower::util::Either::Right(authenticated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_operation_is_declared_twice() {
        let mut seen = std::collections::HashSet::new();
        for op in operations() {
            assert!(seen.insert((op.method, op.path)), "{} {} declared twice (aliases included)", op.method, op.path);
        }
    }

    #[test]
    fn a_json_answer_has_room_for_the_headers_authentication_adds() {
        let response = json_bytes(Bytes::from_static(b"{}"));
        assert_eq!(response.headers()["content-type"], "application/json");
        // content-type, content-length and the five rate-limit headers, without growing.
        assert!(response.headers().capacity() >= ANSWER_HEADERS, "{}", response.headers().capacity());
    }
}
