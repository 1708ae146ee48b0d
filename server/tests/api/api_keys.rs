use std::time::{Duration, Instant};

use axum::http::StatusCode;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{clear_of_a_minute_boundary, Backend, GatedReceiver, ScratchDir, TestApp};

async fn create_key(app: &TestApp, tenant: &str, body: Value) -> Value {
    let (status, key) = app.post(&format!("/api/v1/tenants/{tenant}/api-keys"), body).await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    key
}

fn secret(key: &Value) -> String {
    key["key"].as_str().unwrap().to_string()
}

both!(a_key_is_shown_once_and_stored_only_as_a_hash, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let created = create_key(&app, &tenant, json!({ "name": "ci", "role": "admin" })).await;
    let key = secret(&created);
    assert!(key.starts_with("sk_") && key.len() == 52);
    assert!(key.starts_with(created["prefix"].as_str().unwrap()));
    let (_, listed) = app.get(&format!("/api/v1/tenants/{tenant}/api-keys")).await;
    let text = listed.to_string();
    assert!(!text.contains(&key) && !text.contains("key_hash"), "{text}");
    assert_eq!(listed["data"][0]["status"], "active");
    let stored: Vec<(String,)> = integrations_hub::on_db!(&app.hub.db, pool =>
        sqlx::query_as("SELECT key_hash FROM api_keys").fetch_all(pool).await)
    .unwrap();
    assert_eq!(stored[0].0, integrations_hub::crypto::sha256_hex(key.as_bytes()));
    // The key works for its tenant, with either header.
    let (status, _, _) =
        app.request(Method::GET, &format!("/api/v1/tenants/{tenant}/webhooks"), Some(&key), None).await;
    assert_eq!(status, StatusCode::OK);
    let response = app
        .http
        .get(format!("{}/api/v1/tenants/{tenant}/webhooks", app.url))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
});

both!(keys_stay_inside_their_tenant_and_their_scopes, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let acme = app.create_tenant("Acme").await;
    let globex = app.create_tenant("Globex").await;
    let globex_hook = app.create_webhook(&globex, json!({ "url": "https://example.com/g", "events": ["*"] })).await;
    let reader = secret(&create_key(&app, &acme, json!({ "name": "r", "role": "read_only" })).await);
    let writer = secret(&create_key(&app, &acme, json!({ "name": "w", "role": "read_write" })).await);
    let call = |method: Method, path: String, key: String, body: Option<Value>| {
        let app = &app;
        async move { app.request(method, &path, Some(&key), body).await.0 }
    };
    // Another tenant's resources do not exist for this key.
    assert_eq!(
        call(Method::GET, format!("/api/v1/tenants/{globex}/webhooks"), writer.clone(), None).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(
            Method::GET,
            format!("/api/v1/tenants/{globex}/webhooks/{}", globex_hook["id"].as_str().unwrap()),
            writer.clone(),
            None
        )
        .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(Method::GET, format!("/api/v1/tenants/{globex}"), writer.clone(), None).await,
        StatusCode::NOT_FOUND
    );
    // Scopes: read-only reads, but may not write or publish; read-write may not manage keys.
    let hook = json!({ "url": "https://example.com/a", "events": ["*"] });
    assert_eq!(
        call(Method::GET, format!("/api/v1/tenants/{acme}/webhooks"), reader.clone(), None).await,
        StatusCode::OK
    );
    assert_eq!(
        call(Method::POST, format!("/api/v1/tenants/{acme}/webhooks"), reader.clone(), Some(hook.clone())).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            Method::POST,
            format!("/api/v1/tenants/{acme}/events"),
            reader.clone(),
            Some(json!({ "event_type": "new_lead", "payload": {} }))
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(Method::POST, format!("/api/v1/tenants/{acme}/webhooks"), writer.clone(), Some(hook)).await,
        StatusCode::CREATED
    );
    assert_eq!(
        call(Method::GET, format!("/api/v1/tenants/{acme}/api-keys"), writer.clone(), None).await,
        StatusCode::FORBIDDEN
    );
    // Only the operator manages tenants.
    assert_eq!(
        call(Method::POST, "/api/v1/tenants".into(), writer.clone(), Some(json!({ "name": "x" }))).await,
        StatusCode::FORBIDDEN
    );
    // A malformed key is refused (no look-up needed); so is one with a broken checksum.
    let mut broken = writer.clone();
    broken.replace_range(10..11, if &writer[10..11] == "a" { "b" } else { "a" });
    assert_eq!(
        call(Method::GET, format!("/api/v1/tenants/{acme}/webhooks"), broken, None).await,
        StatusCode::UNAUTHORIZED
    );
    // Credentials are hashed as bytes; one that is not UTF-8 is refused like any other unknown.
    let mut not_text = format!("Bearer {writer}").into_bytes();
    not_text.push(0xe9);
    let response = app
        .http
        .get(format!("{}/api/v1/tenants/{acme}/webhooks", app.url))
        .header("authorization", reqwest::header::HeaderValue::from_bytes(&not_text).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], 401);
});

