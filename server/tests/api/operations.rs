//! What operators read: delivery analytics from roll-ups, and the audit log's filters.

use std::collections::BTreeMap;

use integrations_hub::domain::stats::rollup;
use integrations_hub::store::deliveries::AttemptRow;
use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::helpers::*;

both!(stats_count_attempts_by_outcome_hour_and_endpoint_from_rollups, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Stats").await;
    let good = Receiver::start().await;
    let bad = Receiver::start().await;
    for _ in 0..3 {
        bad.reply(503, &[]);
    }
    let good_hook = app.create_webhook(&tenant, json!({ "url": good.url, "events": ["new_lead"] })).await;
    let bad_hook =
        app.create_webhook(&tenant, json!({ "url": bad.url, "events": ["new_lead"], "max_attempts": 1 })).await;
    for i in 0..3 {
        app.publish(&tenant, "new_lead", json!({ "i": i })).await;
    }
    app.drain().await;

    let (status, stats) = app.get(&format!("/api/v1/tenants/{tenant}/stats")).await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["window"], "24h");
    let overall = &stats["overall"];
    assert_eq!(
        (overall["attempts"].as_i64(), overall["succeeded"].as_i64(), overall["failed"].as_i64()),
        (Some(6), Some(3), Some(3)),
        "{overall}"
    );
    assert_eq!(overall["success_rate"], 0.5);
    assert_eq!(overall["errors"], json!({ "http_5xx": 3 }));
    assert!(overall["latency_ms"]["p50"].as_i64().is_some(), "{overall}");
    let hours = stats["hours"].as_array().unwrap();
    assert_eq!(hours.len(), 24);
    assert_eq!(hours[23]["attempts"], 6, "this hour is the last one");
    assert!(hours[..23].iter().all(|h| h["attempts"] == 0));
    let endpoint = |id: &serde_json::Value| {
        stats["endpoints"].as_array().unwrap().iter().find(|e| e["webhook_id"] == *id).unwrap().clone()
    };
    assert_eq!(endpoint(&good_hook["id"])["success_rate"], 1.0);
    assert_eq!(endpoint(&bad_hook["id"])["errors"], json!({ "http_5xx": 3 }));

    // The figures come from the roll-ups, not from a scan of the attempts.
    integrations_hub::on_db!(&app.hub.db, pool => sqlx::query("DELETE FROM attempts").execute(pool).await.map(|r| r.rows_affected())).unwrap();
    let (_, again) = app.get(&format!("/api/v1/tenants/{tenant}/stats?window=7d")).await;
    assert_eq!(again["overall"]["attempts"], 6);
    assert_eq!(again["hours"].as_array().unwrap().len(), 7 * 24);

    // Another tenant sees none of it.
    let other = app.create_tenant("Other").await;
    let (_, theirs) = app.get(&format!("/api/v1/tenants/{other}/stats")).await;
    assert_eq!(theirs["overall"]["attempts"], 0);
    let (status, _) = app.get(&format!("/api/v1/tenants/{tenant}/stats?window=1y")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
});

