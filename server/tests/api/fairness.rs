//! Fair delivery: a healthy endpoint beside black holes, the circuit breaker's cycle, and FIFO
//! endpoints (WEBHOOKS.md, "Isolation", "Circuit breaker", "FIFO endpoints").

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{Backend, Receiver, ScratchDir, TestApp, OPERATOR};

/// Endpoints that accept TCP connections and never answer: the listener keeps every socket open.
struct BlackHole {
    url: String,
    connections: Arc<AtomicUsize>,
}

impl BlackHole {
    async fn start() -> BlackHole {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(socket);
            }
        });
        BlackHole { url, connections }
    }
}

async fn sql(app: &TestApp, statement: &str, id: &str) {
    let statement = statement.to_string();
    integrations_hub::on_db!(&app.hub.db, pool => sqlx::query(sqlx::AssertSqlSafe(statement)).bind(id).execute(pool).await.map(|_| ()))
        .unwrap();
}

/// Stands in for the clock passing the circuit's cool-down and the deliveries' backoff.
async fn cooldown_ends(app: &TestApp, id: &str) {
    sql(app, "UPDATE webhooks SET circuit_until = 0 WHERE id = $1", id).await;
    sql(app, "UPDATE deliveries SET next_attempt_at = 0 WHERE webhook_id = $1 AND status IN ('pending', 'failed')", id)
        .await;
}

