//! What the benchmarks share: the hub as a child process, its REST API under the operator token,
//! a receiver that notes when each sequence number arrives, steady and bulk publishers, and the
//! hub's CPU time and peak RSS read from /proc.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Notify;

pub const TOKEN: &str = "bench-operator-token-0000000000000000";

/// The release hub, the binary `bench/*.sh` build.
pub const RELEASE_HUB: &str = "target/release/integrations-hub";

pub fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned()).unwrap_or_else(|| default.to_string())
}

/// A JSON payload of exactly `size` bytes carrying a sequence number.
pub fn payload(seq: u64, size: usize) -> Value {
    let base = json!({ "seq": seq, "customer": "Ada Lovelace", "email": "ada@example.com", "pad": "" }).to_string();
    let pad = size.saturating_sub(base.len());
    json!({ "seq": seq, "customer": "Ada Lovelace", "email": "ada@example.com", "pad": "x".repeat(pad) })
}

/// The event type every publish of a run uses: `new_lead` from the hub's catalogue, unless a run
/// registers its own (the delivery benchmark's `--validate`).
pub static EVENT_TYPE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The body of a publish: every benchmark sends one event type.
pub fn event(seq: u64, size: usize) -> Value {
    json!({ "event_type": EVENT_TYPE.get().map_or("new_lead", String::as_str), "payload": payload(seq, size) })
}

/// A JSON Schema that [`payload`] satisfies, as a tenant would register it.
pub fn payload_schema() -> Value {
    json!({
        "type": "object",
        "required": ["seq", "customer", "email"],
        "properties": {
            "seq": { "type": "integer", "minimum": 0 },
            "customer": { "type": "string", "minLength": 1 },
            "email": { "type": "string", "format": "email" },
            "pad": { "type": "string" }
        }
    })
}

/// utime + stime of a process, in seconds.
/// utime + stime of a process and of its live children (the hub's transformation workers), in
/// seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = |path: &std::path::Path| -> Option<(u32, f64)> {
        let stat = std::fs::read_to_string(path).ok()?;
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
        let parent = fields.get(1)?.parse().ok()?;
        let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        Some((parent, ticks / 100.0)) // USER_HZ is 100 on Linux
    };
    let own = stat(std::path::Path::new(&format!("/proc/{pid}/stat"))).map_or(0.0, |(_, s)| s);
    let children: f64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| stat(&entry.path().join("stat")))
        .filter(|(parent, _)| *parent == pid)
        .map(|(_, seconds)| seconds)
        .sum();
    own + children
}

pub fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// The hub as a child process, killed when dropped (also when the benchmark panics).
pub struct Hub {
    child: Child,
    pub base: String,
}

