//! The delivery-isolation ("noisy neighbour") benchmark. Like `bench`, it starts the release hub
//! as a child process and receives its deliveries in this process. One scenario a run:
//!
//! - `neighbour` (default): `--bad` endpoints, each in a tenant of its own, get `--backlog`
//!   events each; then a healthy tenant publishes `--rate` events a second for `--seconds`, and
//!   its endpoint's publish-to-receipt latency (p50/p95/p99/max) is measured, with the events it
//!   had not received 10 s after the last publish. `--mode` makes the bad endpoints a
//!   `blackhole` (accepts the connection and never answers: each attempt holds a sender for the
//!   hub's whole timeout), `500` (answers 500 at once: retries) or `slow` (200 after 2 s).
//! - `fifo`: one endpoint created with `"ordering": "fifo"` gets `--events` events published one
//!   after the other; the receiver counts the events that arrive after a later one (order
//!   violations) and repeats (duplicates), and the run gives deliveries/s.
//! - `drain`: `--events` events are queued with the delivery worker off, then the hub is killed
//!   and started again on the same database with the worker on: the time to deliver them all,
//!   the hub's peak RSS, and meanwhile the latency of another tenant publishing at `--rate`/s.
//!
//! Usage: cargo run --release -p bench --bin fairness -- [--scenario neighbour|fifo|drain]
//!        [--database-url URL] [--timeout T] [--hub PATH]
//!        neighbour: [--bad N] [--mode blackhole|500|slow] [--backlog N] [--rate R] [--seconds S]
//!        fifo: [--events N]     drain: [--events N] [--rate R]
//! (default: a fresh SQLite file; T is IH_DELIVERY_TIMEOUT_SECONDS, 5 s)

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use bench::{arg, cpu_seconds, latencies, peak_rss_mib, percentile, publish_all, publish_at_rate};
use bench::{Api, Hub, Receiver, RELEASE_HUB};
use serde_json::json;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// Payload bytes of every event, as in the delivery benchmark.
const SIZE: usize = 237;
/// Concurrent publishers when queueing a backlog, as in the delivery benchmark.
const PUBLISHERS: u64 = 32;
/// How long after the last publish a healthy event may still arrive before it counts as lost.
const GRACE: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let setup = Setup::from_args();
    match arg("--scenario", "neighbour").as_str() {
        "neighbour" => neighbour(&setup).await,
        "fifo" => fifo(&setup).await,
        "drain" => drain(&setup).await,
        other => usage(&format!("unknown scenario {other:?}: expected neighbour, fifo or drain")),
    }
}

fn usage(problem: &str) -> ! {
    eprintln!("fairness: {problem}");
    std::process::exit(2)
}

fn number(name: &str, default: &str) -> u64 {
    let value = arg(name, default);
    value.parse().unwrap_or_else(|_| usage(&format!("{name} expects a whole number, got {value:?}")))
}

/// Where and how the hub runs; one data folder for the whole run, so a restarted hub finds the
/// master key its predecessor generated there (webhook secrets are encrypted with it).
struct Setup {
    hub: String,
    data: tempfile::TempDir,
    database_url: String,
    timeout: String,
}

impl Setup {
    fn from_args() -> Setup {
        let data = tempfile::tempdir().unwrap();
        let database_url = arg("--database-url", &format!("sqlite://{}", data.path().join("hub.db").display()));
        Setup { hub: arg("--hub", RELEASE_HUB), data, database_url, timeout: number("--timeout", "5").to_string() }
    }

    fn backend(&self) -> &'static str {
        if self.database_url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }

    /// Starts the hub with `env` added to the common settings.
    fn start(&self, env: &[(&str, &str)]) -> Hub {
        let mut all = vec![
            ("IH_DELIVERY_TIMEOUT_SECONDS", self.timeout.as_str()),
            // What is measured is how the others fare while a neighbour stays bad. A hub without
            // the circuit breaker disables an endpoint after 100 failed attempts in a row (the
            // default), seconds into this load, which would hide that; with the breaker, 100
            // attempts take hours, so the setting changes nothing there.
            ("IH_WEBHOOK_DISABLE_AFTER_FAILURES", "1000000"),
        ];
        all.extend_from_slice(env);
        Hub::start(&self.hub, self.data.path(), &self.database_url, &all)
    }
}