both!(expired_keys_fail_and_say_so, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let created =
        create_key(&app, &tenant, json!({ "name": "old", "role": "admin", "expires_at": "2999-01-01T00:00:00Z" }))
            .await;
    let key = secret(&created);
    let (status, body) = app
        .post(
            &format!("/api/v1/tenants/{tenant}/api-keys"),
            json!({ "name": "x", "role": "admin", "expires_at": "2000-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("expires_at")));
    integrations_hub::on_db!(&app.hub.db, pool => sqlx::query("UPDATE api_keys SET expires_at = 1").execute(pool).await.map(|r| r.rows_affected())).unwrap();
    app.hub.forget_key_hash(&integrations_hub::crypto::sha256_hex(key.as_bytes()));
    let (status, _, _) =
        app.request(Method::GET, &format!("/api/v1/tenants/{tenant}/webhooks"), Some(&key), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, got) = app.get(&format!("/api/v1/tenants/{tenant}/api-keys/{}", created["id"].as_str().unwrap())).await;
    assert_eq!(got["status"], "expired");
});

both!(rotation_keeps_the_old_key_for_its_grace_period_only, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let path = format!("/api/v1/tenants/{tenant}/webhooks");
    let first = create_key(&app, &tenant, json!({ "name": "svc", "role": "read_write" })).await;
    let (status, second) = app
        .post(
            &format!("/api/v1/tenants/{tenant}/api-keys/{}/rotate", first["id"].as_str().unwrap()),
            json!({ "grace_period_seconds": 3600, "expires_at": "2999-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_ne!(secret(&second), secret(&first));
    assert_eq!(second["expires_at"], "2999-01-01T00:00:00.000Z");
    assert_eq!(second["scopes"], first["scopes"]);
    for key in [secret(&first), secret(&second)] {
        assert_eq!(app.request(Method::GET, &path, Some(&key), None).await.0, StatusCode::OK);
    }
    let (_, old) = app.get(&format!("/api/v1/tenants/{tenant}/api-keys/{}", first["id"].as_str().unwrap())).await;
    assert_eq!(old["rotated_to"], second["id"]);
    let grace_end = integrations_hub::time::parse_rfc3339(old["expires_at"].as_str().unwrap()).unwrap();
    assert!((grace_end - integrations_hub::time::now_ms() - 3_600_000).abs() < 60_000);
    // Without a grace period the old key stops at once.
    let (_, third) = app
        .post(&format!("/api/v1/tenants/{tenant}/api-keys/{}/rotate", second["id"].as_str().unwrap()), json!({}))
        .await;
    assert_eq!(app.request(Method::GET, &path, Some(&secret(&second)), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.request(Method::GET, &path, Some(&secret(&third)), None).await.0, StatusCode::OK);
});

both!(a_key_is_rotated_once_even_by_requests_that_cross, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let key = create_key(&app, &tenant, json!({ "name": "svc", "role": "read_write" })).await;
    let id = key["id"].as_str().unwrap();
    let path = format!("/api/v1/tenants/{tenant}/api-keys/{id}/rotate");
    // Eight rotations at once (a double click, two deploy jobs): each read the key as active.
    let answers =
        futures::future::join_all((0..8).map(|_| app.post(&path, json!({ "grace_period_seconds": 3600 })))).await;
    let successors: Vec<&Value> =
        answers.iter().filter(|(status, _)| *status == StatusCode::CREATED).map(|(_, key)| key).collect();
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| status.as_u16()).collect();
    assert_eq!(successors.len(), 1, "one successor: {statuses:?}");
    assert!(statuses.iter().all(|status| [201, 409].contains(status)), "{statuses:?}");
    let (_, keys) = app.get(&format!("/api/v1/tenants/{tenant}/api-keys")).await;
    assert_eq!(keys["data"].as_array().unwrap().len(), 2, "the key and its one successor: {keys}");
    let (_, old) = app.get(&format!("/api/v1/tenants/{tenant}/api-keys/{id}")).await;
    assert_eq!(old["rotated_to"], successors[0]["id"]);
    // Rotating it again in its grace period is refused, naming the key to rotate instead.
    let (status, again) = app.post(&path, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(again["detail"].as_str().unwrap().contains(successors[0]["id"].as_str().unwrap()), "{again}");
});

both!(a_revoke_and_a_rotation_that_cross_keep_both_effects, |backend: Backend| async move {
    use integrations_hub::store::api_keys::{end, mark_rotated};
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let now = integrations_hub::time::now_ms();
    // A rotation that read the key before a revoke committed writes nothing: the key stays revoked.
    let revoked = create_key(&app, &tenant, json!({ "name": "a", "role": "read_only" })).await;
    let revoked_id = revoked["id"].as_str().unwrap();
    app.post(&format!("/api/v1/tenants/{tenant}/api-keys/{revoked_id}/revoke"), json!({})).await;
    let mut tx = app.hub.db.begin().await.unwrap();
    assert!(!mark_rotated(&mut tx, &tenant.clone().into(), revoked_id, now + 3_600_000, "key_late", now)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    let (_, got) = app.get(&format!("/api/v1/tenants/{tenant}/api-keys/{revoked_id}")).await;
    assert_eq!((got["status"].as_str(), &got["rotated_to"]), (Some("revoked"), &Value::Null));
    let path = format!("/api/v1/tenants/{tenant}/webhooks");
    assert_eq!(app.request(Method::GET, &path, Some(&secret(&revoked)), None).await.0, StatusCode::UNAUTHORIZED);
    // A revoke that read the key before a rotation committed keeps the rotation's successor and
    // grace period: it only adds the revocation.
    let rotated = create_key(&app, &tenant, json!({ "name": "b", "role": "read_only" })).await;
    let rotated_id = rotated["id"].as_str().unwrap();
    let (_, successor) = app
        .post(&format!("/api/v1/tenants/{tenant}/api-keys/{rotated_id}/rotate"), json!({ "grace_period_seconds": 60 }))
        .await;
    let mut tx = app.hub.db.begin().await.unwrap();
    let row = end(&mut tx, &tenant.clone().into(), rotated_id, false, now).await.unwrap().expect("the key exists");
    tx.commit().await.unwrap();
    assert_eq!(row.rotated_to.as_deref(), successor["id"].as_str());
    assert!(row.revoked_at.is_some() && row.expires_at.is_some_and(|at| at > now), "{row:?}");
});

both!(revocation_is_immediate_here_and_within_a_second_on_another_instance, |backend: Backend| async move {
    let a = TestApp::spawn(backend).await;
    let dir = ScratchDir::new();
    let b = TestApp::spawn_on(dir, a.database_url.clone(), |_| {}).await;
    let tenant = a.create_tenant("Acme").await;
    let created = create_key(&a, &tenant, json!({ "name": "k", "role": "read_only" })).await;
    let key = secret(&created);
    let path = format!("/api/v1/tenants/{tenant}/webhooks");
    // Instance B has seen (and cached) the key.
    assert_eq!(b.request(Method::GET, &path, Some(&key), None).await.0, StatusCode::OK);
    let (status, revoked) = a
        .post(&format!("/api/v1/tenants/{tenant}/api-keys/{}/revoke", created["id"].as_str().unwrap()), json!({}))
        .await;
    assert_eq!((status, revoked["status"].as_str()), (StatusCode::OK, Some("revoked")));
    let revoked_at = Instant::now();
    assert_eq!(a.request(Method::GET, &path, Some(&key), None).await.0, StatusCode::UNAUTHORIZED);
    loop {
        if b.request(Method::GET, &path, Some(&key), None).await.0 == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(revoked_at.elapsed() < Duration::from_secs(1), "instance B still accepts the revoked key");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
});

both!(rate_limits_answer_429_with_headers, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let created =
        create_key(&app, &tenant, json!({ "name": "k", "role": "read_only", "rate_limit_per_minute": 2 })).await;
    let key = secret(&created);
    let path = format!("/api/v1/tenants/{tenant}/webhooks");
    clear_of_a_minute_boundary().await;
    let (status, headers, _) = app.request(Method::GET, &path, Some(&key), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-ratelimit-limit"], "2");
    assert_eq!(headers["x-ratelimit-remaining"], "1");
    assert_eq!(headers["ratelimit-policy"], "\"per-minute\";q=2;w=60");
    assert!(headers["ratelimit"].to_str().unwrap().starts_with("\"per-minute\";r=1;t="));
    app.request(Method::GET, &path, Some(&key), None).await;
    let (status, headers, body) = app.request(Method::GET, &path, Some(&key), None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["status"], 429);
    // The sliding window: the rest of this minute, then until the two requests weigh one (half
    // of the next minute).
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((31..=90).contains(&retry), "{retry}");
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    // Usage shows what happened, by outcome; last_used_at is set.
    let (_, usage) =
        app.get(&format!("/api/v1/tenants/{tenant}/api-keys/{}/usage", created["id"].as_str().unwrap())).await;
    assert_eq!(usage["data"][0]["ok"], 2, "{usage}");
    assert_eq!(usage["data"][0]["rate_limited"], 1);
    let (_, got) = app.get(&format!("/api/v1/tenants/{tenant}/api-keys/{}", created["id"].as_str().unwrap())).await;
    assert!(got["last_used_at"].is_string());
});

both!(ip_allow_lists_and_trusted_proxies, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let plain = TestApp::spawn_on(ScratchDir::new(), app.database_url.clone(), |_| {}).await;
    let tenant = app.create_tenant("Acme").await;
    let office = secret(
        &create_key(
            &app,
            &tenant,
            json!({ "name": "office", "role": "read_only", "allowed_ips": ["10.0.0.0/8", "2001:db8::/32"] }),
        )
        .await,
    );
    let local = secret(
        &create_key(&app, &tenant, json!({ "name": "local", "role": "read_only", "allowed_ips": ["127.0.0.1"] })).await,
    );
    let path = format!("/api/v1/tenants/{tenant}/webhooks");
    let from = |app: &TestApp, key: &str, forwarded: Option<&str>| {
        let mut request = app.http.get(format!("{}{path}", app.url)).bearer_auth(key);
        if let Some(f) = forwarded {
            request = request.header("x-forwarded-for", f);
        }
        request.send()
    };
    assert_eq!(from(&app, &local, None).await.unwrap().status(), 200);
    assert_eq!(from(&app, &office, None).await.unwrap().status(), 403);
    // Behind a trusted proxy, the forwarded address counts (IPv4 and IPv6)...
    assert_eq!(from(&app, &office, Some("10.1.2.3")).await.unwrap().status(), 200);
    assert_eq!(from(&app, &office, Some("2001:db8::7, 127.0.0.1")).await.unwrap().status(), 200);
    // ...but from an untrusted peer the header is ignored.
    assert_eq!(from(&plain, &office, Some("10.1.2.3")).await.unwrap().status(), 403);
});

both!(idempotency_keys_replay_the_first_answer, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let send = |body: Value| {
        app.http
            .post(format!("{}/api/v1/tenants", app.url))
            .bearer_auth(crate::helpers::OPERATOR)
            .header("idempotency-key", "abc-1")
            .json(&body)
            .send()
    };
    let first = send(json!({ "name": "Once" })).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send(json!({ "name": "Once" })).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    let (_, tenants) = app.get("/api/v1/tenants").await;
    assert_eq!(tenants["data"].as_array().unwrap().len(), 1, "created once");
    assert_eq!(send(json!({ "name": "Other" })).await.unwrap().status(), 409);

    // A key that is empty, too long or not visible ASCII is refused by name, not ignored.
    let long = "k".repeat(256);
    let bad: [&[u8]; 3] = [b"", long.as_bytes(), b"caf\xe9"];
    for value in bad {
        let response = app
            .http
            .post(format!("{}/api/v1/tenants", app.url))
            .bearer_auth(crate::helpers::OPERATOR)
            .header("idempotency-key", reqwest::header::HeaderValue::from_bytes(value).unwrap())
            .json(&json!({ "name": "Bad" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{value:?}");
        assert_eq!(response.json::<Value>().await.unwrap()["errors"][0]["field"], "Idempotency-Key");
    }
    let (_, tenants) = app.get("/api/v1/tenants").await;
    assert_eq!(tenants["data"].as_array().unwrap().len(), 1, "none of them created a tenant");
});

/// The path of a test send to a receiver that holds it open: a POST that stays in its route for
/// as long as the test wants.
async fn held_test_send(app: &TestApp) -> (String, GatedReceiver) {
    let gate = GatedReceiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    let webhook = app.create_webhook(&tenant, json!({ "url": gate.url, "events": ["*"] })).await;
    let path = format!("{}/api/v1/tenants/{tenant}/webhooks/{}/test", app.url, webhook["id"].as_str().unwrap());
    (path, gate)
}

fn send_with_key(
    app: &TestApp,
    path: &str,
    key: &str,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> {
    app.http
        .post(path)
        .bearer_auth(crate::helpers::OPERATOR)
        .header("idempotency-key", key)
        .json(&json!({ "payload": { "n": 1 } }))
        .send()
}

both!(a_retry_while_the_first_request_is_answered_waits_instead_of_running_it_again, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.delivery.timeout = Duration::from_secs(60)).await;
    let (path, gate) = held_test_send(&app).await;
    let first = tokio::spawn(send_with_key(&app, &path, "send-1"));
    gate.wait_in_flight(1).await;
    let retry = send_with_key(&app, &path, "send-1").await.unwrap();
    assert_eq!(retry.status(), 409);
    assert_eq!(retry.headers()["retry-after"], "1");
    let problem: Value = retry.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("still being answered"), "{problem}");
    gate.open();
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let again = send_with_key(&app, &path, "send-1").await.unwrap();
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    assert_eq!(gate.answered(), 1, "the receiver got the test send once");
});

both!(a_request_whose_client_gives_up_still_finishes_and_its_retry_gets_the_answer, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.delivery.timeout = Duration::from_secs(60)).await;
    let (path, gate) = held_test_send(&app).await;
    let first = tokio::spawn(send_with_key(&app, &path, "send-2"));
    gate.wait_in_flight(1).await;
    // The client gives up (as on its timeout): the connection closes mid-request.
    first.abort();
    let _ = first.await;
    gate.open();
    gate.wait_done(1).await;
    // The answer is kept just after the receiver's reply; until then a retry is asked to wait.
    let again = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let response = send_with_key(&app, &path, "send-2").await.unwrap();
            if response.status() != 409 {
                return response;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the first request's answer is kept");
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotency-replayed"], "true", "the retry replays the first answer");
    assert_eq!(again.json::<Value>().await.unwrap()["status"], "delivered");
    assert_eq!(gate.answered(), 1, "the test send was not made again");
});

both!(an_idempotency_key_left_in_progress_is_taken_over_after_a_minute, |backend: Backend| async move {
    use integrations_hub::store::idempotency::{
        abandon, claim, finish, Claim, IN_PROGRESS, TAKE_OVER_AFTER_MS, TTL_MS,
    };
    let app = TestApp::spawn(backend).await;
    let db = &app.hub.db;
    let t = 1_000_000_000_000;
    assert_eq!(claim(db, "operator", "k", "h1", t).await.unwrap(), Claim::Ours);
    let busy = Claim::Taken { request_hash: "h1".into(), status: IN_PROGRESS, body: String::new() };
    assert_eq!(claim(db, "operator", "k", "h1", t + TAKE_OVER_AFTER_MS - 1).await.unwrap(), busy);
    // Another caller's key of the same name is its own.
    assert_eq!(claim(db, "key_2", "k", "h1", t).await.unwrap(), Claim::Ours);
    // A hub stopped mid-request left it in progress: after a minute a retry takes it over, and
    // the stopped request's claim can neither keep an answer nor free the key any more.
    let later = t + TAKE_OVER_AFTER_MS;
    assert_eq!(claim(db, "operator", "k", "h1", later).await.unwrap(), Claim::Ours);
    finish(db, "operator", "k", t, 500, "stale").await.unwrap();
    abandon(db, "operator", "k", t).await.unwrap();
    finish(db, "operator", "k", later, 201, "{}").await.unwrap();
    let kept = Claim::Taken { request_hash: "h1".into(), status: 201, body: "{}".into() };
    assert_eq!(claim(db, "operator", "k", "h1", later + TTL_MS - 1).await.unwrap(), kept);
    // An answer past its 24 hours is not replayed: the key is claimed afresh.
    assert_eq!(claim(db, "operator", "k", "h2", later + TTL_MS).await.unwrap(), Claim::Ours);
    // A freed key (the request failed with a server error) is claimed by the retry.
    abandon(db, "operator", "k", later + TTL_MS).await.unwrap();
    assert_eq!(claim(db, "operator", "k", "h2", later + TTL_MS + 1).await.unwrap(), Claim::Ours);
});
both!(a_route_that_panics_frees_its_idempotency_key_for_the_retry, |backend: Backend| async move {
    use axum::response::IntoResponse;
    use integrations_hub::domain::auth::{Actor, Principal};
    use integrations_hub::http::idempotency;
    let app = TestApp::spawn(backend).await;
    let request = || {
        let mut request = axum::extract::Request::post("/api/v1/tenants")
            .header("idempotency-key", "panics-once")
            .body(axum::body::Body::from("{}"))
            .unwrap();
        request.extensions_mut().insert(Actor::new(Principal::Operator, None));
        request
    };
    let panics = |_| async {
        if true {
            panic!("a bug in the route");
        }
        Ok(StatusCode::CREATED.into_response())
    };
    let response = idempotency::run(&app.hub, request(), panics).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // The retry runs the route again, as after a 5xx answer, instead of a 409 "still being
    // answered" until the claim is taken over a minute later.
    let retried = idempotency::run(&app.hub, request(), |_| async { Ok(StatusCode::CREATED.into_response()) }).await;
    assert_eq!(retried.status(), StatusCode::CREATED);
});

both!(
    a_route_that_panics_answers_over_http_with_the_rate_limit_headers_and_is_counted,
    |backend: Backend| async move {
        let app = TestApp::spawn(backend).await;
        let tenant = app.create_tenant("Acme").await;
        let created =
            create_key(&app, &tenant, json!({ "name": "k", "role": "read_only", "rate_limit_per_minute": 10 })).await;
        let key = secret(&created);
        // No real route is known to panic: this one stands behind the real authentication layer,
        // served over TCP as the hub serves its router.
        let panics = axum::routing::get(|| async {
            if true {
                panic!("a bug in the route");
            }
            "never"
        });
        let service =
            integrations_hub::http::authenticate(axum::Router::new().route("/api/v1/panics", panics), app.hub.clone());
        let service = axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
            std::net::SocketAddr,
        >(service);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/v1/panics", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, service).await });
        clear_of_a_minute_boundary().await;
        // The first request reads the key from the database (the layer's general path); the next
        // find it in the cache (the route's own future). Each gets an answer, not a reset, and it
        // carries the key's rate-limit headers like any other answer to the key.
        for remaining in ["9", "8", "7"] {
            let response = app.http.get(&url).bearer_auth(&key).send().await.expect("an answer, not a reset");
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(response.headers()["content-type"], "application/problem+json");
            assert_eq!(response.headers()["x-ratelimit-remaining"], remaining);
            assert!(response.headers().contains_key("ratelimit"));
            let problem: Value = response.json().await.unwrap();
            assert!(!problem.to_string().contains("a bug"), "the cause is logged, not shown: {problem}");
        }
        let usage = format!("/api/v1/tenants/{tenant}/api-keys/{}/usage", created["id"].as_str().unwrap());
        let (_, usage) = app.get(&usage).await;
        assert_eq!(usage["data"][0]["ok"], 3, "the key's requests were answered, so counted: {usage}");
    }
);

both!(the_audit_log_records_mutations_without_secrets, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let key = create_key(&app, &tenant, json!({ "name": "k", "role": "admin" })).await;
    app.create_webhook(
        &tenant,
        json!({ "url": "https://example.com/a", "events": ["*"], "secret": "a-secret-of-enough-length" }),
    )
    .await;
    let (status, _, _) = app
        .request(
            Method::POST,
            &format!("/api/v1/tenants/{tenant}/api-keys/{}/revoke", key["id"].as_str().unwrap()),
            Some(&secret(&key)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, log) = app.get(&format!("/api/v1/tenants/{tenant}/audit-log")).await;
    let actions: Vec<&str> = log["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["tenant.created", "api_key.created", "webhook.created", "api_key.revoked"]);
    assert_eq!(log["data"][3]["actor"], key["id"]);
    assert_eq!(log["data"][3]["source_ip"], "127.0.0.1");
    let text = log.to_string();
    assert!(!text.contains(&secret(&key)) && !text.contains("a-secret-of-enough-length"));
});

both!(whoami_describes_the_caller, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let created = create_key(&app, &tenant, json!({ "name": "r", "role": "read_only" })).await;
    let (status, headers, body) = app.request(Method::GET, "/api/v1/whoami", Some(&secret(&created)), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers.contains_key("x-ratelimit-remaining"));
    assert_eq!(body, json!({ "actor": created["id"], "tenant_id": tenant, "scopes": created["scopes"] }));
    let (status, body) = app.get("/api/v1/whoami").await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "actor": "operator" })));
});

