//! The Slack connector against a local fake of Slack's Web API, and alerting.

use std::time::Duration;

use axum::http::StatusCode;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::*;

const TOKEN: &str = "xoxb-111-222-tenantToken";

async fn spawn_with_slack(
    backend: Backend,
    slack: &FakeSlack,
    tweak: impl FnOnce(&mut integrations_hub::config::Config),
) -> TestApp {
    let api_base = slack.api_base.clone();
    TestApp::spawn_with(backend, |c| {
        c.slack_api_base = api_base;
        tweak(c);
    })
    .await
}

async fn put_connector(app: &TestApp, tenant: &str, body: Value) -> (StatusCode, Value) {
    let (status, _, body) = app
        .request(Method::PUT, &format!("/api/v1/tenants/{tenant}/connectors/slack"), Some(OPERATOR), Some(body))
        .await;
    (status, body)
}

/// The connector's one delivery of `event_id`.
async fn connector_delivery(app: &TestApp, tenant: &str, connector: &str) -> Value {
    let (_, log) = app.get(&format!("/api/v1/tenants/{tenant}/webhook-deliveries?webhook_id={connector}")).await;
    let id = log["data"][0]["id"].as_str().unwrap_or_else(|| panic!("no delivery to the connector: {log}")).to_string();
    app.delivery(tenant, &id).await
}

both!(a_submitted_request_becomes_a_readable_slack_message, |backend| async move {
    let slack = FakeSlack::start(&[TOKEN], &["#requests"]).await;
    let app = spawn_with_slack(backend, &slack, |_| {}).await;
    let tenant = app.create_tenant("Acme").await;
    let (status, connector) = put_connector(&app, &tenant, json!({ "bot_token": TOKEN, "channel": "#requests" })).await;
    assert_eq!(status, StatusCode::CREATED, "{connector}");
    assert_eq!(connector["events"], json!(["request_submitted"]), "the default filter");
    assert_eq!(
        (connector["token_source"].as_str(), connector["channel_source"].as_str()),
        (Some("connector"), Some("connector"))
    );

    app.publish(
        &tenant,
        "request_submitted",
        json!({
            "title": "New laptop", "requester": { "name": "Ada Lovelace", "email": "ada@example.com" },
            "description": "16 GB & a <good> keyboard", "url": "https://app.example/requests/42"
        }),
    )
    .await;
    app.publish(&tenant, "new_lead", json!({ "name": "not for Slack" })).await;
    app.drain().await;

    let posts = slack.posts();
    assert_eq!(posts.len(), 1, "only request_submitted is posted: {posts:?}");
    assert_eq!(posts[0].token, TOKEN);
    let body = &posts[0].body;
    assert_eq!(body["channel"], "#requests");
    assert_eq!(body["text"], "New laptop — Ada Lovelace <ada@example.com>");
    let rendered = body["blocks"].to_string();
    assert!(rendered.contains("New laptop") && rendered.contains("Ada Lovelace"), "{rendered}");
    assert!(rendered.contains("16 GB &amp; a &lt;good&gt; keyboard"), "escaped for Slack: {rendered}");
    assert!(rendered.contains("<https://app.example/requests/42|Open>"), "a link back: {rendered}");

    let delivery = connector_delivery(&app, &tenant, connector["id"].as_str().unwrap()).await;
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["attempts"][0]["status_code"], 200);
});