/// Latency figures of sorted milliseconds, for the summary lines.
fn spread(ms: &[f64]) -> String {
    match ms.last() {
        None => "no deliveries".into(),
        Some(max) => format!(
            "p50 {:.1} ms p95 {:.1} ms p99 {:.1} ms max {max:.1} ms",
            percentile(ms, 0.50),
            percentile(ms, 0.95),
            percentile(ms, 0.99)
        ),
    }
}

// ---- neighbour -------------------------------------------------------------------------------

/// How a bad endpoint misbehaves.
#[derive(Clone, Copy)]
enum Bad {
    Blackhole,
    Error,
    Slow,
}

impl Bad {
    fn parse(mode: &str) -> Bad {
        match mode {
            "blackhole" => Bad::Blackhole,
            "500" => Bad::Error,
            "slow" => Bad::Slow,
            other => usage(&format!("unknown --mode {other:?}: expected blackhole, 500 or slow")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Bad::Blackhole => "blackhole",
            Bad::Error => "500",
            Bad::Slow => "slow",
        }
    }

    /// What `hits` counts: a blackhole sees connections, the others requests.
    fn hits(self) -> &'static str {
        match self {
            Bad::Blackhole => "connections",
            Bad::Error | Bad::Slow => "requests",
        }
    }

    /// Starts one bad endpoint on a port of its own; gives the URL to subscribe.
    async fn start(self, hits: Arc<AtomicUsize>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        match self {
            Bad::Blackhole => {
                tokio::spawn(blackhole(listener, hits));
            }
            Bad::Error | Bad::Slow => {
                let slow = matches!(self, Bad::Slow);
                let app = axum::Router::new().fallback(move || {
                    let hits = hits.clone();
                    async move {
                        hits.fetch_add(1, Ordering::Relaxed);
                        if slow {
                            tokio::time::sleep(Duration::from_secs(2)).await;
                            StatusCode::OK
                        } else {
                            StatusCode::INTERNAL_SERVER_ERROR
                        }
                    }
                });
                tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            }
        }
        url
    }
}

/// Accepts connections and never answers. Closing them would tell the hub at once; instead each
/// is held until the hub gives up on it (its timeout) and closes its end. The request is read
/// and thrown away only to notice that close: holding every socket for the whole run would
/// need thousands of descriptors, beyond a common `ulimit -n` of 1024.
async fn blackhole(listener: TcpListener, hits: Arc<AtomicUsize>) {
    while let Ok((mut socket, _)) = listener.accept().await {
        hits.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let mut sink = [0u8; 4096];
            while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
        });
    }
}

