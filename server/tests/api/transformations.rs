//! Transformations: an endpoint's jq program makes the body it receives (signed as sent), may set
//! headers, may drop an event (counted, nothing sent); a program that fails, runs for ever or
//! blows its stack becomes a failed attempt with the reason, and the hub goes on delivering.

use axum::http::StatusCode;
use integrations_hub::signing;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{Backend, Receiver, TestApp};

async fn endpoint(app: &TestApp, tenant: &str, url: &str, program: &str) -> String {
    let hook = app
        .create_webhook(
            tenant,
            json!({ "url": url, "events": ["*"], "transformation": program, "secret": "a-secret-of-16-chars-or-more" }),
        )
        .await;
    assert_eq!(hook["transformation"], program);
    hook["id"].as_str().unwrap().to_string()
}

async fn last_attempt(app: &TestApp, tenant: &str, delivery: &str) -> Value {
    let (_, d) = app.get(&format!("/api/v1/tenants/{tenant}/webhook-deliveries/{delivery}")).await;
    d["attempts"].as_array().and_then(|a| a.last().cloned()).unwrap_or(Value::Null)
}

both!(a_transformation_makes_the_body_signs_it_and_may_set_headers_or_drop, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let legacy = Receiver::start().await;
    let shaped = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    endpoint(&app, &tenant, &legacy.url, "{event: .type, timestamp: .timestamp, payload: .data}").await;
    endpoint(
        &app,
        &tenant,
        &shaped.url,
        r#"if .data.n > 1 then {"$body": {text: "n is \(.data.n)"}, "$headers": {"X-Kind": .type}} else null end"#,
    )
    .await;
    let first = app.publish(&tenant, "order.paid", json!({ "n": 1 })).await;
    app.publish(&tenant, "order.paid", json!({ "n": 2 })).await;
    app.drain().await;

    let got = legacy.received();
    assert_eq!(got.len(), 2);
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["event"], "order.paid");
    assert_eq!(body["payload"], json!({ "n": 1 }));
    assert!(body.get("data").is_none(), "only what the program made: {body}");
    // The signature covers the transformed body: the Standard Webhooks library verifies it (a
    // custom secret is used as its bytes), and refuses the untransformed body.
    let verifier =
        standardwebhooks::Webhook::from_bytes(signing::standard_key("a-secret-of-16-chars-or-more")).unwrap();
    verifier.verify(got[0].body.as_bytes(), &got[0].headers).expect("the transformed body verifies");
    let untransformed = r#"{"id":"x","type":"order.paid","data":{"n":1}}"#;
    assert!(verifier.verify(untransformed.as_bytes(), &got[0].headers).is_err());

    // Headers from `$headers`; the first event (n = 1) was dropped: one request only.
    let got = shaped.received();
    assert_eq!(got.len(), 1, "the event the program dropped was not sent");
    assert_eq!(got[0].body, r#"{"text":"n is 2"}"#);
    assert_eq!(got[0].headers["x-kind"], "order.paid");
    let shaped_delivery =
        first["deliveries"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()).collect::<Vec<_>>();
    let mut dropped = None;
    for d in &shaped_delivery {
        let attempt = last_attempt(&app, &tenant, d).await;
        if attempt["error_kind"] == "transformation_dropped" {
            dropped = Some(d.clone());
        }
    }
    let dropped = dropped.expect("the dropped event's attempt says so");
    assert_eq!(app.delivery(&tenant, &dropped).await["status"], "delivered", "done, nothing to retry");
    let (_, stats) = app.get(&format!("/api/v1/tenants/{tenant}/stats")).await;
    assert_eq!(stats["overall"]["filtered"], 1, "{stats}");
    assert_eq!(stats["overall"]["attempts"], 3, "the drop is not an attempt: {stats}");
});

