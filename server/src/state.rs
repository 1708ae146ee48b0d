//! What every request handler sees, REST and UI alike.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::delivery::Worker;
use crate::domain::Hub;

/// axum clones it for every handler call, so every field is one `Arc`: the
/// Leptos options alone are a dozen strings, which only the UI's routes need.
#[derive(Clone)]
pub struct AppState {
    pub hub: Hub,
    pub worker: Arc<Worker>,
    pub leptos: Arc<LeptosOptions>,
    /// The OpenAPI document, serialised once at start.
    pub openapi: Bytes,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        LeptosOptions::clone(&state.leptos)
    }
}