async fn neighbour(setup: &Setup) {
    let bad = number("--bad", "5");
    let mode = Bad::parse(&arg("--mode", "blackhole"));
    let backlog = number("--backlog", "300");
    let rate = number("--rate", "20");
    let seconds = number("--seconds", "20");
    let hub = setup.start(&[]);
    let api = Api::connect(&hub).await;

    // Each bad endpoint in a tenant of its own; every endpoint subscribes to the one event type
    // published.
    let hits = Arc::new(AtomicUsize::new(0));
    let mut bad_events = Vec::new();
    for i in 0..bad {
        let tenant = api.create_tenant(&format!("bad-{i}")).await;
        let url = mode.start(hits.clone()).await;
        api.create_webhook(&tenant, &json!({ "url": url, "events": ["new_lead"] })).await;
        bad_events.push(api.events_url(&tenant));
    }
    let (receiver, receiver_url) = Receiver::start().await;
    let healthy = api.create_tenant("healthy").await;
    api.create_webhook(&healthy, &json!({ "url": receiver_url, "events": ["new_lead"] })).await;

    let queued = Instant::now();
    queue_backlogs(&api, &bad_events, backlog).await;
    let queued = queued.elapsed();

    let total = rate * seconds;
    let never = AtomicBool::new(false);
    let sent_at = publish_at_rate(&api.http, &api.events_url(&healthy), 0..total, rate, SIZE, &never).await;
    receiver.wait_until(total as usize, GRACE).await;
    let (ms, lost) = latencies(&sent_at, &receiver);

    let mode_name = if bad == 0 { "none" } else { mode.name() };
    println!("neighbour mode={mode_name} bad={bad} backlog={backlog} rate={rate}: {} lost {lost}", spread(&ms));
    println!(
        "  {}: {total} healthy events; backlog queued in {:.2} s; bad endpoints saw {} {}; hub peak RSS {:.0} MiB",
        setup.backend(),
        queued.as_secs_f64(),
        hits.load(Ordering::Relaxed),
        mode.hits(),
        peak_rss_mib(hub.pid())
    );
}