both!(defaults_come_from_configuration_and_a_connector_without_them_is_refused, |backend| async move {
    let slack = FakeSlack::start(&["xoxb-default-1"], &["#general"]).await;
    let app = spawn_with_slack(backend, &slack, |c| {
        c.slack_bot_token = Some("xoxb-default-1".into());
        c.slack_default_channel = Some("#general".into());
    })
    .await;
    let tenant = app.create_tenant("Defaults").await;
    let (status, connector) = put_connector(&app, &tenant, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{connector}");
    assert_eq!(
        (connector["token_source"].as_str(), connector["channel"].as_str()),
        (Some("default"), Some("#general"))
    );
    let (status, sent) = app.post(&format!("/api/v1/tenants/{tenant}/connectors/slack/test"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["status"], "delivered", "{sent}");
    assert_eq!(slack.posts()[0].token, "xoxb-default-1");
    assert_eq!(slack.posts()[0].body["channel"], "#general");

    // A hub with no defaults: the token and the channel are required, bad shapes are named.
    let bare = spawn_with_slack(backend, &slack, |_| {}).await;
    let other = bare.create_tenant("Bare").await;
    let (status, problem) = put_connector(&bare, &other, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["bot_token", "channel"], "{problem}");
    let (status, problem) =
        put_connector(&bare, &other, json!({ "bot_token": "sk_nope", "channel": "General", "events": ["Bad Type"] }))
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 3, "{problem}");
    let (status, _) = bare.get(&format!("/api/v1/tenants/{other}/connectors/slack")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was stored");
    // A family is a choice; "*" (every event into a channel) is not offered.
    let (status, problem) =
        put_connector(&bare, &other, json!({ "bot_token": TOKEN, "channel": "#requests", "events": ["*"] })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, connector) =
        put_connector(&bare, &other, json!({ "bot_token": TOKEN, "channel": "#requests", "events": ["invoice.*"] }))
            .await;
    assert!(status.is_success(), "{connector}");
    assert_eq!(connector["events"], json!(["invoice.*"]));
});

both!(slack_refusals_are_retried_or_dead_lettered_and_can_be_replayed, |backend| async move {
    let slack = FakeSlack::start(&[TOKEN], &["#requests"]).await;
    // Retries wait until the test makes them due: with the tests' usual 10 ms backoff, a drain
    // could retry within its own loop and the failed state would never be seen.
    let app = spawn_with_slack(backend, &slack, |c| c.delivery.backoff_base = Duration::from_secs(60)).await;
    let tenant = app.create_tenant("Refusals").await;
    let (_, connector) = put_connector(&app, &tenant, json!({ "bot_token": TOKEN, "channel": "#requests" })).await;
    let connector_id = connector["id"].as_str().unwrap().to_string();

    // ok: false, ratelimited — retryable: failed, then delivered on the next attempt.
    slack.reply(200, &[], json!({ "ok": false, "error": "ratelimited" }));
    app.publish(&tenant, "request_submitted", json!({ "title": "one" })).await;
    app.drain().await;
    let first = connector_delivery(&app, &tenant, &connector_id).await;
    assert_eq!(first["status"], "failed", "{first}");
    assert_eq!(first["attempts"][0]["error_kind"], "ratelimited");
    app.make_retries_due().await;
    app.drain().await;
    let first = app.delivery(&tenant, first["id"].as_str().unwrap()).await;
    assert_eq!(first["status"], "delivered", "{first}");
    assert_eq!(first["attempts"].as_array().unwrap().len(), 2);

    // HTTP 429 with Retry-After is honoured like any receiver's.
    slack.reply(429, &[("retry-after", "30")], json!({ "ok": false, "error": "ratelimited" }));
    let (_, sent) = app.post(&format!("/api/v1/tenants/{tenant}/connectors/slack/test"), json!({})).await;
    assert_eq!(sent["status"], "failed", "{sent}");
    let wait_ms = integrations_hub::time::parse_rfc3339(sent["next_attempt_at"].as_str().unwrap()).unwrap()
        - integrations_hub::time::now_ms();
    assert!(wait_ms > 25_000, "Retry-After: 30 was honoured ({wait_ms} ms)");

    // channel_not_found — final: dead-lettered after one attempt, whatever attempts are left.
    let (_, connector) = put_connector(&app, &tenant, json!({ "channel": "#gone" })).await;
    assert_eq!(connector["channel"], "#gone");
    let (_, sent) = app.post(&format!("/api/v1/tenants/{tenant}/connectors/slack/test"), json!({})).await;
    assert_eq!(sent["status"], "dead_letter", "{sent}");
    assert_eq!(sent["attempts"][0]["error_kind"], "channel_not_found");
    assert!(sent["last_error"].as_str().unwrap().contains("channel_not_found"));

    // invalid_auth — final too.
    put_connector(&app, &tenant, json!({ "channel": "#requests", "bot_token": "xoxb-wrong" })).await;
    let (_, bad_auth) = app.post(&format!("/api/v1/tenants/{tenant}/connectors/slack/test"), json!({})).await;
    assert_eq!(
        (bad_auth["status"].as_str(), bad_auth["attempts"][0]["error_kind"].as_str()),
        (Some("dead_letter"), Some("invalid_auth"))
    );

    // Fixed, the dead letter replays through the same engine.
    put_connector(&app, &tenant, json!({ "bot_token": TOKEN })).await;
    let (status, replay) = app
        .post(&format!("/api/v1/tenants/{tenant}/dead-letters/{}/replay", sent["id"].as_str().unwrap()), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{replay}");
    app.drain().await;
    let replayed = app.delivery(&tenant, replay["id"].as_str().unwrap()).await;
    assert_eq!(replayed["status"], "delivered", "{replayed}");
    assert_eq!(replayed["replay_of"], sent["id"]);

    // The analytics count the refusals by Slack's error code.
    let (_, stats) = app.get(&format!("/api/v1/tenants/{tenant}/stats")).await;
    let errors = &stats["overall"]["errors"];
    assert_eq!(
        (errors["ratelimited"].as_i64(), errors["channel_not_found"].as_i64(), errors["invalid_auth"].as_i64()),
        (Some(1), Some(1), Some(1)),
        "{stats}"
    );
});

both!(the_bot_token_is_sealed_never_shown_and_the_connector_is_the_tenants_own, |backend| async move {
    let slack = FakeSlack::start(&[TOKEN], &["#requests"]).await;
    let app = spawn_with_slack(backend, &slack, |_| {}).await;
    let tenant = app.create_tenant("Sealed").await;
    let stranger = app.create_tenant("Stranger").await;
    let (_, connector) = put_connector(&app, &tenant, json!({ "bot_token": TOKEN, "channel": "#requests" })).await;
    let id = connector["id"].as_str().unwrap().to_string();
    assert!(!connector.to_string().contains(TOKEN), "never shown: {connector}");

    let sealed: Vec<u8> = integrations_hub::on_db!(&app.hub.db, pool => sqlx::query_scalar("SELECT secret FROM webhooks WHERE id = $1").bind(&id).fetch_one(pool).await).unwrap();
    assert!(!sealed.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()), "the token is encrypted at rest");
    let (_, audit) = app.get(&format!("/api/v1/tenants/{tenant}/audit-log?action=connector")).await;
    assert_eq!(audit["data"][0]["action"], "connector.slack_updated");
    assert!(!audit.to_string().contains(TOKEN));

    // Not a webhook: the webhook routes do not see it.
    let (_, hooks) = app.get(&format!("/api/v1/tenants/{tenant}/webhooks")).await;
    assert_eq!(hooks["data"], json!([]));
    let (status, _) = app.get(&format!("/api/v1/tenants/{tenant}/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Another tenant's key sees no connector of this tenant, and cannot change it.
    let (_, key) =
        app.post(&format!("/api/v1/tenants/{stranger}/api-keys"), json!({ "name": "k", "role": "admin" })).await;
    let key = key["key"].as_str().unwrap().to_string();
    let (status, _, _) =
        app.request(Method::GET, &format!("/api/v1/tenants/{tenant}/connectors/slack"), Some(&key), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = app
        .request(
            Method::PUT,
            &format!("/api/v1/tenants/{tenant}/connectors/slack"),
            Some(&key),
            Some(json!({ "enabled": false })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) =
        app.request(Method::GET, &format!("/api/v1/tenants/{stranger}/connectors/slack"), Some(&key), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the stranger has none of its own");

    // Deleted, it is gone (and a new one may be made).
    let (status, _, _) =
        app.request(Method::DELETE, &format!("/api/v1/tenants/{tenant}/connectors/slack"), Some(OPERATOR), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&format!("/api/v1/tenants/{tenant}/connectors/slack")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, again) = put_connector(&app, &tenant, json!({ "bot_token": TOKEN, "channel": "#requests" })).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(again["id"].as_str(), Some(id.as_str()));
});

both!(a_failing_endpoint_raises_alerts_once_and_slack_carries_them, |backend| async move {
    let slack = FakeSlack::start(&[TOKEN], &["#ops"]).await;
    let app = spawn_with_slack(backend, &slack, |c| {
        c.delivery.alert_after_failures = 3;
        c.delivery.disable_after_failures = 5;
    })
    .await;
    let tenant = app.create_tenant("Alerts").await;
    let (status, _) = put_connector(
        &app,
        &tenant,
        json!({ "bot_token": TOKEN, "channel": "#ops", "events": ["webhook.failing", "webhook.disabled"] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let receiver = Receiver::start().await;
    let webhook =
        app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["new_lead"], "max_attempts": 1 })).await;
    let listener = Receiver::start().await;
    app.create_webhook(&tenant, json!({ "url": listener.url, "events": ["webhook.failing"] })).await;

    // Failures one at a time, so the streak grows across batches: 1, 2, 3 (alert), 4, 5 (disabled).
    for n in 0..5 {
        receiver.reply(500, &[]);
        app.publish(&tenant, "new_lead", json!({ "n": n })).await;
        app.drain().await;
    }
    let posts = slack.posts();
    let titles: Vec<&str> = posts.iter().map(|p| p.body["blocks"][0]["text"]["text"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        ["⚠️ A webhook endpoint is failing", "⛔ A webhook endpoint was disabled"],
        "one alert per streak, then the disable"
    );
    assert!(posts[0].body["blocks"].to_string().contains(receiver.url.as_str()), "the alert names the endpoint");
    assert!(posts[0].body["blocks"].to_string().contains("*Consecutive failures*\\n3"));

    // The operational event reached the endpoint subscribed to it, with the streak and last error.
    let alerts = listener.received();
    assert_eq!(alerts.len(), 1, "webhook.failing once");
    let alert: Value = serde_json::from_str(&alerts[0].body).unwrap();
    assert_eq!(alert["type"], "webhook.failing");
    assert_eq!(alert["data"]["webhook_id"], webhook["id"]);
    assert_eq!(alert["data"]["consecutive_failures"], 3);
    assert_eq!(alert["data"]["last_error"], "HTTP 500");

    // Re-enabled and failing again: a new streak raises a new alert.
    let (_, _, _) = app
        .request(
            Method::PATCH,
            &format!("/api/v1/tenants/{tenant}/webhooks/{}", webhook["id"].as_str().unwrap()),
            Some(OPERATOR),
            Some(json!({ "enabled": true })),
        )
        .await;
    for n in 0..3 {
        receiver.reply(500, &[]);
        app.publish(&tenant, "new_lead", json!({ "again": n })).await;
        app.drain().await;
    }
    assert_eq!(listener.received().len(), 2, "a second streak, a second alert");
    assert_eq!(slack.posts().len(), 3);
});