async fn circuit(app: &TestApp, tenant: &str, id: &str) -> Value {
    let (status, webhook) = app.get(&format!("/api/v1/tenants/{tenant}/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{webhook}");
    webhook["circuit"].clone()
}

async fn event_types(app: &TestApp, tenant: &str) -> Vec<String> {
    let tenant = tenant.to_string();
    integrations_hub::on_db!(&app.hub.db, pool => sqlx::query_scalar(
        "SELECT event_type FROM events WHERE tenant_id = $1 ORDER BY id").bind(&tenant).fetch_all(pool).await)
    .unwrap()
}

both!(a_healthy_endpoint_is_not_held_up_by_black_hole_endpoints, |backend: Backend| async move {
    // Eight in flight per instance, four per endpoint: before, two black holes took every slot
    // for the whole 30 s timeout and the healthy tenant's deliveries waited for it.
    let app = TestApp::spawn_with(backend, |c| {
        c.delivery.worker_enabled = true;
        c.delivery.concurrency = 8;
        c.delivery.concurrency_per_endpoint = 4;
        c.delivery.timeout = Duration::from_secs(30);
    })
    .await;
    let mut holes = Vec::new();
    for n in 0..5 {
        let tenant = app.create_tenant(&format!("Dead {n}")).await;
        let hole = BlackHole::start().await;
        app.create_webhook(&tenant, json!({ "url": hole.url, "events": ["*"] })).await;
        for i in 0..40 {
            app.publish(&tenant, "new_lead", json!({ "i": i })).await;
        }
        holes.push(hole);
    }
    // Every black hole has connections held open before the healthy tenant publishes.
    tokio::time::timeout(Duration::from_secs(10), async {
        while holes.iter().any(|h| h.connections.load(Ordering::SeqCst) == 0) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the black holes are being sent to");
    let healthy = app.create_tenant("Healthy").await;
    let receiver = Receiver::start().await;
    app.create_webhook(&healthy, json!({ "url": receiver.url, "events": ["*"] })).await;
    let started = Instant::now();
    for i in 0..20 {
        app.publish(&healthy, "new_lead", json!({ "i": i })).await;
    }
    receiver.wait_for(20).await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the healthy endpoint's 20 deliveries took {:?}, as long as the black holes' timeout",
        started.elapsed()
    );
});

both!(the_circuit_opens_probes_reopens_longer_and_closes, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| {
        c.delivery.circuit_after_failures = 3;
        c.delivery.circuit_cooldown = Duration::from_secs(100);
        c.delivery.circuit_max_cooldown = Duration::from_secs(1000);
    })
    .await;
    let tenant = app.create_tenant("Acme").await;
    let receiver = Receiver::start().await;
    let webhook = app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["new_lead"] })).await;
    let id = webhook["id"].as_str().unwrap().to_string();
    assert_eq!(webhook["circuit"], json!({ "state": "closed", "until": null, "opens": 0 }));
    // An alert channel subscribed to the circuit's events.
    let alerts = Receiver::start().await;
    app.create_webhook(
        &tenant,
        json!({ "url": alerts.url, "events": ["webhook.circuit_opened", "webhook.circuit_closed"] }),
    )
    .await;
    for _ in 0..3 {
        receiver.reply(500, &[]);
    }
    for i in 0..3 {
        app.publish(&tenant, "new_lead", json!({ "i": i })).await;
    }
    app.drain().await;
    assert_eq!(receiver.received().len(), 3);
    let open = circuit(&app, &tenant, &id).await;
    assert_eq!((&open["state"], &open["opens"]), (&json!("open"), &json!(1)), "{open}");
    let until = integrations_hub::time::parse_rfc3339(open["until"].as_str().unwrap()).unwrap();
    let wait = until - integrations_hub::time::now_ms();
    assert!((90_000..=100_000).contains(&wait), "the first cool-down is 100 s: {wait} ms");

    // While open, nothing is sent or counted: not the retries (even when their backoff has
    // passed), not a new event.
    app.publish(&tenant, "new_lead", json!({ "i": 3 })).await;
    sql(&app, "UPDATE deliveries SET next_attempt_at = 0 WHERE webhook_id = $1 AND status = 'pending'", &id).await;
    app.drain().await;
    assert_eq!(receiver.received().len(), 3, "no attempt while the circuit is open");
    let attempts: i64 = {
        let id = id.clone();
        integrations_hub::on_db!(&app.hub.db, pool => sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(attempt_count), 0) AS BIGINT) FROM deliveries WHERE webhook_id = $1").bind(&id).fetch_one(pool).await)
        .unwrap()
    };
    assert_eq!(attempts, 3);
    let (_, _, metrics) = app.request(Method::GET, "/metrics", Some(OPERATOR), None).await;
    assert!(metrics.as_str().unwrap().contains("ih_webhook_circuits{state=\"open\"} 1"), "{metrics}");

    // The cool-down ends (the clock moved on): one probe goes, fails, and the circuit reopens
    // with twice the cool-down.
    receiver.reply(503, &[]);
    cooldown_ends(&app, &id).await;
    app.drain().await;
    assert_eq!(receiver.received().len(), 4, "exactly one probe");
    let reopened = circuit(&app, &tenant, &id).await;
    assert_eq!((&reopened["state"], &reopened["opens"]), (&json!("open"), &json!(2)), "{reopened}");
    let until = integrations_hub::time::parse_rfc3339(reopened["until"].as_str().unwrap()).unwrap();
    let wait = until - integrations_hub::time::now_ms();
    assert!((190_000..=200_000).contains(&wait), "the second cool-down is 200 s: {wait} ms");

    // The next probe succeeds: the circuit closes and every waiting delivery goes.
    cooldown_ends(&app, &id).await;
    app.drain().await;
    app.drain().await;
    assert_eq!(circuit(&app, &tenant, &id).await, json!({ "state": "closed", "until": null, "opens": 0 }));
    let mut seen = sequence(&receiver);
    seen.sort();
    seen.dedup();
    assert_eq!(seen, [0, 1, 2, 3], "every event arrives once the circuit closes");
    let types = event_types(&app, &tenant).await;
    let opened = types.iter().filter(|t| *t == "webhook.circuit_opened").count();
    let closed = types.iter().filter(|t| *t == "webhook.circuit_closed").count();
    assert_eq!((opened, closed), (2, 1), "{types:?}");
    app.drain().await;
    let alerted: Vec<String> = alerts
        .received()
        .iter()
        .filter_map(|r| Some(serde_json::from_str::<Value>(&r.body).ok()?["type"].as_str()?.to_string()))
        .collect();
    assert_eq!(alerted, ["webhook.circuit_opened", "webhook.circuit_opened", "webhook.circuit_closed"]);
});

/// The `i` of each request a receiver got, in arrival order.
fn sequence(receiver: &Receiver) -> Vec<i64> {
    receiver
        .received()
        .iter()
        .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok()?["data"]["i"].as_i64())
        .collect()
}

