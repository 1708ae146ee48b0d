use std::time::Duration;

use axum::http::StatusCode;
use integrations_hub::signing;
use reqwest::Method;
use serde_json::json;

use crate::both;
use crate::helpers::{Backend, GatedReceiver, Receiver, ScratchDir, TestApp, OPERATOR};

both!(custom_headers_are_sealed_at_rest_and_rows_from_before_sealing_still_read, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    const CREDENTIAL: &str = "Bearer receiver-credential-7f3a";
    let webhook = app
        .create_webhook(
            &tenant,
            json!({ "url": "https://example.com/in", "events": ["*"], "headers": { "Authorization": CREDENTIAL } }),
        )
        .await;
    let id = webhook["id"].as_str().unwrap().to_string();
    let stored = || async {
        let stored: String = integrations_hub::on_db!(&app.hub.db, pool => sqlx::query_scalar("SELECT headers FROM webhooks WHERE id = $1").bind(&id).fetch_one(pool).await).unwrap();
        stored
    };
    let sealed = stored().await;
    assert!(!sealed.contains("receiver-credential") && !sealed.contains("Authorization"), "{sealed}");
    let (_, shown) = app.get(&format!("/api/v1/tenants/{tenant}/webhooks/{id}")).await;
    assert_eq!(shown["headers"], json!({ "Authorization": CREDENTIAL }));

    // A row written before headers were sealed holds their JSON: still read, sealed on its next change.
    integrations_hub::on_db!(&app.hub.db, pool => sqlx::query("UPDATE webhooks SET headers = $1 WHERE id = $2").bind(r#"{"X-Old":"plain"}"#).bind(&id).execute(pool).await.map(|_| ())).unwrap();
    let (_, listed) = app.get(&format!("/api/v1/tenants/{tenant}/webhooks")).await;
    assert_eq!(listed["data"][0]["headers"], json!({ "X-Old": "plain" }));
    let (status, _, changed) = app
        .request(
            Method::PATCH,
            &format!("/api/v1/tenants/{tenant}/webhooks/{id}"),
            Some(OPERATOR),
            Some(json!({ "description": "moved" })),
        )
        .await;
    assert_eq!((status, &changed["headers"]), (StatusCode::OK, &json!({ "X-Old": "plain" })));
    assert!(!stored().await.contains("plain"));

    // An endpoint that does not change is sealed when a hub starts on the database, its
    // settings untouched; a row that is not JSON is left as it is and does not stop the start.
    let set_raw = |id: String, raw: &'static str| {
        let db = app.hub.db.clone();
        async move {
            integrations_hub::on_db!(&db, pool => sqlx::query("UPDATE webhooks SET headers = $1 WHERE id = $2").bind(raw).bind(&id).execute(pool).await.map(|_| ())).unwrap();
        }
    };
    set_raw(id.clone(), r#"{"X-Idle":"plain-idle"}"#).await;
    let broken = app.create_webhook(&tenant, json!({ "url": "https://example.com/b", "events": ["*"] })).await;
    let broken = broken["id"].as_str().unwrap().to_string();
    set_raw(broken.clone(), "not json").await;
    let (_, before) = app.get(&format!("/api/v1/tenants/{tenant}/webhooks/{id}")).await;
    // An instance started with another master key would seal them where no other could read them.
    TestApp::spawn_on(ScratchDir::new(), app.database_url.clone(), |c| c.master_key = Some("ff".repeat(32).into()))
        .await;
    assert_eq!(stored().await, r#"{"X-Idle":"plain-idle"}"#);
    let restarted = TestApp::spawn_on(ScratchDir::new(), app.database_url.clone(), |_| {}).await;
    let raw = stored().await;
    assert!(raw.starts_with("sealed:") && !raw.contains("plain-idle"), "{raw}");
    let (_, after) = restarted.get(&format!("/api/v1/tenants/{tenant}/webhooks/{id}")).await;
    assert_eq!(after["headers"], json!({ "X-Idle": "plain-idle" }));
    assert_eq!(after["updated_at"], before["updated_at"]);
    let untouched: String = integrations_hub::on_db!(&app.hub.db, pool => sqlx::query_scalar("SELECT headers FROM webhooks WHERE id = $1").bind(&broken).fetch_one(pool).await).unwrap();
    assert_eq!(untouched, "not json");
});

both!(a_published_event_reaches_the_receiver_with_both_signature_sets, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    let webhook = app
        .create_webhook(
            &tenant,
            json!({
                "url": receiver.url, "events": ["new_lead"], "headers": { "X-Tenant-Ref": "acme-1" }
            }),
        )
        .await;
    let webhook_id = webhook["id"].as_str().unwrap();
    let (_, secret) = app.get(&format!("/api/v1/tenants/{tenant}/webhooks/{webhook_id}/secret")).await;
    let secret = secret["secret"].as_str().unwrap().to_string();

    let accepted = app.publish(&tenant, "new_lead", json!({ "name": "Ada" })).await;
    let event_id = accepted["id"].as_str().unwrap();
    assert_eq!(accepted["deliveries"].as_array().unwrap().len(), 1);
    // An event nobody subscribed to fans out to nothing.
    let other = app.publish(&tenant, "lead_update", json!({})).await;
    assert!(other["deliveries"].as_array().unwrap().is_empty());

    assert_eq!(app.drain().await, 1);
    let got = receiver.wait_for(1).await.remove(0);
    let body: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(body["id"], event_id);
    assert_eq!(body["type"], "new_lead");
    assert_eq!(body["data"], json!({ "name": "Ada" }));
    let header = |name: &str| got.headers[name].to_str().unwrap().to_string();
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
    assert_eq!(header("webhook-id"), event_id);
    assert!(signing::verify_standard(
        &[&secret],
        event_id,
        timestamp,
        got.body.as_bytes(),
        &header("webhook-signature")
    ));
    assert_eq!(header("x-webhook-signature"), signing::classic_signature(&secret, timestamp, got.body.as_bytes()));
    assert_eq!(header("x-webhook-timestamp"), timestamp.to_string());
    assert_eq!(header("x-webhook-event"), "new_lead");
    assert_eq!(header("x-webhook-event-id"), event_id);
    assert_eq!(header("x-tenant-ref"), "acme-1");
    assert!(header("user-agent").starts_with("IntegrationsHub/"));

    let delivery_id = accepted["deliveries"][0].as_str().unwrap();
    let delivery = app.delivery(&tenant, delivery_id).await;
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["attempts"][0]["status_code"], 200);
    assert_eq!(delivery["attempts"][0]["response_body"], "receiver says hi");
    let (_, attempts) = app.get(&format!("/api/v1/tenants/{tenant}/events/{event_id}/attempts")).await;
    assert_eq!(attempts["data"].as_array().unwrap().len(), 1);
});

