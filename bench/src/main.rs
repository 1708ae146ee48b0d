//! The delivery benchmark. It starts `target/release/integrations-hub` as a child process,
//! points one endpoint at a receiver in this process, and measures:
//! - ingest: events/s accepted (202) while 32 publishers send 20 000 events of 237 bytes;
//! - end to end: deliveries/s from the first publish to the last receipt of those events;
//! - latency: publish-to-receipt p50/p95/p99 at a steady 100 events/s;
//! - the hub's CPU time per delivered message and its peak RSS.
//!
//! Usage: cargo run --release -p bench -- [--database-url URL] [--events N] [--publishers N]
//!        [--rate N] [--seconds N] [--otel off|collector|unreachable] [--validate off|on]
//!        [--filter off|on]   (default: a fresh SQLite file)
//!
//! `--validate` publishes a type of the tenant's own (`bench.lead`) registered with a JSON Schema
//! that the payloads satisfy, validated on publish (`on`) or not (`off`): the cost of validation.
//! `--filter on` gives the endpoint a payload filter every event passes (`data.seq >= 0 and
//! data.customer != ""`): the cost of evaluating one. `--transform on` gives it a typical
//! transformation (`{event: .type, at: .timestamp, data: {seq: .data.seq, name: .data.customer}}`),
//! run in the hub's transformation workers: the cost of a transformation per delivery.
//!
//! `--otel collector` turns the hub's OpenTelemetry tracing on, exporting to an OTLP/HTTP sink in
//! this process (it answers every export); `--otel unreachable` exports to a port that accepts
//! connections and never answers (every export runs into its timeout).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bench::{arg, cpu_seconds, latencies, payload, peak_rss_mib, percentile, publish_all, publish_at_rate};
use bench::{Api, Hub, Receiver, RELEASE_HUB};

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
    let (receiver, receiver_url) = Receiver::start().await;
    let otel = arg("--otel", "off");
    let collector = match otel.as_str() {
        "off" => None,
        "collector" => Some(bench::OtlpSink::start(true).await),
        "unreachable" => Some(bench::OtlpSink::start(false).await),
        other => panic!("--otel takes off, collector or unreachable, not {other}"),
    };
    let env: Vec<(&str, &str)> = match &collector {
        Some(sink) => vec![("OTEL_EXPORTER_OTLP_ENDPOINT", sink.url.as_str()), ("OTEL_BSP_SCHEDULE_DELAY", "1000")],
        None => Vec::new(),
    };
    let hub = Hub::start(RELEASE_HUB, data.path(), &database_url, &env);
    let pid = hub.pid();
    let api = Api::connect(&hub).await;
    let tenant = api.create_tenant("bench").await;
    let validate = arg("--validate", "none");
    if validate != "none" {
        let registered = api
            .post(
                &format!("/api/v1/tenants/{tenant}/event-types"),
                &serde_json::json!({ "name": "bench.lead", "schema": bench::payload_schema(), "validate": validate == "on" }),
            )
            .await;
        assert_eq!(registered.status(), 201, "registering bench.lead");
        bench::EVENT_TYPE.set("bench.lead".into()).unwrap();
    }
    let mut endpoint = serde_json::json!({ "url": receiver_url, "events": ["*"] });
    if arg("--filter", "off") == "on" {
        endpoint["filter"] = "data.seq >= 0 and data.customer != \"\"".into();
    }
    if arg("--transform", "off") == "on" {
        endpoint["transformation"] =
            "{event: .type, at: .timestamp, data: {seq: .data.seq, name: .data.customer}}".into();
    }
    api.create_webhook(&tenant, &endpoint).await;
    let publish_url = api.events_url(&tenant);
    let exact = payload(0, size).to_string().len();

    // Phase 1: throughput.
    let cpu_before = cpu_seconds(pid);
    let start = Instant::now();
    publish_all(&api.http, &publish_url, events, publishers, size).await;
    let ingest = start.elapsed();
    receiver.wait_for(events as usize, Duration::from_secs(600)).await;
    let end_to_end = start.elapsed();
    let cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000.0 / events as f64;
    // Deliveries given back because the endpoint was at its concurrency bound: the worker's
    // overhead when one endpoint receives everything.
    let deferred = api.deferred().await;

    // Phase 2: latency at a steady rate, for sequence numbers after the first phase's.
    let first = events;
    let total = rate * seconds;
    let never = AtomicBool::new(false);
    let sent_at = publish_at_rate(&api.http, &publish_url, first..first + total, rate, size, &never).await;
    receiver.wait_for((events + total) as usize, Duration::from_secs(120)).await;
    let (latencies, _) = latencies(&sent_at, &receiver);

    println!("backend:                 {backend}");
    println!("events, publishers:      {events}, {publishers} (payload {exact} bytes, one endpoint)");
    match &collector {
        Some(sink) => println!("tracing:                 {otel} ({} OTLP exports answered)", sink.answered()),
        None => println!("tracing:                 off"),
    }
    println!(
        "event type:              {} (validate {validate}, filter {}, transform {})",
        bench::EVENT_TYPE.get().map_or("new_lead", String::as_str),
        arg("--filter", "off"),
        arg("--transform", "off")
    );
    println!("ingest:                  {:.0} events/s", events as f64 / ingest.as_secs_f64());
    println!("end to end:              {:.0} deliveries/s", events as f64 / end_to_end.as_secs_f64());
    println!("CPU per delivered msg:   {cpu_ms:.3} ms (hub process and its workers, phase 1)");
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