both!(a_failing_endless_or_crashing_program_is_a_failed_attempt_not_a_stall, |backend: Backend| async move {
    // The hub's default of several attempts: a program's failure is dead-lettered at once all
    // the same (it would fail again on the same event; replay it once the program is fixed).
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    let hooks = format!("/api/v1/tenants/{tenant}/webhooks");
    // Checked when saved: jq's message, a 422.
    let (status, problem) =
        app.post(&hooks, json!({ "url": receiver.url, "events": ["*"], "transformation": "{" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "transformation");
    let (status, problem) =
        app.post(&hooks, json!({ "url": receiver.url, "events": ["*"], "transformation": "nosuch(1)" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem.to_string().contains("nosuch"), "{problem}");

    let other = Tenant::new(&app, "Other").await;
    for (program, reason) in [
        (r#"error("no customer")"#, "no customer"),
        ("last(range(1e18))", "longer than 1000 ms"),
        ("def f: 1 + f; f", "ended before answering"),
    ] {
        let tenant = app.create_tenant(program).await;
        endpoint(&app, &tenant, &receiver.url, program).await;
        let accepted = app.publish(&tenant, "order.paid", json!({ "n": 1 })).await;
        let delivery = accepted["deliveries"][0].as_str().unwrap().to_string();
        let started = std::time::Instant::now();
        app.drain().await;
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{program}: bounded");
        let attempt = last_attempt(&app, &tenant, &delivery).await;
        assert_eq!(attempt["error_kind"], "transformation", "{program}: {attempt}");
        assert!(attempt["error_message"].as_str().unwrap().contains(reason), "{program}: {attempt}");
        let dead = app.delivery(&tenant, &delivery).await;
        assert_eq!((&dead["status"], &dead["attempt_count"]), (&json!("dead_letter"), &json!(1)), "{dead}");
        // Another tenant's plain endpoint is delivered right after: nothing stalled.
        other.publish_and_expect_delivery(&app, &receiver).await;
    }
    assert_eq!(receiver.received().len(), 3, "only the other tenant's three events arrived");
});

/// A tenant with a plain endpoint, to show deliveries go on.
struct Tenant(String);

impl Tenant {
    async fn new(app: &TestApp, name: &str) -> Tenant {
        Tenant(app.create_tenant(name).await)
    }

    async fn publish_and_expect_delivery(&self, app: &TestApp, receiver: &Receiver) {
        if app.get(&format!("/api/v1/tenants/{}/webhooks", self.0)).await.1["data"]
            .as_array()
            .is_none_or(|a| a.is_empty())
        {
            app.create_webhook(&self.0, json!({ "url": receiver.url, "events": ["*"] })).await;
        }
        let accepted = app.publish(&self.0, "order.paid", json!({ "plain": true })).await;
        app.drain().await;
        let id = accepted["deliveries"][0].as_str().unwrap();
        assert_eq!(app.delivery(&self.0, id).await["status"], "delivered");
    }
}

both!(trying_a_program_shows_what_the_latest_events_would_become, |backend: Backend| async move {
    use integrations_hub::domain::auth::{Actor, Principal};
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let other = app.create_tenant("Other").await;
    let operator = Actor::new(Principal::Operator, None);
    let tid = app::models::TenantId::from(tenant.clone());

    // Nothing published yet: the type's example stands in.
    let tried =
        app.hub.try_transformation(&operator, &tid, try_it("{lead: .data.lead_id}", Some("new_lead"))).await.unwrap();
    assert_eq!((tried.len(), tried[0].event_id.as_str()), (1, "example"));
    assert_eq!(tried[0].body.as_deref(), Some(r#"{"lead":"lead_77"}"#));

    // The latest events of the type, newest first; another tenant's are never shown.
    app.publish(&other, "order.paid", json!({ "n": 99 })).await;
    for n in 1..=4 {
        app.publish(&tenant, "order.paid", json!({ "n": n })).await;
    }
    let program = r#"if .data.n == 3 then null elif .data.n == 2 then error("two") else {"$body": {n: .data.n}, "$headers": {"X-N": "\(.data.n)"}} end"#;
    let tried = app.hub.try_transformation(&operator, &tid, try_it(program, Some("order.paid"))).await.unwrap();
    let seen: Vec<(Option<&str>, bool, Option<&str>)> =
        tried.iter().map(|t| (t.body.as_deref(), t.dropped, t.error.as_deref())).collect();
    assert_eq!(seen.len(), 3, "the latest three");
    assert_eq!(seen[0], (Some(r#"{"n":4}"#), false, None));
    assert_eq!(seen[1], (None, true, None), "n = 3 is dropped");
    assert!(seen[2].2.is_some_and(|e| e.contains("two")), "{tried:?}");
    assert_eq!(tried[0].headers, vec![("X-N".to_string(), "4".to_string())]);

    // A program that does not compile is the caller's 422, an empty one too.
    for bad in ["{", "  "] {
        let refused = app.hub.try_transformation(&operator, &tid, try_it(bad, None)).await.unwrap_err();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    }
});

fn try_it(program: &str, event_type: Option<&str>) -> app::models::TransformTryIn {
    app::models::TransformTryIn { program: program.into(), event_type: event_type.map(str::to_string) }
}
