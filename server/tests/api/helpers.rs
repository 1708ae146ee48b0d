use std::collections::VecDeque;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use integrations_hub::config::Config;
use integrations_hub::delivery::Worker;
use integrations_hub::domain::Hub;
pub use integrations_hub::scratch::ScratchDir;
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub const OPERATOR: &str = "test-operator-token-0123456789";
pub const SHARED_MASTER_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares a test that runs on both stores: `both!(name, |app| async move { ... })`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                $crate::helpers::run($crate::helpers::Backend::Sqlite, $body).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                $crate::helpers::run($crate::helpers::Backend::Postgres, $body).await;
            }
        }
    };
}

/// Runs `body` against a fresh hub on `backend`; a PostgreSQL test is skipped (with a note)
/// only when no PostgreSQL URL is configured at all.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(Backend) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if matches!(backend, Backend::Postgres) && std::env::var("IH_TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: IH_TEST_DATABASE_URL is not set");
        return;
    }
    // Some tests build HTTP clients before (or without) an in-process hub.
    integrations_hub::install_tls_provider();
    body(backend).await;
}

/// A key's rate limit counts over the calendar minute, so a test that spends a small limit and
/// expects the next request to be refused must not let the window turn in between (it would
/// then see a fresh limit, a 200, about once in 10,000 runs). When less than five seconds of the
/// minute are left this waits for the next one; a test's few requests take milliseconds.
pub async fn clear_of_a_minute_boundary() {
    let into_minute = integrations_hub::time::now_ms().rem_euclid(60_000);
    if into_minute >= 55_000 {
        tokio::time::sleep(Duration::from_millis((60_000 - into_minute) as u64 + 10)).await;
    }
}

/// The longest any one request of a test may take, from connecting to the end of its body. A
/// hub that stops answering (a page whose render never ends, say) then fails the test that asked,
/// by name, instead of hanging the whole run until CI kills it. Well above the 20 s a test reads
/// a live stream for.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub fn test_client() -> reqwest::Client {
    reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().expect("a reqwest client")
}

pub struct TestApp {
    pub url: String,
    pub hub: Hub,
    pub worker: Arc<Worker>,
    pub http: reqwest::Client,
    pub database_url: String,
    shutdown: CancellationToken,
    /// The PostgreSQL schema this app created, dropped with it. A second instance on the same
    /// database does not own it.
    schema: Option<String>,
    _dir: ScratchDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(schema) = self.schema.take() {
            drop_schema(schema);
        }
    }
}

/// Drops a test's PostgreSQL schema, so test runs do not leave one behind each.
/// Called from `Drop`, which is not async: a short-lived thread with its own runtime does it.
pub fn drop_schema(schema: String) {
    let base = std::env::var("IH_TEST_DATABASE_URL").unwrap_or_default();
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            use sqlx::Connection;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&base).await {
                let _ = sqlx::query("SET lock_timeout = '5s'").execute(&mut conn).await;
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
                    .execute(&mut conn)
                    .await;
            }
        });
    })
    .join();
}

/// The PostgreSQL schema a test database URL names.
pub fn schema_of(database_url: &str) -> Option<String> {
    database_url.split("search_path%3D").nth(1).map(str::to_string)
}