/// Publishes `backlog` events to each URL, all at once, sharing the publishers between them.
async fn queue_backlogs(api: &Api, urls: &[String], backlog: u64) {
    let publishers = (PUBLISHERS / urls.len().max(1) as u64).max(1);
    let tasks: Vec<_> = urls
        .iter()
        .map(|url| {
            let (http, url) = (api.http.clone(), url.clone());
            tokio::spawn(async move { publish_all(&http, &url, backlog, publishers, SIZE).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

// ---- fifo ------------------------------------------------------------------------------------

async fn fifo(setup: &Setup) {
    let events = number("--events", "10000");
    let hub = setup.start(&[]);
    let api = Api::connect(&hub).await;
    let (receiver, receiver_url) = Receiver::start().await;
    let tenant = api.create_tenant("fifo").await;
    // `ordering` is sent in this scenario only: a hub that predates it refuses the field (422).
    api.create_webhook(&tenant, &json!({ "url": receiver_url, "events": ["new_lead"], "ordering": "fifo" })).await;

    // One publisher, one event after the other: each is accepted before the next is sent, so the
    // sequence numbers are the publish order the endpoint must keep. Concurrent publishers would
    // give no such order (and the API has no batch publish).
    let start = Instant::now();
    publish_all(&api.http, &api.events_url(&tenant), events, 1, SIZE).await;
    let published = start.elapsed();
    let delivered_by_then = receiver.distinct();
    receiver.wait_until(events as usize, Duration::from_secs(600)).await;

    let log = receiver.log.lock().unwrap();
    let (violations, duplicates) = order_check(&log.order);
    let received = log.arrivals.len();
    let last = log.arrivals.values().max().map_or(Duration::ZERO, |at| at.duration_since(start));
    let per_second = received as f64 / last.as_secs_f64().max(f64::EPSILON);
    println!(
        "fifo events={events}: {per_second:.0} deliveries/s ({:.2} ms each), order violations {violations}, \
         duplicates {duplicates}, lost {}",
        1000.0 / per_second,
        events as usize - received
    );
    // Deliveries/s is first publish to last receipt: if nearly all had arrived when publishing
    // ended, the publisher, not the endpoint's queue, set the pace.
    println!(
        "  {}: published in {:.1} s ({:.0}/s), {delivered_by_then} delivered by then; hub peak RSS {:.0} MiB",
        setup.backend(),
        published.as_secs_f64(),
        events as f64 / published.as_secs_f64(),
        peak_rss_mib(hub.pid())
    );
}

/// Order violations (a new sequence number below one already received: it was overtaken) and
/// duplicates (one received again, which at-least-once delivery allows) in receipt order.
fn order_check(order: &[u64]) -> (usize, usize) {
    let (mut violations, mut duplicates) = (0, 0);
    let mut seen = HashSet::new();
    let mut highest = None;
    for &seq in order {
        if !seen.insert(seq) {
            duplicates += 1;
            continue;
        }
        if highest.is_some_and(|h| seq < h) {
            violations += 1;
        }
        highest = highest.max(Some(seq));
    }
    (violations, duplicates)
}

// ---- drain -----------------------------------------------------------------------------------

async fn drain(setup: &Setup) {
    let events = number("--events", "100000");
    let rate = number("--rate", "20");
    let (drained, drain_url) = Receiver::start().await;
    let (live, live_url) = Receiver::start().await;

    let (live_tenant, queue_rate) = queue_with_worker_off(setup, events, &drain_url, &live_url).await;

    let started = Instant::now();
    let hub = setup.start(&[]);
    let api = Api::connect(&hub).await;
    // Another tenant publishes steadily for as long as the drain lasts.
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let (http, url, stop) = (api.http.clone(), api.events_url(&live_tenant), stop.clone());
        tokio::spawn(async move { publish_at_rate(&http, &url, 0..u64::MAX, rate, SIZE, &stop).await })
    };
    drained.wait_until(events as usize, Duration::from_secs(600)).await;
    stop.store(true, Ordering::Relaxed);
    let sent_at = publisher.await.unwrap();
    let live_sent = sent_at.lock().unwrap().len();
    live.wait_until(live_sent, GRACE).await;
    let (ms, lost) = latencies(&sent_at, &live);

    let log = drained.log.lock().unwrap();
    let received = log.arrivals.len();
    let since_start = |at: Option<&Instant>| at.map_or(0.0, |at| at.duration_since(started).as_secs_f64());
    let (first, last) = (since_start(log.arrivals.values().min()), since_start(log.arrivals.values().max()));
    println!(
        "drain events={events} rate={rate}: {:.0} deliveries/s ({received} in {last:.1} s from the restart, \
         first after {first:.2} s), lost {}; live {} lost {lost} ({live_sent} events)",
        received as f64 / last.max(f64::EPSILON),
        events as usize - received,
        spread(&ms)
    );
    println!(
        "  {}: queued at {queue_rate:.0} events/s with the worker off; hub peak RSS {:.0} MiB, \
         CPU {:.3} ms per delivery (from its start), duplicates {}",
        setup.backend(),
        peak_rss_mib(hub.pid()),
        cpu_seconds(hub.pid()) * 1000.0 / received.max(1) as f64,
        log.order.len() - received
    );
}

/// Creates the draining tenant's and the live tenant's endpoints, queues `events` for the first
/// with the delivery worker off (so every delivery waits in the database), and kills that hub
/// as a crash would. Gives the live tenant's id and the publish rate reached.
async fn queue_with_worker_off(setup: &Setup, events: u64, drain_url: &str, live_url: &str) -> (String, f64) {
    let hub = setup.start(&[("IH_DELIVERY_WORKER_DISABLED", "true")]);
    let api = Api::connect(&hub).await;
    let backlog = api.create_tenant("drain").await;
    api.create_webhook(&backlog, &json!({ "url": drain_url, "events": ["new_lead"] })).await;
    let live = api.create_tenant("live").await;
    api.create_webhook(&live, &json!({ "url": live_url, "events": ["new_lead"] })).await;
    let start = Instant::now();
    publish_all(&api.http, &api.events_url(&backlog), events, PUBLISHERS, SIZE).await;
    let rate = events as f64 / start.elapsed().as_secs_f64();
    drop(hub);
    (live, rate)
}

#[cfg(test)]
mod tests {
    use super::order_check;

    #[test]
    fn an_overtaken_event_is_a_violation_and_a_repeat_a_duplicate() {
        assert_eq!(order_check(&[0, 1, 2, 3]), (0, 0));
        assert_eq!(order_check(&[0, 2, 1, 3]), (1, 0));
        assert_eq!(order_check(&[0, 1, 1, 2, 0, 3]), (0, 2));
    }
}