both!(only_the_rest_api_is_authenticated, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    // A credential that is no key: refused under /api/v1/, ignored by the public routes.
    let (status, headers, _) = app.request(Method::GET, "/health", Some("sk_not_a_key"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!headers.contains_key("ratelimit-policy"));
    let (status, _, _) = app.request(Method::GET, "/api-docs/openapi.json", Some("sk_not_a_key"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = app.request(Method::GET, "/api/v1/whoami", Some("sk_not_a_key"), None).await;
    assert_eq!((status, body["status"].as_i64()), (StatusCode::UNAUTHORIZED, Some(401)));
    // Every path under /api/v1/ is authenticated before it is routed: an unknown one answers
    // 401 to a bad credential (it reveals nothing about which routes exist) and 404 to a good one.
    let (status, _, _) = app.request(Method::GET, "/api/v1/no-such-route", Some("sk_not_a_key"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = app.request(Method::GET, "/api/v1/no-such-route", Some(crate::helpers::OPERATOR), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

both!(a_cached_key_is_stale_when_the_clock_steps_back, |backend: Backend| async move {
    let a = TestApp::spawn(backend).await;
    let b = TestApp::spawn_on(ScratchDir::new(), a.database_url.clone(), |_| {}).await;
    let tenant = a.create_tenant("Acme").await;
    let created = create_key(&a, &tenant, json!({ "name": "k", "role": "read_only" })).await;
    let key = secret(&created);
    let now = integrations_hub::time::now_ms();
    assert!(a.hub.authenticate_from(key.as_bytes(), None, now).await.is_ok());
    // Revoked on B: A's cache still holds the key, fresh for KEY_CACHE_TTL after `now`.
    let (status, _) = b
        .post(&format!("/api/v1/tenants/{tenant}/api-keys/{}/revoke", created["id"].as_str().unwrap()), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(a.hub.authenticate_from(key.as_bytes(), None, now + 100).await.is_ok());
    // A clock stepped back a minute must not keep that entry fresh for a minute: A reads again.
    assert!(a.hub.authenticate_from(key.as_bytes(), None, now - 60_000).await.is_err());
});

/// The path of one key of `tenant`.
fn key_path(tenant: &str, key: &Value) -> String {
    format!("/api/v1/tenants/{tenant}/api-keys/{}", key["id"].as_str().unwrap())
}

both!(a_changed_key_follows_its_new_settings_from_its_next_request, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let created = create_key(&app, &tenant, json!({ "name": "svc", "role": "admin" })).await;
    let (key, path) = (secret(&created), key_path(&tenant, &created));
    let hooks = format!("/api/v1/tenants/{tenant}/webhooks");
    let hook = json!({ "url": "https://example.com/a", "events": ["*"] });
    // Used once, so this instance has the key (and its scopes) in its cache.
    assert_eq!(app.request(Method::POST, &hooks, Some(&key), Some(hook.clone())).await.0, StatusCode::CREATED);

    // Narrowed to reading, renamed, given an expiry: the very next request is held to it.
    let change = json!({
        "name": "  billing  ",
        "scopes": ["webhooks:read", "deliveries:read", "webhooks:read"],
        "expires_at": "2999-01-01T00:00:00Z",
    });
    let (status, changed) = app.patch(&path, change).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["name"], "billing");
    assert_eq!((&changed["role"], &changed["scopes"]), (&Value::Null, &json!(["deliveries:read", "webhooks:read"])));
    assert_eq!(changed["expires_at"], "2999-01-01T00:00:00.000Z");
    assert_eq!((&changed["prefix"], &changed["status"]), (&created["prefix"], &json!("active")));
    assert!(changed.get("key").is_none(), "the key itself is never shown again: {changed}");
    let (status, _, body) = app.request(Method::POST, &hooks, Some(&key), Some(hook)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(app.request(Method::GET, &hooks, Some(&key), None).await.0, StatusCode::OK);
    let (_, _, whoami) = app.request(Method::GET, "/api/v1/whoami", Some(&key), None).await;
    assert_eq!(whoami["scopes"], changed["scopes"]);
    // A role replaces the list of scopes; only the fields given change.
    let (status, changed) = app.patch(&path, json!({ "role": "read_write" })).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!((changed["role"].as_str(), changed["name"].as_str()), (Some("read_write"), Some("billing")));
    assert_eq!(changed["scopes"].as_array().unwrap().len(), 5);
    assert_eq!(changed["expires_at"], "2999-01-01T00:00:00.000Z");

    // An allow-list the client is outside of refuses it at once; `null` allows any address again.
    let (status, changed) = app.patch(&path, json!({ "allowed_ips": ["10.0.0.0/8", "2001:db8::/32"] })).await;
    assert_eq!((status, &changed["allowed_ips"]), (StatusCode::OK, &json!(["10.0.0.0/8", "2001:db8::/32"])));
    assert_eq!(app.request(Method::GET, &hooks, Some(&key), None).await.0, StatusCode::FORBIDDEN);
    let (status, changed) = app.patch(&path, json!({ "allowed_ips": null, "expires_at": null })).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!((&changed["allowed_ips"], &changed["expires_at"]), (&json!([]), &Value::Null));
    assert_eq!(app.request(Method::GET, &hooks, Some(&key), None).await.0, StatusCode::OK);

    // The audit log has each change, by whom and from where, and never the key.
    let (_, log) = app.get(&format!("/api/v1/tenants/{tenant}/audit-log?action=api_key.updated")).await;
    let entries = log["data"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "{log}");
    assert!(entries.iter().all(|e| e["actor"] == "operator" && e["target"] == created["id"]), "{log}");
    assert_eq!(entries[0]["source_ip"], "127.0.0.1");
    assert!(!log.to_string().contains(&key));
});

both!(a_lowered_rate_limit_holds_from_the_next_request, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let created =
        create_key(&app, &tenant, json!({ "name": "k", "role": "read_only", "rate_limit_per_minute": 100 })).await;
    let (key, path) = (secret(&created), key_path(&tenant, &created));
    let hooks = format!("/api/v1/tenants/{tenant}/webhooks");
    clear_of_a_minute_boundary().await;
    let (status, headers, _) = app.request(Method::GET, &hooks, Some(&key), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-ratelimit-limit"], "100");
    let (status, changed) = app.patch(&path, json!({ "rate_limit_per_minute": 2 })).await;
    assert_eq!((status, &changed["rate_limit_per_minute"]), (StatusCode::OK, &json!(2)), "{changed}");
    // The request made before the change counts towards the new limit in this window.
    let (status, headers, _) = app.request(Method::GET, &hooks, Some(&key), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-ratelimit-limit"], "2");
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert_eq!(headers["ratelimit-policy"], "\"per-minute\";q=2;w=60");
    let (status, headers, _) = app.request(Method::GET, &hooks, Some(&key), None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
    // `null` goes back to the hub's default.
    let (status, changed) = app.patch(&path, json!({ "rate_limit_per_minute": null })).await;
    assert_eq!((status, &changed["rate_limit_per_minute"]), (StatusCode::OK, &Value::Null));
    let (status, headers, _) = app.request(Method::GET, &hooks, Some(&key), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-ratelimit-limit"], app.hub.config.default_rate_limit_per_minute.to_string());
});

both!(a_change_reaches_another_instance_within_a_second, |backend: Backend| async move {
    let a = TestApp::spawn(backend).await;
    let b = TestApp::spawn_on(ScratchDir::new(), a.database_url.clone(), |_| {}).await;
    let tenant = a.create_tenant("Acme").await;
    let created = create_key(&a, &tenant, json!({ "name": "k", "role": "read_only" })).await;
    let key = secret(&created);
    let hooks = format!("/api/v1/tenants/{tenant}/webhooks");
    // Instance B has seen (and cached) the key.
    assert_eq!(b.request(Method::GET, &hooks, Some(&key), None).await.0, StatusCode::OK);
    let (status, _) = a.patch(&key_path(&tenant, &created), json!({ "scopes": ["deliveries:read"] })).await;
    assert_eq!(status, StatusCode::OK);
    let changed_at = Instant::now();
    assert_eq!(a.request(Method::GET, &hooks, Some(&key), None).await.0, StatusCode::FORBIDDEN);
    loop {
        if b.request(Method::GET, &hooks, Some(&key), None).await.0 == StatusCode::FORBIDDEN {
            break;
        }
        assert!(changed_at.elapsed() < Duration::from_secs(1), "instance B still uses the key's old scopes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
});

both!(a_bad_change_is_refused_by_field_and_changes_nothing, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let created = create_key(&app, &tenant, json!({ "name": "svc", "role": "read_only" })).await;
    let path = key_path(&tenant, &created);
    let too_many_ips: Vec<String> = (0..101).map(|i| format!("10.0.0.{}", i % 256)).collect();
    for (wrong, field) in [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "   " }), "name"),
        (json!({ "name": "n".repeat(101) }), "name"),
        (json!({ "name": 7 }), "name"),
        (json!({ "role": "root" }), "role"),
        (json!({ "role": "admin", "scopes": ["keys:read"] }), "scopes"),
        (json!({ "scopes": ["root"] }), "scopes"),
        (json!({ "scopes": [] }), "scopes"),
        (json!({ "scopes": vec!["keys:read"; 9] }), "scopes"),
        (json!({ "expires_at": "2000-01-01T00:00:00Z" }), "expires_at"),
        (json!({ "expires_at": "tomorrow" }), "expires_at"),
        (json!({ "rate_limit_per_minute": 0 }), "rate_limit_per_minute"),
        (json!({ "rate_limit_per_minute": 1_000_001 }), "rate_limit_per_minute"),
        (json!({ "rate_limit_per_minute": "ten" }), "rate_limit_per_minute"),
        (json!({ "allowed_ips": ["nope"] }), "allowed_ips"),
        (json!({ "allowed_ips": too_many_ips }), "allowed_ips"),
        (json!({ "allowed_ips": "10.0.0.0/8" }), "allowed_ips"),
        // The key itself, or what is derived from it, is not a setting.
        (json!({ "key": "sk_not_a_setting" }), "key"),
        (json!({ "prefix": "sk_12345678" }), "prefix"),
        (json!({ "status": "active" }), "status"),
        (json!(["svc"]), "body"),
    ] {
        let (status, body) = app.patch(&path, wrong.clone()).await;
        assert_eq!(
            (status, body["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{wrong}: {body}"
        );
    }
    // Every wrong field at once is named, each in its own entry.
    let (status, body) = app
        .patch(&path, json!({ "name": "", "role": "root", "rate_limit_per_minute": -1, "allowed_ips": ["x"] }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "role", "rate_limit_per_minute", "allowed_ips"], "{body}");
    // Nothing was changed, nor audited.
    let (_, mut now) = app.get(&path).await;
    now["key"] = created["key"].clone();
    assert_eq!(now, created);
    let (_, log) = app.get(&format!("/api/v1/tenants/{tenant}/audit-log?action=api_key.updated")).await;
    assert_eq!(log["data"], json!([]));
});

both!(only_a_live_key_of_ones_own_tenant_can_be_changed, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let globex = app.create_tenant("Globex").await;
    let rename = json!({ "name": "renamed" });
    // Revoked: 409, and it stays as it was.
    let revoked = create_key(&app, &tenant, json!({ "name": "revoked", "role": "read_only" })).await;
    app.post(&format!("{}/revoke", key_path(&tenant, &revoked)), json!({})).await;
    let (status, body) = app.patch(&key_path(&tenant, &revoked), rename.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("a revoked key cannot be changed"), "{body}");
    assert_eq!(app.get(&key_path(&tenant, &revoked)).await.1["name"], "revoked");
    // Expired: 409 too (a new expiry would bring back a key its owner let lapse).
    let expired = create_key(&app, &tenant, json!({ "name": "expired", "role": "read_only" })).await;
    integrations_hub::on_db!(&app.hub.db, pool => sqlx::query("UPDATE api_keys SET expires_at = 1 WHERE id = $1")
        .bind(expired["id"].as_str().unwrap()).execute(pool).await.map(|r| r.rows_affected()))
    .unwrap();
    let (status, body) = app.patch(&key_path(&tenant, &expired), json!({ "expires_at": null })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("expired"), "{body}");
    // Rotated, in its grace period: its settings change, its expiry (the grace period's end) does not.
    let rotated = create_key(&app, &tenant, json!({ "name": "rotated", "role": "read_only" })).await;
    let (_, successor) =
        app.post(&format!("{}/rotate", key_path(&tenant, &rotated)), json!({ "grace_period_seconds": 3600 })).await;
    let grace_end = app.get(&key_path(&tenant, &rotated)).await.1["expires_at"].clone();
    let (status, body) = app.patch(&key_path(&tenant, &rotated), rename.clone()).await;
    assert_eq!((status, body["name"].as_str()), (StatusCode::OK, Some("renamed")), "{body}");
    for expiry in [json!(null), json!("2999-01-01T00:00:00Z")] {
        let (status, body) = app.patch(&key_path(&tenant, &rotated), json!({ "expires_at": expiry })).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body["detail"].as_str().unwrap().contains(successor["id"].as_str().unwrap()), "{body}");
    }
    assert_eq!(app.get(&key_path(&tenant, &rotated)).await.1["expires_at"], grace_end);
    // Deleted, unknown, another tenant's: 404.
    let deleted = create_key(&app, &tenant, json!({ "name": "deleted", "role": "read_only" })).await;
    app.request(Method::DELETE, &key_path(&tenant, &deleted), Some(crate::helpers::OPERATOR), None).await;
    assert_eq!(app.patch(&key_path(&tenant, &deleted), rename.clone()).await.0, StatusCode::NOT_FOUND);
    let unknown = format!("/api/v1/tenants/{tenant}/api-keys/key_01ARZ3NDEKTSV4RRFFQ69G5FAV");
    assert_eq!(app.patch(&unknown, rename.clone()).await.0, StatusCode::NOT_FOUND);
    let theirs = create_key(&app, &globex, json!({ "name": "theirs", "role": "read_only" })).await;
    let theirs_id = theirs["id"].as_str().unwrap();
    assert_eq!(
        app.patch(&format!("/api/v1/tenants/{tenant}/api-keys/{theirs_id}"), rename.clone()).await.0,
        StatusCode::NOT_FOUND
    );
    let admin = secret(&create_key(&app, &tenant, json!({ "name": "admin", "role": "admin" })).await);
    for path in
        [key_path(&globex, &theirs), format!("/api/v1/keys/{theirs_id}"), format!("/api/v1/api-keys/{theirs_id}")]
    {
        let (status, _, body) = app.request(Method::PATCH, &path, Some(&admin), Some(rename.clone())).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    assert_eq!(app.get(&key_path(&globex, &theirs)).await.1["name"], "theirs");
    // A key without keys:write changes none, not even itself.
    let writer = create_key(&app, &tenant, json!({ "name": "writer", "role": "read_write" })).await;
    let (status, _, _) = app
        .request(
            Method::PATCH,
            &format!("/api/v1/keys/{}", writer["id"].as_str().unwrap()),
            Some(&secret(&writer)),
            Some(json!({ "role": "admin" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // On the integrator paths, an admin key changes a key of its own tenant.
    let mine = create_key(&app, &tenant, json!({ "name": "mine", "role": "read_only" })).await;
    let (status, _, body) = app
        .request(
            Method::PATCH,
            &format!("/api/v1/api-keys/{}", mine["id"].as_str().unwrap()),
            Some(&admin),
            Some(json!({ "rate_limit_per_minute": 60 })),
        )
        .await;
    assert_eq!((status, &body["rate_limit_per_minute"]), (StatusCode::OK, &json!(60)), "{body}");
});

both!(a_change_that_crosses_a_revoke_or_a_rotation_undoes_neither, |backend: Backend| async move {
    use integrations_hub::store::api_keys::{change, KeyChange};
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let now = integrations_hub::time::now_ms();
    let rename = KeyChange { name: Some("late".into()), ..Default::default() };
    // A change checked before a revoke committed writes nothing: the key stays revoked.
    let revoked = create_key(&app, &tenant, json!({ "name": "a", "role": "read_only" })).await;
    app.post(&format!("{}/revoke", key_path(&tenant, &revoked)), json!({})).await;
    let mut tx = app.hub.db.begin().await.unwrap();
    let id = revoked["id"].as_str().unwrap().to_string();
    assert!(change(&mut tx, &tenant.clone().into(), &id.into(), &rename, now).await.unwrap().is_none());
    tx.commit().await.unwrap();
    assert_eq!(app.get(&key_path(&tenant, &revoked)).await.1["name"], "a");
    // A new expiry that crosses a rotation does not undo its grace period; other fields still change.
    let rotated = create_key(&app, &tenant, json!({ "name": "b", "role": "read_only" })).await;
    app.post(&format!("{}/rotate", key_path(&tenant, &rotated)), json!({ "grace_period_seconds": 60 })).await;
    let id: app::models::ApiKeyId = rotated["id"].as_str().unwrap().to_string().into();
    let later = KeyChange { expires_at: Some(None), ..Default::default() };
    let mut tx = app.hub.db.begin().await.unwrap();
    assert!(change(&mut tx, &tenant.clone().into(), &id, &later, now).await.unwrap().is_none());
    let row = change(&mut tx, &tenant.clone().into(), &id, &rename, now).await.unwrap().expect("still live");
    tx.commit().await.unwrap();
    assert!(row.expires_at.is_some_and(|at| at > now && at <= now + 61_000) && row.name == "late", "{row:?}");
});
