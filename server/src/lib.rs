//! Integrations Hub: outbound webhooks and API keys, one binary.
//!
//! `main.rs` only starts things; [`build`] wires the pieces so tests can run a whole hub on
//! port 0 with their own database.

pub mod client;
pub mod config;
pub mod crypto;
pub mod delivery;
pub mod domain;
pub mod error;
pub mod http;
pub mod ids;
pub mod input;
pub mod message;
pub mod metrics;
pub mod scratch;
pub mod secret;
pub mod shared_limit;
pub mod signing;
pub mod ssrf;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod transform;
mod ui;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use config::Config;
use delivery::Worker;
use domain::{ingest::Ingest, Hub, HubInner};
use http::AppState;
use secret::Secret;
use ssrf::TargetPolicy;

/// A built hub, bound to its listener but not yet serving.
pub struct App {
    pub hub: Hub,
    pub worker: Arc<Worker>,
    /// The operator token, when this start generated it (printed once, never stored).
    pub generated_operator_token: Option<String>,
    listener: TcpListener,
    service: http::Service,
    shutdown: CancellationToken,
}

const OPERATOR_TOKEN_SETTING: &str = "operator_token_sha256";

/// Chooses the process's TLS crypto provider (rustls needs exactly one; ring builds without
/// cmake). Every HTTP client of the process depends on it, so a process that builds clients
/// without starting a hub (a test driving the binary) calls it too.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub async fn build(config: Config, listener: TcpListener) -> Result<App, String> {
    install_tls_provider();
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("IH_DATA_DIR: cannot create {}: {e}", config.data_dir.display()))?;
    let master_key = crypto::MasterKey::load(config.master_key.as_ref().map(Secret::expose), &config.data_dir)?;
    let db = store::Db::connect(config.database_url.expose(), config.sqlite_full_sync).await?;
    let (operator_token_hash, generated_operator_token) =
        operator_token(&db, config.admin_token.as_ref().map(Secret::expose)).await?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;

    let wake = Arc::new(Notify::new());
    let target_policy = Arc::new(TargetPolicy {
        allow_private: config.allow_private_targets,
        allowed: config.allowed_target_cidrs.clone(),
        echo_port: Some(addr.port()),
    });
    let meters = domain::ratelimit::Meters::default();
    let hub = Hub::new(HubInner {
        ingest: Ingest::start(db.clone(), wake.clone()),
        db,
        master_key,
        operator_token_hash: hex::decode(&operator_token_hash).ok().and_then(|b| b.try_into().ok()).unwrap_or([0; 32]),
        wake,
        metrics: Default::default(),
        instance_id: ids::new_id("wrk"),
        known_tenants: Default::default(),
        schemas: Default::default(),
        transformer: Arc::new(transform::Transformer::new(config.transform_worker.clone())),
        key_cache: Default::default(),
        operator_meter: Arc::new(domain::ratelimit::Meter::new(
            "operator",
            config.operator_rate_limit_per_minute,
            app::models::RateWindow::Minute,
            meters.totals.clone(),
        )),
        meters,
        shared_limit: config.redis_url.as_ref().map(shared_limit::SharedLimiter::new).transpose()?,
        target_policy,
        echo_base: format!("http://{}", own_address(addr)),
        changes: Default::default(),
        config: config.clone(),
    });
    if let Some(limiter) = &hub.shared_limit {
        limiter.probe().await;
    }
    let resealed = hub.seal_plain_headers().await.map_err(|e| format!("sealing custom headers: {e}"))?;
    if resealed > 0 {
        tracing::info!(endpoints = resealed, "sealed custom headers written before headers were sealed");
    }
    let worker = Worker::new(hub.clone());

    let leptos = leptos::config::LeptosOptions::builder()
        .output_name("integrations-hub")
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let openapi = serde_json::to_vec(&http::openapi_document()).expect("the document serialises").into();
    let state = AppState { hub: hub.clone(), worker: worker.clone(), leptos: Arc::new(leptos), openapi };
    let router = http::api_router().merge(ui::router(&state)).with_state(state);
    let service = http::service(router, hub.clone());
    Ok(App { hub, worker, generated_operator_token, listener, service, shutdown: CancellationToken::new() })
}

/// The address this hub reaches itself at: its bound address, or loopback when it listens on
/// every interface.
fn own_address(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::from(([127, 0, 0, 1], addr.port())),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port()))
        }
        _ => addr,
    }
}

/// The operator token's hash: from `IH_ADMIN_TOKEN`, or the one generated at the first start.
async fn operator_token(db: &store::Db, configured: Option<&str>) -> Result<(String, Option<String>), String> {
    if let Some(token) = configured {
        return Ok((crypto::sha256_hex(token.as_bytes()), None));
    }
    let stored = store::sessions::get_setting(db, OPERATOR_TOKEN_SETTING).await.map_err(|e| e.to_string())?;
    if let Some(hash) = stored {
        return Ok((hash, None));
    }
    let token = crypto::random_token("iht_");
    let hash = crypto::sha256_hex(token.as_bytes());
    if store::sessions::set_setting_once(db, OPERATOR_TOKEN_SETTING, &hash).await.map_err(|e| e.to_string())? {
        return Ok((hash, Some(token)));
    }
    // Another instance generated it first; use theirs.
    let hash = store::sessions::get_setting(db, OPERATOR_TOKEN_SETTING).await.map_err(|e| e.to_string())?;
    Ok((hash.unwrap_or_default(), None))
}

impl App {
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound")
    }

    /// Cancelling it stops the server and the worker gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled.
    pub async fn run(self) -> std::io::Result<()> {
        let shutdown = self.shutdown.clone();
        let worker =
            self.hub.config.delivery.worker_enabled.then(|| tokio::spawn(self.worker.clone().run(shutdown.clone())));
        tokio::spawn(flush_usage(self.hub.clone(), shutdown.clone()));
        tokio::spawn(domain::retention::run(self.hub.clone(), shutdown.clone()));
        tokio::spawn(domain::rotation::run(self.hub.clone(), shutdown.clone()));
        if let store::Db::Postgres(pool) = &self.hub.db {
            tokio::spawn(delivery::listen_for_wakeups(pool.clone(), self.hub.wake.clone(), shutdown.clone()));
        }
        let service =
            axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<SocketAddr>(self.service);
        let served =
            axum::serve(self.listener, service).with_graceful_shutdown(shutdown.clone().cancelled_owned()).await;
        shutdown.cancel();
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        served
    }
}

/// Writes the API keys' usage counters every few seconds, and once more at shutdown.
async fn flush_usage(hub: Hub, shutdown: CancellationToken) {
    loop {
        let stop = tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => false,
            _ = shutdown.cancelled() => true,
        };
        if let Err(e) = hub.meters.flush(&hub.db, time::now_ms()).await {
            tracing::warn!(error = ?e, "writing API key usage failed; it will be retried");
        }
        if stop {
            return;
        }
    }
}
