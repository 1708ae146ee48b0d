//! The REST API: one module per area, each with its `router()`, merged here.

mod audit;
mod auth;
mod connectors;
mod deliveries;
mod echo;
mod events;
mod idempotency;
mod keys;
pub mod openapi;
mod replay;
mod system;
mod tenants;
mod webhooks;

use std::sync::Arc;

use axum::extract::{FromRef, FromRequest};
use axum::Router;
use leptos::config::LeptosOptions;

pub use auth::Caller;

use crate::delivery::Worker;
use crate::domain::Hub;
use crate::error::Error;

/// axum clones it for every handler call, so every field is one `Arc`: the
/// Leptos options alone are a dozen strings, which only the UI's routes need.
#[derive(Clone)]
pub struct AppState {
    pub hub: Hub,
    pub worker: Arc<Worker>,
    pub leptos: Arc<LeptosOptions>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        LeptosOptions::clone(&state.leptos)
    }
}

/// `axum::Json` whose rejections are problem documents (400 bad JSON, 422 wrong shape, 413).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// `?limit=&cursor=` of every list.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub fn api_router(state: &AppState) -> Router<AppState> {
    let authenticated = Router::new()
        .merge(tenants::router())
        .merge(keys::router())
        .merge(webhooks::router())
        .merge(events::router())
        .merge(deliveries::router())
        .merge(replay::router())
        .merge(echo::router())
        .merge(audit::router())
        .merge(connectors::router())
        // Authenticates, rate-limits, and replays idempotent POSTs.
        .layer(auth::AuthLayer(state.hub.clone()));
    Router::new().merge(system::router()).merge(openapi::router()).merge(echo::public_router()).merge(authenticated)
}

/// `Query` with problem-format rejections.
pub struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut http::request::Parts, state: &S) -> Result<Self, Error> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| Error::field("query", e.body_text()))
    }
}

/// A JSON body that may be left out entirely (an empty body means the defaults).
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => Error::field("body", e.to_string()),
        _ => Error::BadRequest(e.to_string()),
    })
}
