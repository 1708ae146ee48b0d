//! Liveness, readiness and metrics.

use std::sync::atomic::Ordering;

use app::models::{HealthOut, ReadyOut};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

use super::route::Route;
use super::route::{schema, Auth, Op};
use super::AppState;
use crate::time;

pub fn routes() -> Vec<Route> {
    vec![
        Op::get("/health", "System", "Liveness: the process answers")
            .auth(Auth::Public)
            .answers(200, Some(schema::<HealthOut>))
            .to(health),
        Op::get("/ready", "System", "Readiness: the database answers and the delivery worker is alive (503 otherwise)")
            .auth(Auth::Public)
            .answers(200, Some(schema::<ReadyOut>))
            .to(ready),
        Op::get("/metrics", "System", "Prometheus metrics (text format)")
            .auth(Auth::Public)
            .text("text/plain")
            .to(metrics),
    ]
}

/// Ready when the database answers and the worker loop ran recently.
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let database = state.hub.db.ping().await.is_ok();
    let config = &state.hub.config.delivery;
    let stale_after = (config.poll_interval.as_millis() as i64 * 3).max(30_000);
    let worker =
        !config.worker_enabled || time::now_ms() - state.worker.heartbeat.load(Ordering::Relaxed) < stale_after;
    let status = if database && worker { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let rate_limits = match &state.hub.shared_limit {
        None => "local",
        Some(limiter) if limiter.is_shared() => "shared",
        Some(_) => "local_fallback",
    };
    (status, axum::Json(ReadyOut { database, worker, rate_limits: rate_limits.into() }))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.hub.render_metrics().await)
}

async fn health() -> axum::Json<HealthOut> {
    axum::Json(HealthOut { status: "ok".into() })
}
