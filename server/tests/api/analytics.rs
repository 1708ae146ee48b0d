//! Long-range analytics: the 30- and 90-day windows read daily roll-ups (and the hours of the
//! days not rolled up yet) and give the same figures before and after a roll-up and the purge of
//! the hourly counters; a day is rolled up once; a window past the retention is a 422; replays
//! are counted by who made them and what became of them.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use integrations_hub::store::stats::Key;
use integrations_hub::{store, time};
use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{count, Backend, Receiver, TestApp};

const HOUR: i64 = 3600 * 1000;
const DAY: i64 = 24 * HOUR;

/// Adds counters for an endpoint at `at`, as the recorder would have.
async fn add_counts(app: &TestApp, tenant: &str, webhook: &str, at: i64, counts: &[(&str, i64)]) {
    let counts: BTreeMap<Key, i64> = counts
        .iter()
        .map(|(metric, n)| {
            let key = Key {
                tenant_id: tenant.to_string(),
                webhook_id: webhook.to_string(),
                hour: at - at.rem_euclid(HOUR),
                metric: metric.to_string(),
            };
            (key, *n)
        })
        .collect();
    let mut tx = app.hub.db.begin().await.unwrap();
    store::stats::add(&mut tx, &counts).await.unwrap();
    tx.commit().await.unwrap();
}

