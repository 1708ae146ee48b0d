//! Scheduled rotation: an endpoint's secret rotated on time, once over several instances; an API
//! key's owner told when its rotation is due; subscribers told, never sent a secret.

use serde_json::{json, Value};

use crate::both;
use crate::helpers::{Backend, Receiver, ScratchDir, TestApp};

const DAY_MS: i64 = 86_400_000;

/// `PUT` with the operator token: status, headers, body.
async fn put(
    app: &TestApp,
    path: &str,
    body: Option<Value>,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
    app.request(reqwest::Method::PUT, path, Some(crate::helpers::OPERATOR), body).await
}

async fn delete(app: &TestApp, path: &str) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
    app.request(reqwest::Method::DELETE, path, Some(crate::helpers::OPERATOR), None).await
}

both!(rotations_happen_on_time_once_over_two_instances_and_subscribers_are_told, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let other = TestApp::spawn_on(ScratchDir::new(), app.database_url.clone(), |_| {}).await;
    let receiver = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    let hook = app
        .create_webhook(
            &tenant,
            json!({ "url": receiver.url, "events": ["webhook.secret_rotated", "api_key.rotation_due"] }),
        )
        .await;
    let hook_path = format!("/api/v1/tenants/{tenant}/webhooks/{}", hook["id"].as_str().unwrap());
    let secret_of = |app: &TestApp| {
        let path = format!("{hook_path}/secret");
        let app = app.url.clone();
        async move {
            let client = crate::helpers::test_client();
            let got: Value = client
                .get(format!("{app}{path}"))
                .bearer_auth(crate::helpers::OPERATOR)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            got["secret"].as_str().unwrap().to_string()
        }
    };
    let first_secret = secret_of(&app).await;
    let now = integrations_hub::time::now_ms();

    let schedule = json!({ "every_days": 7, "grace_period_seconds": 3600 });
    let (status, _, scheduled) = put(&app, &format!("{hook_path}/rotation-schedule"), Some(schedule)).await;
    assert_eq!(status, 200, "{scheduled}");
    assert_eq!(scheduled["secret_rotation"]["every_days"], 7);
    assert_eq!(scheduled["secret_rotation"]["grace_period_seconds"], 3600);
    let (_, key) =
        app.post(&format!("/api/v1/tenants/{tenant}/api-keys"), json!({ "name": "crm", "role": "read_only" })).await;
    let key_path = format!("/api/v1/tenants/{tenant}/api-keys/{}", key["id"].as_str().unwrap());
    let (status, _, reminded) =
        put(&app, &format!("{key_path}/rotation-schedule"), Some(json!({ "every_days": 30 }))).await;
    assert_eq!(status, 200, "{reminded}");
    assert_eq!(reminded["rotation"]["every_days"], 30);

    assert_eq!(app.hub.rotate_due(now).await.unwrap(), 0, "nothing is due yet");
    // Eight days on, both instances look at once: one rotation.
    let (a, b) = tokio::join!(app.hub.rotate_due(now + 8 * DAY_MS), other.hub.rotate_due(now + 8 * DAY_MS));
    assert_eq!(a.unwrap() + b.unwrap(), 1, "the endpoint's turn, taken once");
    let second_secret = secret_of(&app).await;
    assert_ne!(second_secret, first_secret);
    let (_, hook) = app.get(&hook_path).await;
    let next = integrations_hub::time::parse_rfc3339(hook["secret_rotation"]["next_at"].as_str().unwrap()).unwrap();
    assert!(next > now + 13 * DAY_MS && next <= now + 14 * DAY_MS + 1_000, "a week after the turn it took");

    // A month on: the endpoint's next turn, and the key's reminder (the hub cannot rotate a key).
    let (a, b) = tokio::join!(app.hub.rotate_due(now + 31 * DAY_MS), other.hub.rotate_due(now + 31 * DAY_MS));
    assert_eq!(a.unwrap() + b.unwrap(), 2);
    let (_, key_now) = app.get(&key_path).await;
    assert_eq!(key_now["status"], "active", "the key itself is left to its owner");
    app.drain().await;
    let received = receiver.wait_for(3).await;
    let types: Vec<String> = received
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types.iter().filter(|t| *t == "webhook.secret_rotated").count(), 2, "{types:?}");
    assert_eq!(types.iter().filter(|t| *t == "api_key.rotation_due").count(), 1, "{types:?}");
    let third_secret = secret_of(&app).await;
    for r in &received {
        for secret in [&first_secret, &second_secret, &third_secret] {
            assert!(!r.body.contains(secret.as_str()), "an event carries a secret: {}", r.body);
        }
    }
    let (_, audit) = app.get(&format!("/api/v1/tenants/{tenant}/audit-log")).await;
    let rotated = audit["data"].as_array().unwrap().iter().filter(|e| e["action"] == "webhook.secret_rotated").count();
    assert_eq!(rotated, 2);

    // A successor keeps its key's schedule; a schedule is checked; and it can be stopped.
    let (_, successor) = app.post(&format!("{key_path}/rotate"), json!({})).await;
    assert_eq!(successor["rotation"]["every_days"], 30, "{successor}");
    let (status, _, problem) =
        put(&app, &format!("{hook_path}/rotation-schedule"), Some(json!({ "every_days": 0 }))).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "every_days");
    let (status, _, stopped) = delete(&app, &format!("{hook_path}/rotation-schedule")).await;
    assert_eq!(status, 200);
    assert_eq!(stopped["secret_rotation"], Value::Null);

    // A revoked key has no schedule to set (409), an unknown one is not found (404): answered, not
    // left waiting (the look-up runs after the write's transaction ends).
    let (status, _) = app.post(&format!("{key_path}/revoke"), json!({})).await;
    assert_eq!(status, 200);
    let (status, _, _) = put(&app, &format!("{key_path}/rotation-schedule"), Some(json!({ "every_days": 30 }))).await;
    assert_eq!(status, 409);
    let unknown = format!("/api/v1/tenants/{tenant}/api-keys/key_01JABCDEFGHJKMNPQRSTVWXYZ0/rotation-schedule");
    let (status, _, _) = delete(&app, &unknown).await;
    assert_eq!(status, 404);
});