impl Hub {
    /// Starts `binary` on a free port with the settings every benchmark uses, plus `env`
    /// (which may override them). Its JSON logs (stdout) are dropped.
    pub fn start(binary: &str, data_dir: &Path, database_url: &str, env: &[(&str, &str)]) -> Hub {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(binary)
            .env("IH_BIND", format!("127.0.0.1:{port}"))
            .env("IH_DATA_DIR", data_dir)
            .env("IH_DATABASE_URL", database_url)
            .env("IH_ADMIN_TOKEN", TOKEN)
            .env("IH_ALLOW_PRIVATE_TARGETS", "true")
            .env("IH_OPERATOR_RATE_LIMIT_PER_MINUTE", "100000000")
            .env("IH_LOG_LEVEL", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{binary}: {e}: run `cargo build --release -p integrations-hub` first"));
        Hub { child, base: format!("http://127.0.0.1:{port}") }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The hub's REST API, called with the operator token.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

impl Api {
    /// Waits (up to 10 s) until the hub answers `/health`.
    pub async fn connect(hub: &Hub) -> Api {
        let http = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
        for _ in 0..100 {
            if http.get(format!("{}/health", hub.base)).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Api { http, base: hub.base.clone() }
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.base)).bearer_auth(TOKEN).json(body).send().await.unwrap()
    }

    /// Creates a tenant and gives its id.
    pub async fn create_tenant(&self, name: &str) -> String {
        let tenant: Value = self.post("/api/v1/tenants", &json!({ "name": name })).await.json().await.unwrap();
        tenant["id"].as_str().unwrap_or_else(|| panic!("creating a tenant answered {tenant}")).to_string()
    }

    /// Creates a webhook from `body` (the API's create body) and gives its id.
    pub async fn create_webhook(&self, tenant: &str, body: &Value) -> String {
        let response = self.post(&format!("/api/v1/tenants/{tenant}/webhooks"), body).await;
        let status = response.status();
        let hook: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 201, "creating the webhook {body} answered {hook}");
        hook["id"].as_str().unwrap().to_string()
    }

    /// The URL events are published to for `tenant`.
    pub fn events_url(&self, tenant: &str) -> String {
        format!("{}/api/v1/tenants/{tenant}/events", self.base)
    }

    /// `ih_deliveries_deferred_total` from `/metrics`, as printed ("?" if absent).
    pub async fn deferred(&self) -> String {
        let metrics = self.http.get(format!("{}/metrics", self.base)).send().await.unwrap().text().await.unwrap();
        metrics.lines().find_map(|l| l.strip_prefix("ih_deliveries_deferred_total ")).unwrap_or("?").to_string()
    }
}

/// Publishes sequence numbers `0..events` to `url` as fast as `publishers` concurrent publishers
/// can, each sending one after the other (publisher `p` sends `p`, `p + publishers`, ...).
pub async fn publish_all(http: &reqwest::Client, url: &str, events: u64, publishers: u64, size: usize) {
    let mut tasks = Vec::new();
    for p in 0..publishers {
        let (http, url) = (http.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let mut seq = p;
            while seq < events {
                let response = http.post(&url).bearer_auth(TOKEN).json(&event(seq, size)).send().await.unwrap();
                assert_eq!(response.status(), 202);
                seq += publishers;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// When each sequence number was published (the moment its request started).
pub type SentAt = Arc<Mutex<HashMap<u64, Instant>>>;

/// Publishes `seqs` to `url` at a steady `rate` a second, each publish in its own task so a slow
/// answer does not hold back the next, until `seqs` run out or `stop` is set. Returns once every
/// publish has been accepted, so the times returned are all the events sent.
pub async fn publish_at_rate(
    http: &reqwest::Client,
    url: &str,
    seqs: Range<u64>,
    rate: u64,
    size: usize,
    stop: &AtomicBool,
) -> SentAt {
    let sent_at: SentAt = Default::default();
    let mut tasks = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for seq in seqs {
        ticker.tick().await;
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let (http, url, sent_at) = (http.clone(), url.to_string(), sent_at.clone());
        tasks.push(tokio::spawn(async move {
            sent_at.lock().unwrap().insert(seq, Instant::now());
            let response = http.post(&url).bearer_auth(TOKEN).json(&event(seq, size)).send().await.unwrap();
            assert_eq!(response.status(), 202);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    sent_at
}

/// What a receiver has seen, under one lock.
#[derive(Default)]
pub struct Log {
    /// Receipt time of each sequence number (the first receipt only).
    pub arrivals: HashMap<u64, Instant>,
    /// Every sequence number received, in the order received (repeats included).
    pub order: Vec<u64>,
}

/// An endpoint in this process answering 200 to every delivery.
pub struct Receiver {
    /// Every request, including any without a sequence number.
    pub seen: AtomicUsize,
    pub log: Mutex<Log>,
    progress: Notify,
}

impl Receiver {
    /// Starts a receiver on a free port; gives it and the URL to subscribe.
    pub async fn start() -> (Arc<Receiver>, String) {
        let receiver =
            Arc::new(Receiver { seen: AtomicUsize::new(0), log: Default::default(), progress: Notify::new() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let state = receiver.clone();
        let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
            let state = state.clone();
            async move {
                state.record(&body, Instant::now());
                ""
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn record(&self, body: &[u8], at: Instant) {
        if let Ok(v) = serde_json::from_slice::<Value>(body) {
            if let Some(seq) = v["data"]["seq"].as_u64() {
                let mut log = self.log.lock().unwrap();
                log.arrivals.entry(seq).or_insert(at);
                log.order.push(seq);
            }
        }
        self.seen.fetch_add(1, Ordering::Relaxed);
        self.progress.notify_waiters();
    }

    /// Distinct sequence numbers received so far.
    pub fn distinct(&self) -> usize {
        self.log.lock().unwrap().arrivals.len()
    }

    /// Waits until `n` distinct sequence numbers have arrived; false if `limit` passed first.
    pub async fn wait_until(&self, n: usize, limit: Duration) -> bool {
        tokio::time::timeout(limit, async {
            loop {
                let progress = self.progress.notified();
                if self.distinct() >= n {
                    return;
                }
                progress.await;
            }
        })
        .await
        .is_ok()
    }

    /// As [`Receiver::wait_until`], but all of them must arrive.
    pub async fn wait_for(&self, n: usize, limit: Duration) {
        if !self.wait_until(n, limit).await {
            panic!("only {} of {n} deliveries arrived", self.distinct());
        }
    }
}

/// Publish-to-receipt latencies in ms, sorted, of the events in `sent_at` that arrived, and how
/// many did not.
pub fn latencies(sent_at: &SentAt, receiver: &Receiver) -> (Vec<f64>, usize) {
    let sent_at = sent_at.lock().unwrap();
    let log = receiver.log.lock().unwrap();
    let mut ms: Vec<f64> = sent_at
        .iter()
        .filter_map(|(seq, sent)| {
            log.arrivals.get(seq).map(|at| at.saturating_duration_since(*sent).as_secs_f64() * 1000.0)
        })
        .collect();
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let lost = sent_at.len() - ms.len();
    (ms, lost)
}

/// An OTLP/HTTP endpoint for the hub's traces: one that answers every export (and counts them),
/// or one that accepts connections and never answers, like a collector that hangs.
pub struct OtlpSink {
    pub url: String,
    answered: Arc<std::sync::atomic::AtomicUsize>,
}

impl OtlpSink {
    pub async fn start(answers: bool) -> OtlpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        if answers {
            let count = answered.clone();
            let app = axum::Router::new().route(
                "/v1/traces",
                axum::routing::post(move |_body: axum::body::Bytes| {
                    count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    async { [("content-type", "application/x-protobuf")] }
                }),
            );
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        } else {
            // Accepts, then holds each connection without reading or answering.
            tokio::spawn(async move {
                let mut held = Vec::new();
                while let Ok((socket, _)) = listener.accept().await {
                    held.push(socket);
                }
            });
        }
        OtlpSink { url, answered }
    }

    pub fn answered(&self) -> usize {
        self.answered.load(std::sync::atomic::Ordering::Relaxed)
    }
}