async fn stats(app: &TestApp, tenant: &str, window: &str) -> Value {
    let (status, body) = app.get(&format!("/api/v1/tenants/{tenant}/stats?window={window}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The figures of the day `days_ago` days before today in a day-by-day answer.
fn day(stats: &Value, days_ago: usize) -> &Value {
    let days = stats["days"].as_array().unwrap();
    &days[days.len() - 1 - days_ago]
}

both!(long_windows_read_daily_roll_ups_and_agree_with_the_hours, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    let hook = app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    let hook = hook["id"].as_str().unwrap();
    for n in 0..3 {
        app.publish(&tenant, "new_lead", json!({ "n": n })).await;
    }
    app.drain().await;
    // Older traffic, as the recorder would have counted it: 20, 40 and 100 days ago (the last
    // outside every window), two hours of the day 20 days ago.
    let now = time::now_ms();
    let today = now - now.rem_euclid(DAY);
    add_counts(&app, &tenant, hook, today - 20 * DAY + 3 * HOUR, &[("ok", 4), ("lat:2", 4)]).await;
    add_counts(&app, &tenant, hook, today - 20 * DAY + 15 * HOUR, &[("ok", 1), ("failed", 1), ("err:timeout", 1)])
        .await;
    add_counts(&app, &tenant, hook, today - 40 * DAY + 5 * HOUR, &[("ok", 7), ("lat:9", 7)]).await;
    add_counts(&app, &tenant, hook, today - 100 * DAY, &[("ok", 100)]).await;

    let month = stats(&app, &tenant, "30d").await;
    assert_eq!(month["window"], "30d");
    assert_eq!(month["hours"], json!([]), "day by day only");
    assert_eq!(month["days"].as_array().unwrap().len(), 30);
    assert_eq!(day(&month, 0)["day"], time::rfc3339(today).as_str());
    assert_eq!(month["since"], time::rfc3339(today - 29 * DAY).as_str());
    assert_eq!(month["overall"]["succeeded"], 3 + 5, "{month}");
    assert_eq!(day(&month, 20)["succeeded"], 5);
    assert_eq!(day(&month, 20)["errors"], json!({ "timeout": 1 }));
    assert_eq!(day(&month, 0)["succeeded"], 3);
    let quarter = stats(&app, &tenant, "90d").await;
    assert_eq!(quarter["days"].as_array().unwrap().len(), 90);
    assert_eq!(quarter["overall"]["succeeded"], 3 + 5 + 7);
    assert_eq!(quarter["overall"]["latency_ms"]["p95"], 50, "the 40-day-old attempts took ≤ 50 ms: {quarter}");
    assert_eq!(quarter["endpoints"][0]["succeeded"], 3 + 5 + 7);
    let week = stats(&app, &tenant, "7d").await;
    assert_eq!((week["hours"].as_array().unwrap().len(), week["days"].as_array().unwrap().len()), (168, 0));
    assert_eq!(week["overall"]["succeeded"], 3);

    // The roll-up adds up every finished day once, however many run it at the same time.
    let (a, b) = tokio::join!(app.hub.roll_up_stats(now), app.hub.roll_up_stats(now));
    let rolled = a.unwrap() + b.unwrap();
    assert!(rolled >= 3, "the days 20, 40 and 100 days ago: {rolled}");
    assert_eq!(app.hub.roll_up_stats(now).await.unwrap(), 0, "each day once");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM stats_rollups").await as u64, rolled);
    assert_eq!(stats(&app, &tenant, "30d").await, month, "the roll-ups give the hours' figures");
    assert_eq!(stats(&app, &tenant, "90d").await, quarter);

    // The retention pass then deletes the hourly counters past their 8 days (and those of 100
    // days ago in the daily ones, past the 90-day retention): the windows read the same.
    let hourly = count(&app, "SELECT COUNT(*) FROM stats_hourly").await;
    let purged = app.hub.purge_expired(now).await.unwrap();
    assert!(purged.stats_rows > 0, "{purged:?}");
    assert!(count(&app, "SELECT COUNT(*) FROM stats_hourly").await < hourly);
    let past_retention = format!("SELECT COUNT(*) FROM stats_daily WHERE day < {}", today - 90 * DAY);
    assert_eq!(count(&app, past_retention).await, 0);
    assert_eq!(stats(&app, &tenant, "30d").await, month, "read from the daily counters alone");
    assert_eq!(stats(&app, &tenant, "90d").await, quarter);
    assert_eq!(stats(&app, &tenant, "7d").await["overall"]["succeeded"], 3);
});

both!(a_window_past_the_retention_is_refused, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.retention.delivery_days = Some(30)).await;
    let tenant = app.create_tenant("Acme").await;
    let (status, problem) = app.get(&format!("/api/v1/tenants/{tenant}/stats?window=90d")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "window", "{problem}");
    assert!(problem.to_string().contains("30-day retention"), "{problem}");
    assert_eq!(stats(&app, &tenant, "30d").await["days"].as_array().unwrap().len(), 30);
    let (status, _) = app.get(&format!("/api/v1/tenants/{tenant}/stats?window=365d")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
});

both!(replays_are_counted_by_who_made_them_and_how_they_ended, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.delivery.max_attempts = 1).await;
    let receiver = Receiver::start().await;
    for _ in 0..3 {
        receiver.reply(500, &[]);
    }
    let tenant = app.create_tenant("Acme").await;
    let other = app.create_tenant("Other").await;
    app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    let mut dead = Vec::new();
    for n in 0..3 {
        dead.push(
            app.publish(&tenant, "new_lead", json!({ "n": n })).await["deliveries"][0].as_str().unwrap().to_string(),
        );
    }
    app.drain().await;
    let (_, key) =
        app.post(&format!("/api/v1/tenants/{tenant}/api-keys"), json!({ "name": "ops-bot", "role": "admin" })).await;
    let (key_id, key) = (key["id"].as_str().unwrap().to_string(), key["key"].as_str().unwrap().to_string());
    assert_eq!(stats(&app, &tenant, "24h").await["replays"]["replays"], 0);

    // The operator replays one, which is delivered (the receiver's queued 500s are used up); the
    // key replays the other two, which fail again on two more 500s.
    let (status, _) = app.post(&format!("/api/v1/tenants/{tenant}/dead-letters/{}/replay", dead[0]), json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    app.drain().await;
    receiver.reply(500, &[]);
    receiver.reply(500, &[]);
    for id in &dead[1..] {
        let path = format!("/api/v1/tenants/{tenant}/webhook-deliveries/{id}/replay");
        let (status, _, body) = app.request(Method::POST, &path, Some(&key), Some(json!({}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    app.drain().await;

    let replays = &stats(&app, &tenant, "24h").await["replays"];
    assert_eq!(
        (&replays["replays"], &replays["delivered"], &replays["dead_letter"], &replays["in_flight"]),
        (&json!(3), &json!(1), &json!(2), &json!(0)),
        "{replays}"
    );
    assert!((replays["success_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(
        replays["by_actor"],
        json!([
            { "actor": key_id, "name": "ops-bot", "replays": 2, "delivered": 0, "dead_letter": 2, "in_flight": 0 },
            { "actor": "operator", "name": null, "replays": 1, "delivered": 1, "dead_letter": 0, "in_flight": 0 },
        ])
    );
    // The long windows count them too; another tenant sees none of them.
    assert_eq!(stats(&app, &tenant, "90d").await["replays"]["replays"], 3);
    assert_eq!(
        stats(&app, &other, "30d").await["replays"],
        json!({
            "replays": 0, "delivered": 0, "dead_letter": 0, "in_flight": 0, "success_rate": null, "by_actor": []
        })
    );
});
