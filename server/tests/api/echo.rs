use axum::http::StatusCode;
use reqwest::Method;
use serde_json::json;

use crate::both;
use crate::helpers::{Backend, ScratchDir, TestApp, OPERATOR};

both!(the_echo_inspector_receives_a_test_send_and_verifies_its_signature, |backend: Backend| async move {
    // Private targets refused: the hub's own echo path is the one loopback target allowed.
    let app = TestApp::spawn_with(backend, |c| c.allow_private_targets = false).await;
    let tenant = app.create_tenant("Acme").await;
    let (status, echo) = app.get(&format!("/api/v1/tenants/{tenant}/echo")).await;
    assert_eq!(status, StatusCode::OK, "{echo}");
    let url = echo["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/echo/{tenant}/", app.url)), "{url}");
    let webhook = app.create_webhook(&tenant, json!({ "url": url, "events": ["*"] })).await;

    let (status, sent) = app
        .post(
            &format!("/api/v1/tenants/{tenant}/webhooks/{}/test", webhook["id"].as_str().unwrap()),
            json!({ "event_type": "new_lead", "payload": { "name": "Ada" } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["status"], "delivered", "{sent}");
    let answer: serde_json::Value =
        serde_json::from_str(sent["attempts"][0]["response_body"].as_str().unwrap()).unwrap();
    assert_eq!(answer["signature_verified"], true, "{sent}");

    let (_, echo) = app.get(&format!("/api/v1/tenants/{tenant}/echo")).await;
    let got = &echo["data"][0];
    assert_eq!(got["signature_verified"], true, "{echo}");
    assert_eq!(got["headers"]["x-webhook-event"], "new_lead");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(got["body"].as_str().unwrap()).unwrap()["data"]["name"],
        "Ada"
    );

    // Any other path of the hub itself stays behind the SSRF guard.
    let (status, problem) = app
        .post(
            &format!("/api/v1/tenants/{tenant}/webhooks"),
            json!({ "url": format!("{}/health", app.url), "events": ["*"] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "url", "{problem}");
    // Made under a laxer policy (another instance on the same database), it is blocked when sent.
    let lax = TestApp::spawn_on(ScratchDir::new(), app.database_url.clone(), |_| {}).await;
    let other = lax.create_webhook(&tenant, json!({ "url": format!("{}/health", app.url), "events": ["*"] })).await;
    let (_, sent) =
        app.post(&format!("/api/v1/tenants/{tenant}/webhooks/{}/test", other["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(sent["attempts"][0]["error_kind"], "blocked", "{sent}");
});

both!(a_forged_or_unsigned_request_to_the_echo_is_kept_as_unverified, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let url = format!("{}/echo/{tenant}/inbox", app.url);
    app.create_webhook(&tenant, json!({ "url": url, "events": ["*"] })).await;
    let forged = app
        .http
        .post(&url)
        .header("webhook-id", "evt_1")
        .header("webhook-timestamp", "1700000000")
        .header("webhook-signature", "v1,bm90IGEgc2lnbmF0dXJl")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::OK);
    assert_eq!(forged.json::<serde_json::Value>().await.unwrap()["signature_verified"], false);
    let unsigned = app.http.post(&url).body("hello").send().await.unwrap();
    assert_eq!(unsigned.json::<serde_json::Value>().await.unwrap()["signature_verified"], false);
    let (_, echo) = app.get(&format!("/api/v1/tenants/{tenant}/echo")).await;
    assert_eq!(echo["data"].as_array().unwrap().len(), 2);
    assert_eq!(echo["data"][0]["body"], "hello", "newest first");

    // No such tenant: nothing is kept.
    let stray = app.http.post(format!("{}/echo/tnt_nope/inbox", app.url)).body("{}").send().await.unwrap();
    assert_eq!(stray.status(), StatusCode::NOT_FOUND);
    // Another tenant cannot read this one's inspector.
    let other = app.create_tenant("Other").await;
    let (_, _, key) = app
        .request(
            Method::POST,
            &format!("/api/v1/tenants/{other}/api-keys"),
            Some(OPERATOR),
            Some(json!({ "name": "k", "role": "admin" })),
        )
        .await;
    let (status, _, _) = app
        .request(Method::GET, &format!("/api/v1/tenants/{tenant}/echo"), Some(key["key"].as_str().unwrap()), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

both!(the_live_stream_needs_a_session, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let response =
        app.http.get(format!("{}/ui-api/live", app.url)).header("cookie", "ih_session=forged").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
});
