use std::collections::HashSet;

use axum::http::StatusCode;
use integrations_hub::signing;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{Backend, Receiver, ScratchDir, TestApp};

both!(a_replay_is_a_new_delivery_linked_to_the_original, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.delivery.max_attempts = 1).await;
    let receiver = Receiver::start().await;
    receiver.reply(500, &[]);
    let tenant = app.create_tenant("Acme").await;
    app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    let accepted = app.publish(&tenant, "new_lead", json!({ "n": 1 })).await;
    let original = accepted["deliveries"][0].as_str().unwrap().to_string();
    app.drain().await;
    let (_, dead) = app.get(&format!("/api/v1/tenants/{tenant}/dead-letters")).await;
    assert_eq!(dead["data"][0]["id"], original.as_str());

    let (status, replay) =
        app.post(&format!("/api/v1/tenants/{tenant}/dead-letters/{original}/replay"), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{replay}");
    assert_eq!(replay["replay_of"], original.as_str());
    app.drain().await;
    let replayed = app.delivery(&tenant, replay["id"].as_str().unwrap()).await;
    assert_eq!(replayed["status"], "delivered");
    assert_eq!(replayed["replayed_from"], json!([original]));
    // A replay of the replay: the chain grows and is visible from both ends.
    let (_, again) = app
        .post(
            &format!("/api/v1/tenants/{tenant}/webhook-deliveries/{}/replay", replay["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    let third = app.delivery(&tenant, again["id"].as_str().unwrap()).await;
    assert_eq!(third["replayed_from"], json!([original, replay["id"]]));
    let first = app.delivery(&tenant, &original).await;
    assert_eq!(first["replays"], json!([replay["id"]]));
    // Only dead letters replay through the dead-letter route.
    let (status, _) = app
        .post(&format!("/api/v1/tenants/{tenant}/dead-letters/{}/replay", replay["id"].as_str().unwrap()), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

both!(bulk_replay_takes_a_filter, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.delivery.max_attempts = 1).await;
    let failing = Receiver::start().await;
    for _ in 0..3 {
        failing.reply(500, &[]);
    }
    let fine = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    let bad = app.create_webhook(&tenant, json!({ "url": failing.url, "events": ["*"] })).await;
    app.create_webhook(&tenant, json!({ "url": fine.url, "events": ["*"] })).await;
    for n in 0..3 {
        app.publish(&tenant, "new_lead", json!({ "n": n })).await;
    }
    app.drain().await;
    let (status, out) = app
        .post(
            &format!("/api/v1/tenants/{tenant}/webhook-deliveries/replay"),
            json!({ "status": "dead_letter", "webhook_id": bad["id"] }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{out}");
    assert_eq!(out["replayed"], 3);
    app.drain().await;
    assert_eq!(failing.received().len(), 6, "three failures, then three replays");
    assert_eq!(fine.received().len(), 3, "the healthy endpoint was not replayed");
    let (_, dead) = app.get(&format!("/api/v1/tenants/{tenant}/dead-letters")).await;
    assert_eq!(dead["data"].as_array().unwrap().len(), 3, "the originals stay in the dead-letter list");
});

both!(bulk_replay_takes_the_event_type_and_event_filters_of_the_log, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.delivery.max_attempts = 1).await;
    let receiver = Receiver::start().await;
    for _ in 0..3 {
        receiver.reply(500, &[]);
    }
    let tenant = app.create_tenant("Acme").await;
    app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    let lead = app.publish(&tenant, "new_lead", json!({})).await;
    for _ in 0..2 {
        app.publish(&tenant, "order.paid", json!({})).await;
    }
    app.drain().await;
    let bulk = format!("/api/v1/tenants/{tenant}/webhook-deliveries/replay");

    let (status, out) = app.post(&bulk, json!({ "status": "dead_letter", "event_type": "order.paid" })).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{out}");
    assert_eq!(out["replayed"], 2, "the order.paid dead letters only: {out}");

    let (_, out) = app.post(&bulk, json!({ "status": "dead_letter", "event_id": lead["id"] })).await;
    assert_eq!(out["replayed"], 1, "{out}");
    let replay = app.delivery(&tenant, out["deliveries"][0].as_str().unwrap()).await;
    assert_eq!(replay["event_id"], lead["id"], "{replay}");

    // As on the log: an id of another kind is named, not read as "no dead letter".
    let (status, refused) = app.post(&bulk, json!({ "event_id": lead["deliveries"][0] })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "event_id", "{refused}");
});

both!(the_seed_integrator_routes_take_the_tenant_from_the_key, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.delivery.max_attempts = 1).await;
    let receiver = Receiver::start().await;
    receiver.reply(500, &[]);
    let tenant = app.create_tenant("Acme").await;
    let (_, key) =
        app.post(&format!("/api/v1/tenants/{tenant}/api-keys"), json!({ "name": "seed", "role": "admin" })).await;
    let key = key["key"].as_str().unwrap().to_string();
    let call = |method: Method, path: String, body: Option<serde_json::Value>| {
        let (app, key) = (&app, key.clone());
        async move { app.request(method, &path, Some(&key), body).await }
    };
    let (status, _, hook) = call(Method::POST, "/api/v1/subscriptions".into(), Some(json!({ "url": receiver.url, "secret": "a-seed-secret-16+", "events": ["request_submitted"], "enabled": true }))).await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    assert_eq!(hook["tenant_id"], tenant.as_str());
    let (status, _, event) = call(
        Method::POST,
        "/api/v1/events".into(),
        Some(json!({ "event_type": "request_submitted", "payload": { "title": "Laptop" } })),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.drain().await;
    let (status, _, attempts) =
        call(Method::GET, format!("/api/v1/admin/events/{}/attempts", event["id"].as_str().unwrap()), None).await;
    assert_eq!((status, attempts["data"][0]["status_code"].as_i64()), (StatusCode::OK, Some(500)));
    let dead = event["deliveries"][0].as_str().unwrap();
    let (status, _, replay) = call(Method::POST, format!("/api/v1/admin/dead-letters/{dead}/replay"), None).await;
    assert_eq!((status, replay["replay_of"].as_str()), (StatusCode::CREATED, Some(dead)));
    // The operator has no tenant of its own here.
    let (status, _) = app.post("/api/v1/events", json!({ "event_type": "new_lead", "payload": {} })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, _, types) = call(Method::GET, "/api/v1/event-types".into(), None).await;
    assert_eq!(
        types["data"],
        json!([
            "request_submitted",
            "request_approved",
            "new_lead",
            "lead_update",
            "webhook.failing",
            "webhook.disabled",
            "delivery.dead_lettered",
            "webhook.circuit_opened",
            "webhook.circuit_closed",
            "webhook.created",
            "webhook.updated",
            "webhook.deleted",
            "api_key.created",
            "api_key.revoked",
            "api_key.rotated",
            "webhook.secret_rotated",
            "api_key.rotation_due"
        ])
    );
});

/// A tenant with one endpoint, for every event, to `url`: the tenant and the endpoint's path.
async fn endpoint_to(app: &TestApp, url: &str) -> (String, String) {
    let tenant = app.create_tenant("Acme").await;
    let hook = app.create_webhook(&tenant, json!({ "url": url, "events": ["*"] })).await;
    let path = format!("/api/v1/tenants/{tenant}/webhooks/{}", hook["id"].as_str().unwrap());
    (tenant, path)
}

both!(during_a_secret_rotation_both_signatures_are_sent, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let (tenant, path) = endpoint_to(&app, &receiver.url).await;
    let (_, old) = app.get(&format!("{path}/secret")).await;
    let (status, new) = app.post(&format!("{path}/rotate-secret"), json!({ "grace_period_seconds": 600 })).await;
    assert_eq!(status, StatusCode::OK);
    let (old, new) = (old["secret"].as_str().unwrap().to_string(), new["secret"].as_str().unwrap().to_string());
    assert_ne!(old, new);
    app.publish(&tenant, "new_lead", json!({})).await;
    app.drain().await;
    let got = receiver.wait_for(1).await.remove(0);
    let header = got.headers["webhook-signature"].to_str().unwrap().to_string();
    assert_eq!(header.split(' ').count(), 2, "{header}");
    let id = got.headers["webhook-id"].to_str().unwrap();
    let ts: i64 = got.headers["webhook-timestamp"].to_str().unwrap().parse().unwrap();
    assert!(signing::verify_standard(&[&old], id, ts, got.body.as_bytes(), &header));
    assert!(signing::verify_standard(&[&new], id, ts, got.body.as_bytes(), &header));
    // The classic header carries one signature: the previous secret's through the grace period
    // (receivers using the classic check keep verifying), the new one's in `-Next` beside it.
    let classic = |secret: &str, got: &crate::helpers::Received| {
        let ts: i64 = got.headers["x-webhook-timestamp"].to_str().unwrap().parse().unwrap();
        signing::classic_signature(secret, ts, got.body.as_bytes())
    };
    assert_eq!(got.headers["x-webhook-signature"].to_str().unwrap(), classic(&old, &got));
    assert_eq!(got.headers["x-webhook-signature-next"].to_str().unwrap(), classic(&new, &got));
    // Without grace, only the new secret signs.
    let (_, newest) = app.post(&format!("{path}/rotate-secret"), json!({ "grace_period_seconds": 0 })).await;
    app.publish(&tenant, "new_lead", json!({})).await;
    app.drain().await;
    let got = receiver.wait_for(2).await.remove(1);
    assert_eq!(got.headers["webhook-signature"].to_str().unwrap().split(' ').count(), 1);
    assert_eq!(got.headers["x-webhook-signature"].to_str().unwrap(), classic(newest["secret"].as_str().unwrap(), &got));
    assert!(got.headers.get("x-webhook-signature-next").is_none(), "no rotation under way: no next signature");
});

both!(two_secret_rotations_at_once_chain_and_neither_secret_is_lost, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let (tenant, path) = endpoint_to(&app, &receiver.url).await;
    let rotate_path = format!("{path}/rotate-secret");
    let rotate = || app.post(&rotate_path, json!({ "grace_period_seconds": 600 }));
    let (a, b) = tokio::join!(rotate(), rotate());
    let given = [a.1["secret"].as_str().unwrap().to_string(), b.1["secret"].as_str().unwrap().to_string()];
    // Each caller was handed a secret, and both sign: the later one as the secret, the earlier
    // one in its grace. (Each rotation copied the endpoint and wrote it back: the one written
    // second replaced the other's secret with its own, and the original stayed in the grace.)
    let (_, current) = app.get(&format!("{path}/secret")).await;
    assert!(given.contains(&current["secret"].as_str().unwrap().to_string()), "{current}");
    app.publish(&tenant, "new_lead", json!({})).await;
    app.drain().await;
    let got = receiver.wait_for(1).await.remove(0);
    let header = got.headers["webhook-signature"].to_str().unwrap().to_string();
    let id = got.headers["webhook-id"].to_str().unwrap();
    let ts: i64 = got.headers["webhook-timestamp"].to_str().unwrap().parse().unwrap();
    for secret in &given {
        assert!(signing::verify_standard(&[secret], id, ts, got.body.as_bytes(), &header), "{secret} signs");
    }
});