both!(failures_retry_with_growing_gaps_then_dead_letter, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| {
        c.delivery.max_attempts = 3;
        c.delivery.backoff_base = Duration::from_secs(10);
    })
    .await;
    let receiver = Receiver::start().await;
    for _ in 0..3 {
        receiver.reply(503, &[]);
    }
    let tenant = app.create_tenant("Acme").await;
    app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    let accepted = app.publish(&tenant, "request_submitted", json!({ "n": 1 })).await;
    let id = accepted["deliveries"][0].as_str().unwrap();

    let mut gaps = Vec::new();
    for attempt in 1..=3 {
        let before = integrations_hub::time::now_ms();
        assert_eq!(app.drain().await, 1, "attempt {attempt} was due");
        assert_eq!(app.drain().await, 0, "nothing is due before its backoff");
        let delivery = app.delivery(&tenant, id).await;
        if attempt < 3 {
            assert_eq!(delivery["status"], "failed");
            let next = integrations_hub::time::parse_rfc3339(delivery["next_attempt_at"].as_str().unwrap()).unwrap();
            gaps.push(next - before);
            app.make_retries_due().await;
        } else {
            assert_eq!(delivery["status"], "dead_letter");
            assert_eq!(delivery["attempt_count"], 3);
            assert_eq!(delivery["last_status_code"], 503);
            assert_eq!(delivery["attempts"].as_array().unwrap().len(), 3);
        }
    }
    // base 10 s: the first gap is 8–12 s, the second 16–24 s.
    assert!((8_000..=12_500).contains(&gaps[0]), "{gaps:?}");
    assert!((16_000..=24_500).contains(&gaps[1]), "{gaps:?}");
    let (_, dead) = app.get(&format!("/api/v1/tenants/{tenant}/webhook-deliveries?status=dead_letter")).await;
    assert_eq!(dead["data"][0]["id"], id);
});

