//! Rate limits over a sliding window of a chosen length, counted in Redis (the machine's, at
//! 127.0.0.1:6379) by every instance together, and on each instance's own counters while Redis
//! is unreachable.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{clear_of_a_minute_boundary, run, Backend, ScratchDir, TestApp};

const REDIS: &str = "redis://127.0.0.1:6379";

/// A key of `tenant` with this `rate_limit` body field; returns the key.
async fn limited_key(app: &TestApp, tenant: &str, rate_limit: Value) -> String {
    let (status, key) = app
        .post(
            &format!("/api/v1/tenants/{tenant}/api-keys"),
            json!({ "name": "limited", "role": "read_only", "rate_limit": rate_limit }),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    key["key"].as_str().unwrap().to_string()
}

async fn whoami(app: &TestApp, key: &str) -> (u16, reqwest::header::HeaderMap) {
    let (status, headers, _) = app.request(Method::GET, "/api/v1/whoami", Some(key), None).await;
    (status.as_u16(), headers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_with_redis_allow_a_key_its_limit_once_not_twice() {
    run(Backend::Postgres, |backend| async move {
        let first = TestApp::spawn_with(backend, |c| c.redis_url = Some(REDIS.into())).await;
        let second =
            TestApp::spawn_on(ScratchDir::new(), first.database_url.clone(), |c| c.redis_url = Some(REDIS.into()))
                .await;
        let tenant = first.create_tenant("Acme").await;
        let key = limited_key(&first, &tenant, json!({ "limit": 10, "window": "minute" })).await;
        clear_of_a_minute_boundary().await;
        let mut passed = [0, 0];
        let mut refused = None;
        for i in 0..20 {
            let (status, headers) = whoami(if i % 2 == 0 { &first } else { &second }, &key).await;
            match status {
                200 => passed[i % 2] += 1,
                429 => refused = Some(headers),
                other => panic!("{other}"),
            }
        }
        assert_eq!(passed[0] + passed[1], 10, "exactly the limit, over both instances: {passed:?}");
        assert!(passed[0] > 0 && passed[1] > 0, "both instances served some: {passed:?}");
        let refused = refused.expect("some were refused");
        assert_eq!(refused["x-ratelimit-remaining"], "0");
        assert_eq!(refused["ratelimit-policy"], "\"per-minute\";q=10;w=60");
        assert!(refused.contains_key("retry-after"));
        for app in [&first, &second] {
            let (_, ready) = app.get("/ready").await;
            assert_eq!(ready["rate_limits"], "shared");
            let (_, _, metrics) = app.request(Method::GET, "/metrics", None, None).await;
            assert!(metrics.as_str().unwrap().contains("\nih_rate_limit_shared 1\n"));
        }
    })
    .await;
}

both!(
    with_redis_unreachable_requests_are_served_and_limited_locally_and_the_hub_says_so,
    |backend: Backend| async move {
        // Nothing listens on port 1.
        let app = TestApp::spawn_with(backend, |c| c.redis_url = Some("redis://127.0.0.1:1".into())).await;
        let tenant = app.create_tenant("Acme").await;
        let key = limited_key(&app, &tenant, json!({ "limit": 3, "window": "hour" })).await;
        let statuses: Vec<u16> = statuses_of(&app, &key, 5).await;
        assert_eq!(statuses, [200, 200, 200, 429, 429], "served, and still limited, on this instance's counters");
        let (status, ready) = app.get("/ready").await;
        assert_eq!(status, 200, "an unreachable limiter store does not make the hub unready");
        assert_eq!(ready["rate_limits"], "local_fallback");
        let (_, _, metrics) = app.request(Method::GET, "/metrics", None, None).await;
        let metrics = metrics.as_str().unwrap().to_string();
        assert!(metrics.contains("\nih_rate_limit_shared 0\n"), "{metrics}");
        assert!(!metrics.contains("\nih_rate_limit_redis_errors_total 0\n"), "errors are counted");
    }
);

async fn statuses_of(app: &TestApp, key: &str, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(whoami(app, key).await.0);
    }
    statuses
}

both!(a_key_limit_has_a_window_and_bad_limits_are_refused_by_field, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let keys = format!("/api/v1/tenants/{tenant}/api-keys");
    let key = limited_key(&app, &tenant, json!({ "limit": 2, "window": "second" })).await;
    let (_, headers) = whoami(&app, &key).await;
    assert_eq!(headers["ratelimit-policy"], "\"per-second\";q=2;w=1");
    let (_, listed) = app.get(&keys).await;
    let listed = &listed["data"].as_array().unwrap()[0];
    assert_eq!(listed["rate_limit"], json!({ "limit": 2, "window": "second" }));
    assert_eq!(listed["rate_limit_per_minute"], Value::Null, "not a per-minute limit");
    let id = listed["id"].as_str().unwrap();

    // The per-minute field keeps working, and reads back in both shapes.
    let (status, patched) = app.patch(&format!("{keys}/{id}"), json!({ "rate_limit_per_minute": 30 })).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["rate_limit"], json!({ "limit": 30, "window": "minute" }));
    assert_eq!(patched["rate_limit_per_minute"], 30);
    let (_, patched) =
        app.patch(&format!("{keys}/{id}"), json!({ "rate_limit": { "limit": 500, "window": "hour" } })).await;
    assert_eq!(patched["rate_limit"], json!({ "limit": 500, "window": "hour" }));
    let (_, headers) = whoami(&app, &key).await;
    assert_eq!(headers["ratelimit-policy"], "\"per-hour\";q=500;w=3600", "the new limit applies at once");
    let (_, patched) = app.patch(&format!("{keys}/{id}"), json!({ "rate_limit": null })).await;
    assert_eq!(patched["rate_limit"], Value::Null, "back to the hub's default");

    for (body, field) in [
        (json!({ "rate_limit": { "limit": 0, "window": "minute" } }), "rate_limit.limit"),
        (json!({ "rate_limit": { "limit": 5, "window": "day" } }), "rate_limit.window"),
        (json!({ "rate_limit": { "limit": 5 } }), "rate_limit"),
        (json!({ "rate_limit": { "limit": 5, "window": "hour" }, "rate_limit_per_minute": 5 }), "rate_limit"),
    ] {
        let (status, problem) = app.patch(&format!("{keys}/{id}"), body.clone()).await;
        assert_eq!(status, 422, "{body}: {problem}");
        let fields: Vec<&str> =
            problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert!(fields.iter().any(|f| f.starts_with(field)), "{body}: {fields:?}");
        let mut create = body.clone();
        create["name"] = json!("k");
        create["role"] = json!("read_only");
        let (status, problem) = app.post(&keys, create).await;
        assert_eq!(status, 422, "{body}: {problem}");
    }
});
