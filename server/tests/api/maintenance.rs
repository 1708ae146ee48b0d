//! Pausing an endpoint, by hand and in maintenance windows: its deliveries wait without attempts
//! or failures, then go out in order.

use std::time::Duration;

use serde_json::{json, Value};

use crate::both;
use crate::helpers::{Backend, Receiver, TestApp};

async fn deliveries(app: &TestApp, tenant: &str, hook: &str) -> Vec<Value> {
    let (_, page) = app.get(&format!("/api/v1/tenants/{tenant}/webhooks/{hook}/deliveries")).await;
    page["data"].as_array().unwrap().clone()
}

both!(
    a_paused_endpoint_holds_its_deliveries_without_attempts_then_sends_them_in_order,
    |backend: Backend| async move {
        let app = TestApp::spawn(backend).await;
        let receiver = Receiver::start().await;
        let tenant = app.create_tenant("Acme").await;
        let hook = app
            .create_webhook(&tenant, json!({ "url": receiver.url, "events": ["new_lead"], "ordering": "fifo" }))
            .await;
        let id = hook["id"].as_str().unwrap();
        assert_eq!(hook["maintenance"], json!({ "paused": false, "reason": null, "until": null, "windows": [] }));
        let base = format!("/api/v1/tenants/{tenant}/webhooks/{id}");

        let (status, paused) = app.post(&format!("{base}/pause"), json!({})).await;
        assert_eq!(status, 200, "{paused}");
        assert_eq!(paused["maintenance"]["paused"], true);
        assert_eq!(paused["maintenance"]["reason"], "manual");
        assert_eq!(paused["maintenance"]["until"], Value::Null, "until resumed");
        for i in 0..3 {
            app.publish(&tenant, "new_lead", json!({ "i": i })).await;
        }
        assert_eq!(app.drain().await, 0, "no attempt while paused");
        assert!(receiver.received().is_empty());
        for delivery in deliveries(&app, &tenant, id).await {
            assert_eq!(delivery["status"], "pending", "{delivery}");
            assert_eq!(delivery["attempt_count"], 0, "{delivery}");
        }
        let (_, hook) = app.get(&base).await;
        assert_eq!(hook["circuit"]["state"], "closed", "a pause is not a failure");

        let (status, resumed) = app.post(&format!("{base}/resume"), json!({})).await;
        assert_eq!(status, 200, "{resumed}");
        assert_eq!(resumed["maintenance"]["paused"], false);
        assert_eq!(app.drain().await, 3, "due at once when resumed");
        let order: Vec<i64> = receiver
            .wait_for(3)
            .await
            .iter()
            .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["data"]["i"].as_i64().unwrap())
            .collect();
        assert_eq!(order, [0, 1, 2], "in publish order");

        let (_, audit) = app.get(&format!("/api/v1/tenants/{tenant}/audit-log?target={id}")).await;
        let actions: Vec<&str> =
            audit["data"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
        assert!(actions.contains(&"webhook.paused") && actions.contains(&"webhook.resumed"), "{actions:?}");
    }
);

both!(a_maintenance_window_holds_deliveries_until_it_ends, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    let hook = app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["new_lead"] })).await;
    let id = hook["id"].as_str().unwrap();
    let base = format!("/api/v1/tenants/{tenant}/webhooks/{id}");
    let now = integrations_hub::time::now_ms();
    let end_ms = now + 1_500;
    let window = json!({
        "start": integrations_hub::time::rfc3339(now - 60_000),
        "end": integrations_hub::time::rfc3339(end_ms),
        "weekly": true,
    });
    let put = Some(json!({ "windows": [window] }));
    let (status, _, set) =
        app.request(reqwest::Method::PUT, &format!("{base}/maintenance"), Some(crate::helpers::OPERATOR), put).await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["maintenance"]["paused"], true);
    assert_eq!(set["maintenance"]["reason"], "window");
    assert_eq!(set["maintenance"]["until"], integrations_hub::time::rfc3339(end_ms));
    assert_eq!(set["maintenance"]["windows"][0]["weekly"], true);

    app.publish(&tenant, "new_lead", json!({ "i": 0 })).await;
    assert_eq!(app.drain().await, 0, "no attempt inside the window");
    assert!(receiver.received().is_empty());
    // The window's end is known: wait for it, then the delivery is due.
    let left = (end_ms - integrations_hub::time::now_ms()).max(0) as u64;
    tokio::time::sleep(Duration::from_millis(left + 50)).await;
    assert_eq!(app.drain().await, 1);
    receiver.wait_for(1).await;
    let (_, hook) = app.get(&base).await;
    assert_eq!(hook["maintenance"]["paused"], false, "until next week");
});

both!(pauses_and_windows_refuse_bad_input_by_field, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let hook = app.create_webhook(&tenant, json!({ "url": "https://example.com/hook", "events": ["*"] })).await;
    let base = format!("/api/v1/tenants/{tenant}/webhooks/{}", hook["id"].as_str().unwrap());
    let (status, problem) = app.post(&format!("{base}/pause"), json!({ "until": "2001-01-01T00:00:00Z" })).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "until");
    let (status, until) = app.post(&format!("{base}/pause"), json!({ "until": "2099-01-01T00:00:00Z" })).await;
    assert_eq!(status, 200);
    assert_eq!(until["maintenance"]["until"], "2099-01-01T00:00:00.000Z");
    let windows = json!({ "windows": [
        { "start": "2026-12-24T22:00:00Z", "end": "2026-12-24T21:00:00Z" },
        { "start": "soon", "end": "2026-12-24T21:00:00Z" },
    ] });
    let (status, _, problem) = app
        .request(reqwest::Method::PUT, &format!("{base}/maintenance"), Some(crate::helpers::OPERATOR), Some(windows))
        .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["windows[0].end", "windows[1].start"]);
    let missing = format!("/api/v1/tenants/{tenant}/webhooks/wh_01JABCDEFGHJKMNPQRSTVWXYZ0/resume");
    assert_eq!(app.post(&missing, json!({})).await.0, 404);
});