both!(retry_after_from_the_receiver_is_honoured, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    receiver.reply(429, &[("retry-after", "120")]);
    let tenant = app.create_tenant("Acme").await;
    app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    let accepted = app.publish(&tenant, "new_lead", json!({})).await;
    let before = integrations_hub::time::now_ms();
    app.drain().await;
    let delivery = app.delivery(&tenant, accepted["deliveries"][0].as_str().unwrap()).await;
    assert_eq!(delivery["status"], "failed");
    let next = integrations_hub::time::parse_rfc3339(delivery["next_attempt_at"].as_str().unwrap()).unwrap();
    assert!(next - before >= 119_000, "waited {} ms only", next - before);
});

both!(a_410_disables_the_endpoint_and_dead_letters, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    receiver.reply(410, &[]);
    let tenant = app.create_tenant("Acme").await;
    let webhook = app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    let accepted = app.publish(&tenant, "new_lead", json!({})).await;
    app.drain().await;
    let delivery = app.delivery(&tenant, accepted["deliveries"][0].as_str().unwrap()).await;
    assert_eq!(delivery["status"], "dead_letter");
    let (_, webhook) = app.get(&format!("/api/v1/tenants/{tenant}/webhooks/{}", webhook["id"].as_str().unwrap())).await;
    assert_eq!(webhook["enabled"], false);
    assert!(webhook["disabled_reason"].as_str().unwrap().contains("410"));
    // A disabled endpoint gets no new deliveries.
    let next = app.publish(&tenant, "new_lead", json!({})).await;
    assert!(next["deliveries"].as_array().unwrap().is_empty());
});

both!(private_targets_are_refused_unless_allowed, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.allow_private_targets = false).await;
    let receiver = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    // An IP literal the guard refuses is refused when the endpoint is made, naming the field.
    let (status, problem) =
        app.post(&format!("/api/v1/tenants/{tenant}/webhooks"), json!({ "url": receiver.url, "events": ["*"] })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "url", "{problem}");
    assert!(
        problem["errors"][0]["message"].as_str().unwrap().contains("127.0.0.1 is a private, loopback"),
        "{problem}"
    );
    // A name is caught when delivering (what it resolves to may change) ...
    let by_name = app
        .create_webhook(&tenant, json!({ "url": receiver.url.replace("127.0.0.1", "localhost"), "events": ["*"] }))
        .await;
    // ... and so is a literal endpoint made under a laxer policy (another instance's, here).
    let lax = TestApp::spawn_on(ScratchDir::new(), app.database_url.clone(), |_| {}).await;
    let by_ip = lax.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    app.publish(&tenant, "new_lead", json!({})).await;
    app.drain().await;
    for webhook in [by_ip, by_name] {
        let (_, list) =
            app.get(&format!("/api/v1/tenants/{tenant}/webhooks/{}/deliveries", webhook["id"].as_str().unwrap())).await;
        let id = list["data"][0]["id"].as_str().unwrap();
        let delivery = app.delivery(&tenant, id).await;
        assert_eq!(delivery["attempts"][0]["error_kind"], "blocked", "{delivery}");
    }
    assert!(receiver.received().is_empty(), "nothing reached the private address");
});