both!(a_fifo_endpoint_gets_its_deliveries_one_at_a_time_in_order_even_through_retries, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let receiver = Receiver::start().await;
    let webhook = app
        .create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"], "ordering": "fifo", "max_attempts": 3 }))
        .await;
    assert_eq!(webhook["ordering"], "fifo");
    // The head fails twice, then is delivered; the fourth is refused until it dead-letters.
    for status in [500, 500, 200, 200, 200, 500, 500, 500] {
        receiver.reply(status, &[]);
    }
    for i in 0..6 {
        app.publish(&tenant, "new_lead", json!({ "i": i })).await;
    }
    // Each drain sends what is due; a failed head's retry is not due yet, so nothing overtakes it.
    for _ in 0..20 {
        app.drain().await;
        app.make_retries_due().await;
    }
    assert_eq!(sequence(&receiver), [0, 0, 0, 1, 2, 3, 3, 3, 4, 5]);
    let (_, list) = app.get(&format!("/api/v1/tenants/{tenant}/webhook-deliveries?status=dead_letter")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "the head that never succeeded was dead-lettered: {list}");

    // PATCH can switch it back.
    let id = webhook["id"].as_str().unwrap();
    let path = format!("/api/v1/tenants/{tenant}/webhooks/{id}");
    let (status, patched) = app.patch(&path, json!({ "ordering": "parallel" })).await;
    assert_eq!((status, &patched["ordering"]), (StatusCode::OK, &json!("parallel")));
    let (status, bad) = app.patch(&path, json!({ "ordering": "random" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
});

/// A receiver that answers after a short pause, failing every `fail_every`-th request, and
/// notes whether two requests were ever in flight at once.
#[derive(Clone, Default)]
struct SerialReceiver {
    received: Arc<Mutex<Vec<i64>>>,
    in_flight: Arc<AtomicUsize>,
    overlapped: Arc<AtomicUsize>,
}

impl SerialReceiver {
    async fn start(fail_every: usize) -> (SerialReceiver, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let state = SerialReceiver::default();
        let shared = state.clone();
        let app = axum::Router::new().fallback(move |body: String| {
            let state = shared.clone();
            async move {
                if state.in_flight.fetch_add(1, Ordering::SeqCst) > 0 {
                    state.overlapped.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(3)).await;
                let n = {
                    let mut received = state.received.lock().unwrap();
                    let i = serde_json::from_str::<Value>(&body).unwrap()["data"]["i"].as_i64().unwrap();
                    received.push(i);
                    received.len()
                };
                state.in_flight.fetch_sub(1, Ordering::SeqCst);
                if n % fail_every == 0 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (state, url)
    }
}

/// The first receipt of each `i` after its last failed receipt is its delivery: in order, the
/// delivered sequence is the receipts with retried copies removed.
fn delivered_order(received: &[i64], fail_every: usize) -> Vec<i64> {
    received.iter().enumerate().filter(|(n, _)| (n + 1) % fail_every != 0).map(|(_, i)| *i).collect()
}

both!(two_instances_keep_a_fifo_endpoint_in_order_and_one_at_a_time, |backend: Backend| async move {
    let fast = |c: &mut integrations_hub::config::Config| {
        c.delivery.worker_enabled = true;
        c.delivery.backoff_base = Duration::from_millis(20);
        c.delivery.poll_interval = Duration::from_millis(200);
        c.delivery.max_attempts = 20;
        // The failures below must not open the circuit: this test is about order.
        c.delivery.circuit_after_failures = 1000;
    };
    let first = TestApp::spawn_with(backend, fast).await;
    let second = match backend {
        Backend::Postgres => Some(TestApp::spawn_on(ScratchDir::new(), first.database_url.clone(), fast).await),
        Backend::Sqlite => None,
    };
    let tenant = first.create_tenant("Acme").await;
    let (receiver, url) = SerialReceiver::start(7).await;
    first.create_webhook(&tenant, json!({ "url": url, "events": ["*"], "ordering": "fifo" })).await;
    // Published from both instances, one after the other, so publish order is known.
    for i in 0..60 {
        let app = match (&second, i % 2) {
            (Some(second), 1) => second,
            _ => &first,
        };
        app.publish(&tenant, "new_lead", json!({ "i": i })).await;
    }
    tokio::time::timeout(Duration::from_secs(60), async {
        while delivered_order(&receiver.received.lock().unwrap(), 7).len() < 60 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("not all delivered: {:?}", receiver.received.lock().unwrap()));
    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(delivered_order(&received, 7), (0..60).collect::<Vec<_>>(), "receipts: {received:?}");
    assert_eq!(receiver.overlapped.load(Ordering::SeqCst), 0, "never two at once");
});