both!(a_patch_does_not_undo_a_secret_rotation_or_a_disable_made_while_it_ran, |backend: Backend| async move {
    use integrations_hub::store::webhooks::{disable, get, update_settings};
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let hook = app.create_webhook(&tenant, json!({ "url": "https://example.com/in", "events": ["*"] })).await;
    let id = hook["id"].as_str().unwrap();
    let path = format!("/api/v1/tenants/{tenant}/webhooks/{id}");
    // A PATCH has read the endpoint...
    let mut copy = get(&app.hub.db, &tenant.clone().into(), &id.to_string().into()).await.unwrap().unwrap();
    // ...when its secret is rotated and the worker disables it (the endpoint answered 410)...
    let (_, rotated) = app.post(&format!("{path}/rotate-secret"), json!({})).await;
    let now = integrations_hub::time::now_ms();
    let mut tx = app.hub.db.begin().await.unwrap();
    assert!(disable(&mut tx, id, "the endpoint answered 410 Gone", now).await.unwrap());
    tx.commit().await.unwrap();
    // ...and then writes its change from that copy.
    copy.description = Some("edited".into());
    copy.updated_at = now;
    let mut tx = app.hub.db.begin().await.unwrap();
    let written = update_settings(&mut tx, &copy).await.unwrap().expect("the endpoint exists");
    tx.commit().await.unwrap();
    assert!(!written.enabled, "the answer is the row as it now is");
    let (_, secret) = app.get(&format!("{path}/secret")).await;
    assert_eq!(secret["secret"], rotated["secret"], "the rotated secret stands");
    let (_, got) = app.get(&path).await;
    assert_eq!((got["enabled"].as_bool(), got["description"].as_str()), (Some(false), Some("edited")), "{got}");
    // A PATCH that does name `enabled` turns it back on, and forgets why it was off.
    let (status, _, patched) =
        app.request(Method::PATCH, &path, Some(crate::helpers::OPERATOR), Some(json!({ "enabled": true }))).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!((patched["enabled"].as_bool(), &patched["disabled_reason"]), (Some(true), &Value::Null), "{patched}");
});