both!(
    an_endpoint_url_meets_the_ssrf_policy_when_it_is_set_not_when_other_settings_change,
    |backend: Backend| async move {
        let app = TestApp::spawn_with(backend, |c| c.allow_private_targets = false).await;
        let tenant = app.create_tenant("Acme").await;
        let lax = TestApp::spawn_on(ScratchDir::new(), app.database_url.clone(), |_| {}).await;
        let webhook = lax.create_webhook(&tenant, json!({ "url": "http://10.1.2.3/hook", "events": ["*"] })).await;
        let path = format!("/api/v1/tenants/{tenant}/webhooks/{}", webhook["id"].as_str().unwrap());
        let patch = |body| app.request(Method::PATCH, &path, Some(OPERATOR), Some(body));

        // Made before the policy was this strict, it can still be edited and disabled ...
        let (status, _, edited) = patch(json!({ "enabled": false, "description": "old box" })).await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        assert_eq!(edited["enabled"], false);
        // ... but a URL that is set is held to the policy, in every spelling of an address ...
        for url in [
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:8080/x",
            "http://0x7f000001/x",
            "http://10.1.2.3/hook",
        ] {
            let (status, _, problem) = patch(json!({ "url": url })).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {problem}");
            assert_eq!(problem["errors"][0]["field"], "url", "{problem}");
        }
        // ... and a public one passes.
        let (status, _, moved) = patch(json!({ "url": "https://hooks.example.com/in" })).await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(moved["url"], "https://hooks.example.com/in");
    }
);

both!(the_background_worker_delivers_without_being_drained, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.delivery.worker_enabled = true).await;
    let receiver = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    for n in 0..20 {
        app.publish(&tenant, "new_lead", json!({ "n": n })).await;
    }
    // Woken on commit: no poll interval (5 s by default) is needed to see all 20.
    let got = receiver.wait_for(20).await;
    assert_eq!(got.len(), 20);
});

both!(payloads_over_the_limit_are_refused_with_413, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.max_payload_bytes = 1024).await;
    let tenant = app.create_tenant("Acme").await;
    let (status, body) = app
        .post(
            &format!("/api/v1/tenants/{tenant}/events"),
            json!({ "event_type": "new_lead", "payload": { "blob": "x".repeat(2000) } }),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
});

both!(one_endpoint_gets_at_most_its_share_of_concurrent_deliveries, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| {
        c.delivery.worker_enabled = true;
        c.delivery.concurrency_per_endpoint = 2;
        // Held requests must not time out while the test watches (a loaded CI machine).
        c.delivery.timeout = Duration::from_secs(60);
    })
    .await;
    let gate = GatedReceiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    app.create_webhook(&tenant, json!({ "url": gate.url, "events": ["*"] })).await;
    for n in 0..6 {
        app.publish(&tenant, "new_lead", json!({ "n": n })).await;
    }
    // Two requests are held open by the receiver; the worker does not claim the rest while
    // the endpoint has no room (it used to claim and put them back, the deferral metric).
    gate.wait_in_flight(2).await;
    assert_eq!(gate.max_in_flight(), 2, "never more than the bound at once");
    gate.open();
    gate.wait_done(6).await;
    assert_eq!(gate.max_in_flight(), 2);
    // A deferral is not an attempt. (The last answers may still be being recorded.)
    let list = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let (_, list) = app.get(&format!("/api/v1/tenants/{tenant}/webhook-deliveries")).await;
            if list["data"].as_array().unwrap().iter().all(|d| d["status"] == "delivered") {
                return list;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("all six are recorded as delivered");
    for d in list["data"].as_array().unwrap() {
        assert_eq!(d["attempt_count"], 1, "{d}");
        assert_eq!(d["status"], "delivered", "{d}");
    }
});

both!(a_retry_is_sent_at_its_own_time_not_at_the_next_poll, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| {
        c.delivery.worker_enabled = true;
        c.delivery.poll_interval = Duration::from_secs(60);
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.reply(503, &[]);
    receiver.reply(503, &[]);
    let tenant = app.create_tenant("Acme").await;
    app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    app.publish(&tenant, "new_lead", json!({})).await;
    // Backoff is 10 ms here; with the poll at 60 s, only the worker's own retry timer can make
    // the third attempt arrive within the receiver's 20 s wait.
    let got = receiver.wait_for(3).await;
    assert_eq!(got.len(), 3);
});

