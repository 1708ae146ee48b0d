//! The delivery benchmark. It starts `target/release/integrations-hub` as a child process,
//! points one endpoint at a receiver in this process, and measures:
//! - ingest: events/s accepted (202) while 32 publishers send 20 000 events of 237 bytes;
//! - end to end: deliveries/s from the first publish to the last receipt of those events;
//! - latency: publish-to-receipt p50/p95/p99 at a steady 100 events/s;
//! - the hub's CPU time per delivered message and its peak RSS.
//!
//! Usage: cargo run --release -p bench -- [--database-url URL] [--events N] [--publishers N]
//!        [--rate N] [--seconds N]      (default: a fresh SQLite file)

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Notify;

const TOKEN: &str = "bench-operator-token-0000000000000000";

struct Receiver {
    seen: AtomicUsize,
    /// Receipt time of each sequence number (the first receipt only).
    arrivals: Mutex<HashMap<u64, Instant>>,
    progress: Notify,
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned()).unwrap_or_else(|| default.to_string())
}

/// A JSON payload of exactly `size` bytes carrying a sequence number.
fn payload(seq: u64, size: usize) -> Value {
    let base = json!({ "seq": seq, "customer": "Ada Lovelace", "email": "ada@example.com", "pad": "" }).to_string();
    let pad = size.saturating_sub(base.len());
    json!({ "seq": seq, "customer": "Ada Lovelace", "email": "ada@example.com", "pad": "x".repeat(pad) })
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    ticks / 100.0 // USER_HZ is 100 on Linux
}

fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

struct Hub(Child);
impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let events: u64 = arg("--events", "20000").parse().unwrap();
    let publishers: u64 = arg("--publishers", "32").parse().unwrap();
    let rate: u64 = arg("--rate", "100").parse().unwrap();
    let seconds: u64 = arg("--seconds", "10").parse().unwrap();
    let size: usize = arg("--payload-bytes", "237").parse().unwrap();
    let data = tempfile::tempdir().unwrap();
    let database_url = arg("--database-url", &format!("sqlite://{}", data.path().join("hub.db").display()));
    let backend = if database_url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };

    // The receiver: counts, and notes when each sequence number first arrives.
    let receiver =
        Arc::new(Receiver { seen: AtomicUsize::new(0), arrivals: Mutex::new(HashMap::new()), progress: Notify::new() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver_url = format!("http://{}/hook", listener.local_addr().unwrap());
    let state = receiver.clone();
    let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
        let state = state.clone();
        async move {
            let at = Instant::now();
            if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                if let Some(seq) = v["data"]["seq"].as_u64() {
                    state.arrivals.lock().unwrap().entry(seq).or_insert(at);
                }
            }
            state.seen.fetch_add(1, Ordering::Relaxed);
            state.progress.notify_waiters();
            ""
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let hub = Hub(Command::new("target/release/integrations-hub")
        .env("IH_BIND", format!("127.0.0.1:{port}"))
        .env("IH_DATA_DIR", data.path())
        .env("IH_DATABASE_URL", &database_url)
        .env("IH_ADMIN_TOKEN", TOKEN)
        .env("IH_ALLOW_PRIVATE_TARGETS", "true")
        .env("IH_OPERATOR_RATE_LIMIT_PER_MINUTE", "100000000")
        .env("IH_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("run `cargo build --release -p integrations-hub` first"));
    let pid = hub.0.id();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    for _ in 0..100 {
        if http.get(format!("{base}/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let post = |path: String, body: Value| http.post(format!("{base}{path}")).bearer_auth(TOKEN).json(&body).send();
    let tenant: Value = post("/api/v1/tenants".into(), json!({ "name": "bench" })).await.unwrap().json().await.unwrap();
    let tenant = tenant["id"].as_str().unwrap().to_string();
    let hook = post(format!("/api/v1/tenants/{tenant}/webhooks"), json!({ "url": receiver_url, "events": ["*"] }))
        .await
        .unwrap();
    assert_eq!(hook.status(), 201);
    let publish_path = format!("{base}/api/v1/tenants/{tenant}/events");
    let exact = payload(0, size).to_string().len();

    // Phase 1: throughput.
    let cpu_before = cpu_seconds(pid);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for p in 0..publishers {
        let (http, path) = (http.clone(), publish_path.clone());
        tasks.push(tokio::spawn(async move {
            let mut seq = p;
            while seq < events {
                let body = json!({ "event_type": "new_lead", "payload": payload(seq, size) });
                let response = http.post(&path).bearer_auth(TOKEN).json(&body).send().await.unwrap();
                assert_eq!(response.status(), 202);
                seq += publishers;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let ingest = start.elapsed();
    wait_for(&receiver, events as usize, Duration::from_secs(600)).await;
    let end_to_end = start.elapsed();
    let cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000.0 / events as f64;
    // Deliveries given back because the endpoint was at its concurrency bound: the worker's
    // overhead when one endpoint receives everything.
    let metrics = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    let deferred =
        metrics.lines().find_map(|l| l.strip_prefix("ih_deliveries_deferred_total ")).unwrap_or("?").to_string();

    // Phase 2: latency at a steady rate, for sequence numbers after the first phase's.
    let first = events;
    let total = rate * seconds;
    let sent_at: Arc<Mutex<HashMap<u64, Instant>>> = Default::default();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for seq in first..first + total {
        ticker.tick().await;
        let (http, path, sent_at) = (http.clone(), publish_path.clone(), sent_at.clone());
        tokio::spawn(async move {
            let body = json!({ "event_type": "new_lead", "payload": payload(seq, size) });
            sent_at.lock().unwrap().insert(seq, Instant::now());
            let response = http.post(&path).bearer_auth(TOKEN).json(&body).send().await.unwrap();
            assert_eq!(response.status(), 202);
        });
    }
    wait_for(&receiver, (events + total) as usize, Duration::from_secs(120)).await;
    let arrivals = receiver.arrivals.lock().unwrap();
    let sent_at = sent_at.lock().unwrap();
    let mut latencies: Vec<f64> =
        (first..first + total).map(|seq| (arrivals[&seq] - sent_at[&seq]).as_secs_f64() * 1000.0).collect();
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());

    println!("backend:                 {backend}");
    println!("events, publishers:      {events}, {publishers} (payload {exact} bytes, one endpoint)");
    println!("ingest:                  {:.0} events/s", events as f64 / ingest.as_secs_f64());
    println!("end to end:              {:.0} deliveries/s", events as f64 / end_to_end.as_secs_f64());
    println!("CPU per delivered msg:   {cpu_ms:.3} ms (hub process, phase 1)");
    println!(
        "phase 1 timing:          ingest done at {:.2} s, last delivery at {:.2} s, {deferred} deferrals",
        ingest.as_secs_f64(),
        end_to_end.as_secs_f64()
    );
    println!(
        "latency at {rate}/s:        p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms ({total} events)",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99)
    );
    println!("peak RSS:                {:.0} MiB", peak_rss_mib(pid));
    let duplicates = receiver.seen.load(Ordering::Relaxed) as i64 - (events + total) as i64;
    println!("duplicates received:     {duplicates}");
    drop(hub);
}

async fn wait_for(receiver: &Receiver, n: usize, limit: Duration) {
    tokio::time::timeout(limit, async {
        loop {
            let progress = receiver.progress.notified();
            if receiver.arrivals.lock().unwrap().len() >= n {
                return;
            }
            progress.await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("only {} of {n} deliveries arrived", receiver.arrivals.lock().unwrap().len()));
}