both!(stats_are_exact_for_a_known_set_of_attempts, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Known").await;
    let now = integrations_hub::time::now_ms();
    let attempt = |started_at: i64, duration_ms: i64, status_code: Option<i64>, error_kind: Option<&str>| AttemptRow {
        id: integrations_hub::ids::new_id(integrations_hub::ids::ATTEMPT),
        delivery_id: "dlv_x".into(),
        tenant_id: tenant.clone(),
        attempt_number: 1,
        started_at,
        duration_ms,
        status_code,
        response_headers: "{}".into(),
        response_body: None,
        error_kind: error_kind.map(str::to_string),
        error_message: None,
    };
    let mut attempts = Vec::new();
    attempts.extend((0..40).map(|_| attempt(now, 4, Some(200), None))); // ≤ 5 ms
    attempts.extend((0..9).map(|_| attempt(now, 120, Some(200), None))); // ≤ 150 ms
    attempts.extend((0..1).map(|_| attempt(now, 9_000, None, Some("timeout")))); // ≤ 10 s
    let counts = rollup(attempts.iter().map(|a| (a, "wh_known", a.status_code == Some(200))));
    // Added twice, as two batches would: the counters add up.
    for _ in 0..2 {
        let mut tx = app.hub.db.begin().await.unwrap();
        integrations_hub::store::stats::add(&mut tx, &counts).await.unwrap();
        tx.commit().await.unwrap();
    }
    // An older hour, outside the 24-hour window but inside the 7-day one.
    let old = rollup([(
        &attempt(integrations_hub::time::hour_start(now) - 30 * 3_600_000, 1, Some(500), None),
        "wh_known",
        false,
    )]);
    let mut tx = app.hub.db.begin().await.unwrap();
    integrations_hub::store::stats::add(&mut tx, &old).await.unwrap();
    tx.commit().await.unwrap();

    let (_, day) = app.get(&format!("/api/v1/tenants/{tenant}/stats")).await;
    assert_eq!(day["overall"]["attempts"], 100);
    assert_eq!(day["overall"]["succeeded"], 98);
    assert_eq!(day["overall"]["success_rate"], 0.98);
    assert_eq!(
        day["overall"]["latency_ms"],
        json!({ "p50": 5, "p95": 150, "p99": 10_000 }),
        "2 % took 9 s: p99 is in their bucket"
    );
    assert_eq!(day["overall"]["errors"], json!({ "timeout": 2 }));
    let deleted = &day["endpoints"][0];
    assert_eq!(
        (deleted["webhook_id"].as_str(), deleted["url"].as_str()),
        (Some("wh_known"), Some("")),
        "an endpoint not among the live ones keeps its history"
    );

    let (_, week) = app.get(&format!("/api/v1/tenants/{tenant}/stats?window=7d")).await;
    assert_eq!(week["overall"]["attempts"], 101);
    assert_eq!(week["overall"]["errors"], json!({ "timeout": 2, "http_5xx": 1 }));
    let per_hour: BTreeMap<String, i64> = week["hours"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["attempts"] != 0)
        .map(|h| (h["hour"].as_str().unwrap().to_string(), h["attempts"].as_i64().unwrap()))
        .collect();
    assert_eq!(per_hour.values().copied().collect::<Vec<_>>(), vec![1, 100], "two hours, oldest first: {per_hour:?}");
});

both!(the_audit_log_filters_by_actor_action_target_and_time, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Audit").await;
    let (_, key) =
        app.post(&format!("/api/v1/tenants/{tenant}/api-keys"), json!({ "name": "writer", "role": "admin" })).await;
    let key_id = key["id"].as_str().unwrap().to_string();
    let (status, _, hook) = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/tenants/{tenant}/webhooks"),
            key["key"].as_str(),
            Some(json!({ "url": "https://example.com/a", "events": ["*"] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let hook_id = hook["id"].as_str().unwrap().to_string();
    let (status, _, _) = app
        .request(reqwest::Method::DELETE, &format!("/api/v1/tenants/{tenant}/webhooks/{hook_id}"), Some(OPERATOR), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let actions = |page: &serde_json::Value| {
        page["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let log = |query: String| {
        let app = &app;
        let tenant = tenant.clone();
        async move { app.get(&format!("/api/v1/tenants/{tenant}/audit-log{query}")).await }
    };
    let (_, all) = log(String::new()).await;
    assert_eq!(actions(&all), ["tenant.created", "api_key.created", "webhook.created", "webhook.deleted"]);
    let (_, newest) = log("?order=desc&limit=2".into()).await;
    assert_eq!(actions(&newest), ["webhook.deleted", "webhook.created"]);
    let (_, next) = log(format!("?order=desc&limit=2&cursor={}", newest["next_cursor"].as_str().unwrap())).await;
    assert_eq!(actions(&next), ["api_key.created", "tenant.created"], "the cursor pages newest first too");
    let (_, area) = log("?action=webhook".into()).await;
    assert_eq!(actions(&area), ["webhook.created", "webhook.deleted"]);
    let (_, exact) = log("?action=webhook.deleted".into()).await;
    assert_eq!(actions(&exact), ["webhook.deleted"]);
    let (_, by_key) = log(format!("?actor={key_id}")).await;
    assert_eq!(actions(&by_key), ["webhook.created"]);
    let (_, by_target) = log(format!("?target={hook_id}")).await;
    assert_eq!(actions(&by_target), ["webhook.created", "webhook.deleted"]);
    let (_, future) = log("?since=2999-01-01T00:00:00Z".into()).await;
    assert_eq!(actions(&future), Vec::<String>::new());
    let (_, past) = log("?until=2000-01-01T00:00:00Z".into()).await;
    assert_eq!(actions(&past), Vec::<String>::new());

    let (status, problem) = log("?since=yesterday".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "since");
    let (status, _) = log("?order=sideways".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
});