both!(the_delivery_log_finds_one_events_deliveries_and_refuses_another_kind_of_id, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    for url in ["https://a.example/hook", "https://b.example/hook"] {
        app.create_webhook(&tenant, json!({ "url": url, "events": ["*"] })).await;
    }
    let first = app.publish(&tenant, "order.created", json!({})).await;
    app.publish(&tenant, "order.created", json!({})).await;
    let log = format!("/api/v1/tenants/{tenant}/webhook-deliveries");
    let first_id = first["id"].as_str().unwrap();

    let (status, found) = app.get(&format!("{log}?event_id={first_id}")).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let found = found["data"].as_array().unwrap().clone();
    assert_eq!(found.len(), 2, "one delivery per endpoint: {found:?}");
    assert!(found.iter().all(|d| d["event_id"] == first_id), "{found:?}");

    // Another tenant's event finds nothing here.
    let other = app.create_tenant("Globex").await;
    app.create_webhook(&other, json!({ "url": "https://c.example/hook", "events": ["*"] })).await;
    let theirs = app.publish(&other, "order.created", json!({})).await;
    let (_, none) = app.get(&format!("{log}?event_id={}", theirs["id"].as_str().unwrap())).await;
    assert_eq!(none["data"], json!([]), "{none}");

    // A delivery id (the log shows both) is named as the wrong kind, not answered with nothing.
    let delivery = found[0]["id"].as_str().unwrap();
    let (status, refused) = app.get(&format!("{log}?event_id={delivery}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "event_id", "{refused}");
});

both!(retry_now_sends_a_waiting_delivery_at_once_and_refuses_one_that_is_not_waiting, |backend: Backend| async move {
    // An hour's backoff: without "retry now" the second attempt would be an hour away.
    let app = TestApp::spawn_with(backend, |c| c.delivery.backoff_base = Duration::from_secs(3600)).await;
    let receiver = Receiver::start().await;
    receiver.reply(503, &[]);
    let tenant = app.create_tenant("Acme").await;
    app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    let accepted = app.publish(&tenant, "new_lead", json!({})).await;
    let id = accepted["deliveries"][0].as_str().unwrap();
    assert_eq!(app.drain().await, 1);
    assert_eq!(app.drain().await, 0, "the retry waits for its backoff");
    assert_eq!(app.delivery(&tenant, id).await["status"], "failed");

    // The receiver is fixed; the admin does not wait the hour.
    let retry = format!("/api/v1/tenants/{tenant}/webhook-deliveries/{id}/retry");
    let before = integrations_hub::time::now_ms();
    let (status, retried) = app.post(&retry, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!(retried["id"], id, "the same delivery, not a replay: {retried}");
    let due = integrations_hub::time::parse_rfc3339(retried["next_attempt_at"].as_str().unwrap()).unwrap();
    assert!(due <= integrations_hub::time::now_ms() && due >= before - 1, "{retried}");
    assert_eq!(app.drain().await, 1, "due at once");
    let delivery = app.delivery(&tenant, id).await;
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["attempt_count"], 2);
    assert!(delivery["replays"].as_array().unwrap().is_empty(), "{delivery}");
    assert_eq!(receiver.received().len(), 2, "the event was sent twice in all, not three times");

    // Delivered: nothing to retry (a replay is the way to send it again).
    let (status, refused) = app.post(&retry, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("replay"), "{refused}");

    // Audited; another tenant's delivery is not found; a read-only key may not.
    let (_, audit) = app.get(&format!("/api/v1/tenants/{tenant}/audit-log?action=delivery.retried")).await;
    assert_eq!(audit["data"][0]["target"], id, "{audit}");
    let other = app.create_tenant("Globex").await;
    let (status, _) = app.post(&format!("/api/v1/tenants/{other}/webhook-deliveries/{id}/retry"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, reader) =
        app.post(&format!("/api/v1/tenants/{tenant}/api-keys"), json!({ "name": "r", "role": "read_only" })).await;
    let (status, _, _) =
        app.request(Method::POST, &retry, Some(reader["key"].as_str().unwrap()), Some(json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

both!(a_family_of_event_types_is_subscribed_to_with_a_trailing_star, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    let hooks = format!("/api/v1/tenants/{tenant}/webhooks");
    for bad in ["invoice*", "*.paid", "invoice.**"] {
        let (status, body) = app.post(&hooks, json!({ "url": receiver.url, "events": [bad] })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("a family such as"), "{body}");
    }
    app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["invoice.*"] })).await;
    let mut fanned_out = Vec::new();
    for event_type in ["invoice.paid", "invoice.line.added", "invoices.paid", "invoice"] {
        let accepted = app.publish(&tenant, event_type, json!({})).await;
        fanned_out.push(accepted["deliveries"].as_array().unwrap().len());
    }
    assert_eq!(fanned_out, [1, 1, 0, 0], "invoice.paid, invoice.line.added, invoices.paid, invoice");
    app.drain().await;
    let mut types: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["type"].as_str().unwrap().to_string())
        .collect();
    types.sort();
    assert_eq!(types, ["invoice.line.added", "invoice.paid"], "sent concurrently, so in any order");
});

both!(an_endpoint_with_a_rate_limit_gets_its_deliveries_spaced_out, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.delivery.worker_enabled = true).await;
    let receiver = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    let hooks = format!("/api/v1/tenants/{tenant}/webhooks");
    let (status, body) =
        app.post(&hooks, json!({ "url": receiver.url, "events": ["*"], "rate_limit_per_second": 0 })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "rate_limit_per_second");
    let webhook =
        app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"], "rate_limit_per_second": 4 })).await;
    assert_eq!(webhook["rate_limit_per_second"], 4);
    for n in 0..10 {
        app.publish(&tenant, "new_lead", json!({ "n": n })).await;
    }
    let got = receiver.wait_for(10).await;
    // Four a second: ten sends start 250 ms apart, so 2.25 s pass from the first to the last
    // (a lower bound: a slow machine only spreads them further; without pacing they arrive
    // within milliseconds). 250 ms of slack for the first send's own start-up.
    let span = got[9].at - got[0].at;
    assert!(span >= Duration::from_millis(2000), "ten sends at 4/s took {span:?}");
    // Waiting for its turn is not an attempt.
    assert!(app.hub.metrics.deferred.get() > 0);
    let (_, list) = app.get(&format!("/api/v1/tenants/{tenant}/webhook-deliveries")).await;
    let attempts: Vec<i64> =
        list["data"].as_array().unwrap().iter().filter_map(|d| d["attempt_count"].as_i64()).collect();
    assert!(attempts.iter().all(|n| *n <= 1), "{attempts:?}");

    // The limit can be lifted (null) like the other settings.
    let id = webhook["id"].as_str().unwrap();
    let (status, _, patched) = app
        .request(
            Method::PATCH,
            &format!("{hooks}/{id}"),
            Some(OPERATOR),
            Some(json!({ "rate_limit_per_second": null })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["rate_limit_per_second"], serde_json::Value::Null);
});

both!(a_retry_due_after_another_is_not_left_for_the_poll, |backend: Backend| async move {
    // Two retries at different times: the worker wakes for the first, and must then still know
    // the second is coming. It used to remember only the earliest time it had scheduled, so the
    // second waited for the poll — here an hour, so waiting for it would fail the test.
    let app = TestApp::spawn_with(backend, |c| {
        c.delivery.worker_enabled = true;
        c.delivery.poll_interval = Duration::from_secs(3600);
    })
    .await;
    let (soon, later) = (Receiver::start().await, Receiver::start().await);
    soon.reply(503, &[]);
    later.reply(503, &[]);
    let tenant = app.create_tenant("Acme").await;
    app.create_webhook(&tenant, json!({ "url": soon.url, "events": ["*"], "backoff_base_seconds": 1 })).await;
    app.create_webhook(&tenant, json!({ "url": later.url, "events": ["*"], "backoff_base_seconds": 2 })).await;
    app.publish(&tenant, "new_lead", json!({})).await;
    // First attempts at once; the retries after about 1 s and about 2 s (±20 %).
    soon.wait_for(2).await;
    later.wait_for(2).await;
});