both!(another_tenants_endpoint_is_not_found_for_a_patch_or_a_secret_rotation, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let (_, path) = endpoint_to(&app, "https://example.com/in").await;
    let (_, secret) = app.get(&format!("{path}/secret")).await;
    // The endpoint's id under another tenant's path (the operator passes every tenant check, so
    // only the statements' own tenant condition stands between them).
    let other = app.create_tenant("Other").await;
    let elsewhere = format!("/api/v1/tenants/{other}/webhooks/{}", path.rsplit('/').next().unwrap());
    let (status, _) = app.post(&format!("{elsewhere}/rotate-secret"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let patch = json!({ "description": "taken over", "enabled": false });
    let (status, _, _) = app.request(Method::PATCH, &elsewhere, Some(crate::helpers::OPERATOR), Some(patch)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("{path}/secret")).await.1, secret, "the secret is unchanged");
    let (_, got) = app.get(&path).await;
    assert_eq!((got["description"].as_str(), got["enabled"].as_bool()), (None, Some(true)), "{got}");
});

both!(patch_changes_an_endpoint_and_test_send_reports_the_attempt, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    let hook = app.create_webhook(&tenant, json!({ "url": "https://example.com/old", "events": ["new_lead"] })).await;
    let path = format!("/api/v1/tenants/{tenant}/webhooks/{}", hook["id"].as_str().unwrap());
    let (status, _, patched) = app
        .request(
            Method::PATCH,
            &path,
            Some(crate::helpers::OPERATOR),
            Some(json!({ "url": receiver.url, "events": ["*"], "timeout_seconds": 3 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!((patched["url"].as_str(), patched["timeout_seconds"].as_i64()), (Some(receiver.url.as_str()), Some(3)));
    let (status, _, bad) =
        app.request(Method::PATCH, &path, Some(crate::helpers::OPERATOR), Some(json!({ "url": "nope" }))).await;
    assert_eq!((status, bad["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("url")));
    let (status, sent) = app
        .post(&format!("{path}/test"), json!({ "event_type": "lead_update", "payload": { "hello": "world" } }))
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["status"], "delivered");
    assert_eq!(sent["attempts"][0]["status_code"], 200);
    let got = receiver.wait_for(1).await.remove(0);
    assert!(got.body.contains("\"hello\":\"world\"") && got.body.contains("\"type\":\"lead_update\""));
});

both!(patch_leaves_out_what_it_does_not_name_and_null_restores_a_default, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let input = json!({ "url": "https://example.com/in", "events": ["new_lead"], "description": "front desk",
        "max_attempts": 3, "backoff_base_seconds": 2, "timeout_seconds": 7 });
    let hook = app.create_webhook(&tenant, input).await;
    let path = format!("/api/v1/tenants/{tenant}/webhooks/{}", hook["id"].as_str().unwrap());
    let patch = |body| app.request(Method::PATCH, &path, Some(crate::helpers::OPERATOR), Some(body));

    // Left out, or null on a field with no default: unchanged.
    let (status, _, same) = patch(json!({ "url": null, "events": null, "enabled": null, "headers": null })).await;
    assert_eq!(status, StatusCode::OK, "{same}");
    for field in ["url", "events", "enabled", "headers", "description", "max_attempts", "timeout_seconds"] {
        assert_eq!(same[field], hook[field], "{field}");
    }
    // null resets the named settings to the hub's default and leaves the others as they were.
    let (status, _, reset) = patch(json!({ "description": null, "max_attempts": null, "timeout_seconds": null })).await;
    assert_eq!(status, StatusCode::OK, "{reset}");
    assert_eq!(
        (&reset["description"], &reset["max_attempts"], &reset["timeout_seconds"]),
        (&json!(null), &json!(null), &json!(null))
    );
    assert_eq!(
        (reset["backoff_base_seconds"].as_i64(), reset["url"].as_str()),
        (Some(2), Some("https://example.com/in"))
    );
    // It is stored, not just answered; and a value is still checked.
    let (_, stored) = app.get(&path).await;
    assert_eq!((&stored["max_attempts"], stored["backoff_base_seconds"].as_i64()), (&json!(null), Some(2)));
    let (status, _, bad) = patch(json!({ "max_attempts": 0 })).await;
    assert_eq!((status, bad["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("max_attempts")));
    // A wrong type in a resettable field is a field error like any other, not a 500.
    let (status, _, bad) = patch(json!({ "max_attempts": "three" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["errors"][0]["field"], "max_attempts", "{bad}");
    assert!(bad["detail"].as_str().is_some_and(|m| m.contains("max_attempts")), "{bad}");
});

both!(a_crashed_workers_lease_expires_and_nothing_is_lost, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    for n in 0..5 {
        app.publish(&tenant, "new_lead", json!({ "n": n })).await;
    }
    // Another worker claims everything and dies (kill -9): its lease is never renewed.
    let now = integrations_hub::time::now_ms();
    let taken = integrations_hub::store::deliveries::claim(
        &app.hub.db,
        "wrk_crashed",
        now,
        now + 60_000,
        &integrations_hub::store::deliveries::ClaimLimits::up_to(100),
    )
    .await
    .unwrap();
    assert_eq!(taken.len(), 5);
    assert_eq!(app.drain().await, 0, "leased deliveries are not taken from a live worker");
    // The lease runs out (moved back in time here instead of waiting a minute).
    integrations_hub::on_db!(&app.hub.db, pool => sqlx::query("UPDATE deliveries SET next_attempt_at = 0 WHERE locked_by = 'wrk_crashed'")
        .execute(pool).await.map(|r| r.rows_affected())).unwrap();
    assert_eq!(app.drain().await, 5);
    assert_eq!(receiver.wait_for(5).await.len(), 5);
});

both!(an_outcome_applies_only_where_its_worker_still_holds_the_lease, |backend: Backend| async move {
    use integrations_hub::store::deliveries::{claim, record, AttemptRow, ClaimLimits, Outcome};
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    app.create_webhook(&tenant, json!({ "url": "https://example.com/in", "events": ["*"] })).await;
    for n in 0..3 {
        app.publish(&tenant, "new_lead", json!({ "n": n })).await;
    }
    let now = integrations_hub::time::now_ms();
    let mut taken = claim(&app.hub.db, "wrk_a", now, now + 60_000, &ClaimLimits::up_to(10)).await.unwrap();
    taken.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(taken.len(), 3);
    // Worker A's lease on the last one ran out and worker B took it meanwhile.
    integrations_hub::on_db!(&app.hub.db, pool => sqlx::query("UPDATE deliveries SET locked_by = 'wrk_b' WHERE id = $1")
        .bind(&taken[2].id).execute(pool).await.map(|r| r.rows_affected())).unwrap();
    // A records its three attempts in one batch: the first delivered, the second to retry.
    let attempt = |i: usize| AttemptRow {
        id: format!("att_test{i}"),
        delivery_id: taken[i].id.clone(),
        tenant_id: tenant.clone(),
        attempt_number: 1,
        started_at: now,
        duration_ms: 3,
        status_code: Some(if i == 1 { 503 } else { 200 }),
        response_headers: "{}".into(),
        response_body: None,
        error_kind: None,
        error_message: None,
    };
    let outcome = |i: usize| Outcome {
        delivery_id: taken[i].id.clone(),
        status: if i == 1 { app::models::DeliveryStatus::Failed } else { app::models::DeliveryStatus::Delivered },
        attempt_count: 1,
        next_attempt_at: now + 1_000 * i as i64,
        last_status_code: Some(if i == 1 { 503 } else { 200 }),
        last_error: (i == 1).then(|| "503".to_string()),
        delivered_at: (i != 1).then_some(now),
    };
    let mut tx = app.hub.db.begin().await.unwrap();
    record(&mut tx, "wrk_a", &[attempt(0), attempt(1), attempt(2)], &[outcome(0), outcome(1), outcome(2)], now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let first = app.delivery(&tenant, &taken[0].id).await;
    let second = app.delivery(&tenant, &taken[1].id).await;
    let third = app.delivery(&tenant, &taken[2].id).await;
    assert_eq!((first["status"].as_str(), first["attempt_count"].as_i64()), (Some("delivered"), Some(1)), "{first}");
    assert_eq!(
        (second["status"].as_str(), second["last_status_code"].as_i64()),
        (Some("failed"), Some(503)),
        "{second}"
    );
    // B's delivery keeps B's lease and state; A's attempt on it is still on record.
    assert_eq!(third["status"], "delivering", "{third}");
    assert_eq!(third["attempts"].as_array().map(Vec::len), Some(1), "{third}");
});

both!(two_instances_share_the_work_without_double_delivery, |backend: Backend| async move {
    let a = TestApp::spawn(backend).await;
    let b = TestApp::spawn_on(ScratchDir::new(), a.database_url.clone(), |_| {}).await;
    let receiver = Receiver::start().await;
    let tenant = a.create_tenant("Acme").await;
    a.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    for n in 0..60 {
        a.publish(&tenant, "new_lead", json!({ "n": n })).await;
    }
    let (sent_a, sent_b) = tokio::join!(a.drain(), b.drain());
    assert!(sent_a + sent_b >= 60, "a: {sent_a}, b: {sent_b}");
    // An attempt that met a transient connection error is retried; give retries their turn.
    for _ in 0..5 {
        if receiver.received().len() >= 60 {
            break;
        }
        a.make_retries_due().await;
        tokio::join!(a.drain(), b.drain());
    }
    let got = receiver.wait_for(60).await;
    let ids: HashSet<String> = got.iter().map(|r| r.headers["webhook-id"].to_str().unwrap().to_string()).collect();
    assert_eq!((got.len(), ids.len()), (60, 60), "each event exactly once");
});

both!(an_instance_with_another_master_key_leaves_deliveries_to_the_others, |backend: Backend| async move {
    let a = TestApp::spawn(backend).await;
    let stranger = TestApp::spawn_on(ScratchDir::new(), a.database_url.clone(), |c| {
        c.master_key = Some("ff".repeat(32).into());
    })
    .await;
    let receiver = Receiver::start().await;
    let tenant = a.create_tenant("Acme").await;
    a.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    let accepted = a.publish(&tenant, "new_lead", json!({})).await;
    stranger.drain().await;
    let delivery = a.delivery(&tenant, accepted["deliveries"][0].as_str().unwrap()).await;
    assert_eq!(
        (delivery["status"].as_str(), delivery["attempt_count"].as_i64()),
        (Some("pending"), Some(0)),
        "{delivery}"
    );
    a.make_retries_due().await;
    a.drain().await;
    assert_eq!(receiver.wait_for(1).await.len(), 1);
});

both!(sustained_failure_disables_an_endpoint_and_says_so, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| {
        c.delivery.max_attempts = 1;
        c.delivery.disable_after_failures = 3;
    })
    .await;
    let failing = Receiver::start().await;
    for _ in 0..3 {
        failing.reply(500, &[]);
    }
    let flaky = Receiver::start().await;
    for status in [500, 500, 200, 500, 500] {
        flaky.reply(status, &[]);
    }
    let monitor = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    let bad = app.create_webhook(&tenant, json!({ "url": failing.url, "events": ["new_lead"] })).await;
    let wobbly = app.create_webhook(&tenant, json!({ "url": flaky.url, "events": ["lead_update"] })).await;
    app.create_webhook(
        &tenant,
        json!({ "url": monitor.url, "events": ["webhook.disabled", "delivery.dead_lettered"] }),
    )
    .await;
    for n in 0..3 {
        app.publish(&tenant, "new_lead", json!({ "n": n })).await;
        app.drain().await;
    }
    for n in 0..5 {
        app.publish(&tenant, "lead_update", json!({ "n": n })).await;
        app.drain().await;
    }
    let (_, bad) = app.get(&format!("/api/v1/tenants/{tenant}/webhooks/{}", bad["id"].as_str().unwrap())).await;
    assert_eq!(bad["enabled"], false);
    assert_eq!(bad["disabled_reason"], "3 consecutive failed attempts");
    let (_, wobbly) = app.get(&format!("/api/v1/tenants/{tenant}/webhooks/{}", wobbly["id"].as_str().unwrap())).await;
    assert_eq!(wobbly["enabled"], true, "a success in between resets the streak");
    // The monitor heard of every dead letter (3 + 4) and of the disabling.
    let heard = monitor.wait_for(8).await;
    let types: Vec<String> = heard.iter().map(|r| r.headers["x-webhook-event"].to_str().unwrap().to_string()).collect();
    assert_eq!(types.iter().filter(|t| *t == "webhook.disabled").count(), 1, "{types:?}");
    assert_eq!(types.iter().filter(|t| *t == "delivery.dead_lettered").count(), 7, "{types:?}");
    let (_, log) = app.get(&format!("/api/v1/tenants/{tenant}/audit-log")).await;
    let auto =
        log["data"].as_array().unwrap().iter().find(|e| e["action"] == "webhook.auto_disabled").expect("audited");
    assert_eq!(auto["actor"], "system");
});