/// A fresh database URL: a SQLite file in `dir`, or a new PostgreSQL schema.
pub async fn database_url(backend: Backend, dir: &std::path::Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("hub.db").display()),
        Backend::Postgres => {
            let base = std::env::var("IH_TEST_DATABASE_URL").expect("checked by run()");
            let schema = format!("t_{}", ulid::Ulid::new().to_string().to_lowercase());
            let pool = sqlx::PgPool::connect(&base)
                .await
                .unwrap_or_else(|e| panic!("IH_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}"));
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&pool).await.unwrap();
            pool.close().await;
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-c%20search_path%3D{schema}")
        }
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts a hub with the worker off (tests drain it) and private targets allowed (the
    /// receivers listen on 127.0.0.1); `tweak` may change any setting.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = ScratchDir::new();
        let database_url = database_url(backend, dir.path()).await;
        let mut app = Self::spawn_on(dir, database_url, tweak).await;
        app.schema = schema_of(&app.database_url);
        app
    }

    pub async fn spawn_on(dir: ScratchDir, database_url: String, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = Config::from_lookup(|_| None).unwrap();
        config.data_dir = dir.path().to_path_buf();
        config.database_url = database_url.clone().into();
        config.admin_token = Some(OPERATOR.into());
        // Instances that share a database must share the key that seals signing secrets.
        config.master_key = Some(SHARED_MASTER_KEY.into());
        config.allow_private_targets = true;
        config.delivery.worker_enabled = false;
        config.delivery.backoff_base = Duration::from_millis(10);
        config.delivery.timeout = Duration::from_secs(5);
        // The hub runs inside this test binary: transformations run in the built hub's workers.
        config.transform_worker = env!("CARGO_BIN_EXE_integrations-hub").into();
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let app = integrations_hub::build(config, listener).await.expect("the hub builds");
        let url = format!("http://{}", app.local_addr());
        let (hub, worker, shutdown) = (app.hub.clone(), app.worker.clone(), app.shutdown_token());
        tokio::spawn(app.run());
        TestApp { url, hub, worker, http: test_client(), database_url, shutdown, schema: None, _dir: dir }
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, headers, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.request(reqwest::Method::GET, path, Some(OPERATOR), None).await;
        (status, body)
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (status, _, body) = self.request(reqwest::Method::POST, path, Some(OPERATOR), Some(body)).await;
        (status, body)
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (status, _, body) = self.request(reqwest::Method::PATCH, path, Some(OPERATOR), Some(body)).await;
        (status, body)
    }

    pub async fn create_tenant(&self, name: &str) -> String {
        let (status, body) = self.post("/api/v1/tenants", json!({ "name": name })).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    pub async fn create_webhook(&self, tenant: &str, body: Value) -> Value {
        let (status, body) = self.post(&format!("/api/v1/tenants/{tenant}/webhooks"), body).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    pub async fn publish(&self, tenant: &str, event_type: &str, payload: Value) -> Value {
        let (status, body) = self
            .post(&format!("/api/v1/tenants/{tenant}/events"), json!({ "event_type": event_type, "payload": payload }))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        body
    }

    pub async fn drain(&self) -> usize {
        self.worker.drain().await.expect("drain")
    }

    pub async fn delivery(&self, tenant: &str, id: &str) -> Value {
        let (status, body) = self.get(&format!("/api/v1/tenants/{tenant}/webhook-deliveries/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Makes every waiting delivery due now, standing in for the clock moving on.
    pub async fn make_retries_due(&self) {
        integrations_hub::on_db!(&self.hub.db, pool => sqlx::query(
            "UPDATE deliveries SET next_attempt_at = 0 WHERE status IN ('pending', 'failed')")
            .execute(pool).await.map(|r| r.rows_affected()))
        .unwrap();
    }
}

/// What a receiver saw.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: String,
    /// When it arrived.
    pub at: std::time::Instant,
}

/// A queued answer of a receiver: status and headers.
type Reply = (u16, Vec<(String, String)>);

/// A queued answer of [`FakeSlack`]: status, headers and JSON body.
type SlackReply = (u16, Vec<(String, String)>, Value);

/// A real HTTP receiver on 127.0.0.1. It answers with the queued responses in order, then 200 with a short body.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    replies: Arc<Mutex<VecDeque<Reply>>>,
    arrived: Arc<Notify>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver {
            url: format!("http://{}/hook", listener.local_addr().unwrap()),
            received: Default::default(),
            replies: Default::default(),
            arrived: Default::default(),
        };
        let state = receiver.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                state.received.lock().unwrap().push(Received { headers, body, at: std::time::Instant::now() });
                state.arrived.notify_waiters();
                let (status, headers) = state.replies.lock().unwrap().pop_front().unwrap_or((200, vec![]));
                let mut response = axum::response::Response::builder().status(status);
                for (k, v) in headers {
                    response = response.header(k, v);
                }
                response.body(axum::body::Body::from("receiver says hi")).unwrap()
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    /// Queues a reply for the next request.
    pub fn reply(&self, status: u16, headers: &[(&str, &str)]) {
        self.replies
            .lock()
            .unwrap()
            .push_back((status, headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()));
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits, with no bound, until `done` holds for what has arrived; checked at each arrival.
    pub async fn until(&self, done: impl Fn(&[Received]) -> bool) {
        loop {
            let arrived = self.arrived.notified();
            if done(&self.received.lock().unwrap()) {
                return;
            }
            arrived.await;
        }
    }

    /// Waits (event-driven, bounded) until `n` requests have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        tokio::time::timeout(Duration::from_secs(20), self.until(|received| received.len() >= n))
            .await
            .unwrap_or_else(|_| panic!("the receiver got {} of {n} requests", self.received().len()));
        self.received()
    }
}

/// A receiver that holds every request open until [`GatedReceiver::open`], counting how many
/// were in flight at once.
#[derive(Clone)]
pub struct GatedReceiver {
    pub url: String,
    state: Arc<GateState>,
}

#[derive(Default)]
struct GateState {
    in_flight: std::sync::atomic::AtomicUsize,
    max_in_flight: std::sync::atomic::AtomicUsize,
    done: std::sync::atomic::AtomicUsize,
    opened: tokio::sync::watch::Sender<bool>,
    changed: Notify,
}

impl GatedReceiver {
    pub async fn start() -> GatedReceiver {
        use std::sync::atomic::Ordering::SeqCst;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let state = Arc::new(GateState::default());
        let receiver =
            GatedReceiver { url: format!("http://{}/hook", listener.local_addr().unwrap()), state: state.clone() };
        let app = axum::Router::new().fallback(move || {
            let state = state.clone();
            async move {
                // Counted out on drop too: a request the client gives up on is no longer in flight.
                struct InFlight(Arc<GateState>);
                impl Drop for InFlight {
                    fn drop(&mut self) {
                        self.0.in_flight.fetch_sub(1, SeqCst);
                        self.0.changed.notify_waiters();
                    }
                }
                let now = state.in_flight.fetch_add(1, SeqCst) + 1;
                let guard = InFlight(state.clone());
                state.max_in_flight.fetch_max(now, SeqCst);
                state.changed.notify_waiters();
                let _ = state.opened.subscribe().wait_for(|open| *open).await;
                state.done.fetch_add(1, SeqCst);
                drop(guard);
                StatusCode::OK
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    pub fn open(&self) {
        self.state.opened.send_replace(true);
    }

    /// How many requests it has answered.
    pub fn answered(&self) -> usize {
        self.state.done.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn wait_until(&self, what: &str, done: impl Fn(&GateState) -> bool) {
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                let changed = self.state.changed.notified();
                if done(&self.state) {
                    return;
                }
                changed.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("the gated receiver never saw {what}"));
    }

    pub async fn wait_in_flight(&self, n: usize) {
        self.wait_until("enough requests in flight", |s| s.in_flight.load(std::sync::atomic::Ordering::SeqCst) >= n)
            .await;
    }

    pub async fn wait_done(&self, n: usize) {
        self.wait_until("enough requests answered", |s| s.done.load(std::sync::atomic::Ordering::SeqCst) >= n).await;
    }
}

/// What the fake Slack accepted: the bearer token and the `chat.postMessage` body.
#[derive(Clone, Debug)]
pub struct SlackPost {
    pub token: String,
    pub body: Value,
}

/// A local stand-in for Slack's Web API (`IH_SLACK_API_BASE`), checking each
/// `chat.postMessage` as Slack would: a known bearer token, JSON, a known channel, a `text`,
/// well-formed blocks within Slack's length limits. It answers Slack's way — HTTP 200 with
/// `ok: false` and an error code — unless a reply is queued.
#[derive(Clone)]
pub struct FakeSlack {
    /// The API base to configure (`…/api`).
    pub api_base: String,
    tokens: Arc<Mutex<Vec<String>>>,
    channels: Arc<Mutex<Vec<String>>>,
    posts: Arc<Mutex<Vec<SlackPost>>>,
    replies: Arc<Mutex<VecDeque<SlackReply>>>,
}

impl FakeSlack {
    pub async fn start(tokens: &[&str], channels: &[&str]) -> FakeSlack {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let slack = FakeSlack {
            api_base: format!("http://{}/api", listener.local_addr().unwrap()),
            tokens: Arc::new(Mutex::new(tokens.iter().map(|t| t.to_string()).collect())),
            channels: Arc::new(Mutex::new(channels.iter().map(|c| c.to_string()).collect())),
            posts: Default::default(),
            replies: Default::default(),
        };
        let state = slack.clone();
        let app = axum::Router::new().route(
            "/api/chat.postMessage",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let state = state.clone();
                async move {
                    let (status, extra, answer) = state.answer(&headers, &body);
                    let mut response =
                        axum::response::Response::builder().status(status).header("content-type", "application/json");
                    for (k, v) in extra {
                        response = response.header(k, v);
                    }
                    response.body(axum::body::Body::from(answer.to_string())).unwrap()
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        slack
    }

    fn answer(&self, headers: &HeaderMap, body: &str) -> SlackReply {
        let refuse = |error: &str| (200, vec![], json!({ "ok": false, "error": error }));
        let Some(token) =
            headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
        else {
            return refuse("not_authed");
        };
        if !self.tokens.lock().unwrap().iter().any(|t| t == token) {
            return refuse("invalid_auth");
        }
        if !headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"))
        {
            return refuse("invalid_arguments");
        }
        let Ok(message) = serde_json::from_str::<Value>(body) else { return refuse("invalid_json") };
        if let Some(queued) = self.replies.lock().unwrap().pop_front() {
            return queued;
        }
        let channel = message["channel"].as_str().unwrap_or("");
        if !self.channels.lock().unwrap().iter().any(|c| c == channel) {
            return refuse("channel_not_found");
        }
        if message["text"].as_str().is_none_or(str::is_empty) {
            return refuse("no_text");
        }
        let blocks_ok = message["blocks"].as_array().is_some_and(|blocks| {
            blocks.iter().all(|b| match b["type"].as_str() {
                Some("header") => {
                    b["text"]["type"] == "plain_text"
                        && b["text"]["text"].as_str().is_some_and(|t| t.chars().count() <= 150)
                }
                Some("section") => {
                    b["text"]["text"].as_str().is_some_and(|t| t.chars().count() <= 3000)
                        || b["fields"].as_array().is_some_and(|f| f.len() <= 10)
                }
                Some("context") => b["elements"].as_array().is_some_and(|e| !e.is_empty()),
                _ => false,
            })
        });
        if !blocks_ok {
            return refuse("invalid_blocks");
        }
        self.posts.lock().unwrap().push(SlackPost { token: token.to_string(), body: message.clone() });
        (200, vec![], json!({ "ok": true, "channel": channel, "ts": "1700000000.000100" }))
    }

    /// Answers the next well-authenticated request with this instead of checking it.
    pub fn reply(&self, status: u16, headers: &[(&str, &str)], body: Value) {
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.replies.lock().unwrap().push_back((status, headers, body));
    }

    pub fn posts(&self) -> Vec<SlackPost> {
        self.posts.lock().unwrap().clone()
    }
}

/// One `integrations-hub` process on its own port.
pub struct HubProcess {
    child: Child,
    pub url: String,
}

impl HubProcess {
    pub async fn start(database_url: &str, data_dir: &std::path::Path) -> HubProcess {
        HubProcess::start_with(database_url, data_dir, &[]).await
    }

    /// With more environment variables (they win over the defaults above them).
    pub async fn start_with(database_url: &str, data_dir: &std::path::Path, env: &[(&str, &str)]) -> HubProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_integrations-hub"))
            .env_clear()
            .env("IH_BIND", format!("127.0.0.1:{port}"))
            .env("IH_DATABASE_URL", database_url)
            .env("IH_DATA_DIR", data_dir)
            .env("IH_ADMIN_TOKEN", OPERATOR)
            .env("IH_MASTER_KEY", SHARED_MASTER_KEY)
            .env("IH_ALLOW_PRIVATE_TARGETS", "true")
            // A killed instance's leases run out after a second.
            .env("IH_DELIVERY_LEASE_SECONDS", "1")
            .env("IH_DELIVERY_POLL_INTERVAL_SECONDS", "0.2")
            // An attempt cut short by the kill, or failed under the load of the whole suite, is
            // retried within a second, not after the default 5 s, 10 s, 20 s...
            .env("IH_DELIVERY_BACKOFF_BASE_SECONDS", "0.2")
            .env("IH_LOG_LEVEL", "error")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the hub binary starts");
        let hub = HubProcess { child, url: format!("http://127.0.0.1:{port}") };
        let client = test_client();
        tokio::time::timeout(Duration::from_secs(30), async {
            while !client.get(format!("{}/ready", hub.url)).send().await.is_ok_and(|r| r.status().is_success()) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("the hub process becomes ready");
        hub
    }

    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL is delivered");
        let _ = self.child.wait();
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The one number a `SELECT COUNT(*) …` (or any one-`BIGINT` query) gives on the hub's database.
pub async fn count(app: &TestApp, sql: impl Into<String>) -> i64 {
    let sql = sql.into();
    let row: (i64,) = integrations_hub::on_db!(&app.hub.db, pool =>
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).fetch_one(pool).await)
    .unwrap();
    row.0
}
