use axum::http::StatusCode;
use reqwest::Method;
use serde_json::json;

use crate::both;
use crate::helpers::{Backend, ScratchDir, TestApp, OPERATOR};

both!(health_and_readiness_answer, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let (status, _, body) = app.request(Method::GET, "/health", None, None).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (status, _, body) = app.request(Method::GET, "/ready", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["database"], true);
});

both!(requests_without_a_valid_token_get_a_401_problem, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    for token in [None, Some("wrong-token")] {
        let (status, headers, body) = app.request(Method::GET, "/api/v1/tenants", token, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(body["status"], 401);
        assert!(body["title"].is_string() && body["type"].is_string() && body["detail"].is_string());
    }
});

both!(the_operator_creates_lists_and_reads_tenants, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let a = app.create_tenant("Acme").await;
    let b = app.create_tenant("Globex").await;
    assert!(a.starts_with("tnt_"));
    let (status, body) = app.get(&format!("/api/v1/tenants/{a}")).await;
    assert_eq!((status, body["name"].as_str()), (StatusCode::OK, Some("Acme")));
    // Pagination: one per page, the cursor leads to the second.
    let (_, first) = app.get("/api/v1/tenants?limit=1").await;
    assert_eq!(first["data"][0]["id"], a.as_str());
    let cursor = first["next_cursor"].as_str().expect("a cursor");
    let (_, second) = app.get(&format!("/api/v1/tenants?limit=1&cursor={cursor}")).await;
    assert_eq!(second["data"][0]["id"], b.as_str());
    assert!(second["next_cursor"].is_null());
    let (status, body) = app.get("/api/v1/tenants/tnt_01ARZ3NDEKTSV4RRFFQ69G5FAV").await;
    assert_eq!((status, body["status"].as_i64()), (StatusCode::NOT_FOUND, Some(404)));
});

both!(the_operator_renames_a_tenant_and_no_one_else_can, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme Corp").await;
    let path = format!("/api/v1/tenants/{tenant}");
    let rename = |token: &'static str, name: &'static str| {
        let (app, path) = (&app, path.clone());
        async move { app.request(Method::PATCH, &path, Some(token), Some(json!({ "name": name }))).await }
    };
    let (status, _, renamed) = rename(OPERATOR, "  Acme Corporation ").await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!((renamed["id"].as_str(), renamed["name"].as_str()), (Some(tenant.as_str()), Some("Acme Corporation")));
    let (_, read) = app.get(&path).await;
    assert_eq!(read["name"], "Acme Corporation");
    let (_, found) = app.get("/api/v1/tenants?name=corporation").await;
    assert_eq!(found["data"][0]["id"], tenant.as_str(), "the search finds the new name");
    let (_, audit) = app.get(&format!("{path}/audit-log")).await;
    let actions: Vec<(&str, &str)> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["target"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(actions, [("tenant.created", tenant.as_str()), ("tenant.renamed", tenant.as_str())]);

    let (status, _, problem) = rename(OPERATOR, "   ").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "name");
    let (status, _, _) = app
        .request(
            Method::PATCH,
            "/api/v1/tenants/tnt_01ARZ3NDEKTSV4RRFFQ69G5FAV",
            Some(OPERATOR),
            Some(json!({ "name": "X" })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A tenant's own admin key may read its tenant, not rename it.
    let (_, key) = app.post(&format!("{path}/api-keys"), json!({ "name": "admin", "role": "admin" })).await;
    let key = key["key"].as_str().unwrap().to_string();
    let (status, _, _) = app.request(Method::PATCH, &path, Some(&key), Some(json!({ "name": "Mine now" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, read) = app.get(&path).await;
    assert_eq!(read["name"], "Acme Corporation");
});

both!(tenants_are_found_by_part_of_their_name, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let mut ids = std::collections::HashMap::new();
    for name in ["Acme Corp", "acme labs", "Globex", "100%_Pure", "Ödön Labs"] {
        ids.insert(name, app.create_tenant(name).await);
    }
    let names = |page: &serde_json::Value| -> Vec<String> {
        page["data"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
    };
    let (status, found) = app.get("/api/v1/tenants?name=ACME").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(names(&found), ["Acme Corp", "acme labs"], "case is ignored: {found}");
    // LIKE's wildcards are matched as themselves.
    for text in ["%25", "_", "0%25_p"] {
        let (_, found) = app.get(&format!("/api/v1/tenants?name={text}")).await;
        assert_eq!(names(&found), ["100%_Pure"], "{text}: {found}");
    }
    // A name with a non-ASCII capital is found by its own spelling, whatever the ASCII case.
    let (_, found) = app.get("/api/v1/tenants?name=%C3%96d%C3%B6n%20LABS").await;
    assert_eq!(names(&found), ["Ödön Labs"], "{found}");
    let (_, none) = app.get("/api/v1/tenants?name=initech").await;
    assert_eq!(none["data"], json!([]));
    // Paged like the whole list, the cursor staying within the search.
    let (_, first) = app.get("/api/v1/tenants?name=acme&limit=1").await;
    assert_eq!(names(&first), ["Acme Corp"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = app.get(&format!("/api/v1/tenants?name=acme&limit=1&cursor={cursor}")).await;
    assert_eq!(names(&second), ["acme labs"]);
    assert!(second["next_cursor"].is_null(), "{second}");
});

both!(a_cursor_that_no_page_of_that_list_gave_is_a_422, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let other = app.create_tenant("Globex").await;
    let lists = ["api-keys", "webhooks", "webhook-deliveries", "dead-letters", "audit-log"]
        .map(|list| format!("/api/v1/tenants/{tenant}/{list}"));
    for list in lists.iter().map(String::as_str).chain(["/api/v1/tenants"]) {
        // Made up, and an id of another kind (a tenant's id is no cursor of a webhook list).
        let wrong = if list == "/api/v1/tenants" { "key_01ARZ3NDEKTSV4RRFFQ69G5FAV" } else { other.as_str() };
        for cursor in ["nope", wrong] {
            let (status, body) = app.get(&format!("{list}?cursor={cursor}")).await;
            assert_eq!(
                (status, body["errors"][0]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("cursor")),
                "{list}?cursor={cursor}: {body}"
            );
        }
        // An empty cursor is the first page.
        let (status, body) = app.get(&format!("{list}?cursor=")).await;
        assert_eq!(status, StatusCode::OK, "{list}?cursor=: {body}");
    }
    // The cursors these lists give still lead on (tenants' and the audit log's are tested elsewhere).
    for n in 0..2 {
        app.create_webhook(&tenant, json!({"url": format!("https://example.com/{n}"), "events": ["*"]})).await;
        let (status, _) = app
            .post(&format!("/api/v1/tenants/{tenant}/api-keys"), json!({"name": format!("k{n}"), "role": "read_only"}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    for list in &lists[..2] {
        let (_, first) = app.get(&format!("{list}?limit=1")).await;
        let cursor = first["next_cursor"].as_str().expect("a cursor");
        let (status, second) = app.get(&format!("{list}?limit=1&cursor={cursor}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_ne!(second["data"][0]["id"], first["data"][0]["id"], "{list}");
        assert!(second["data"][0]["id"].is_string() && second["next_cursor"].is_null(), "{list}: {second}");
    }
});

both!(a_query_parameter_left_empty_takes_its_default_and_a_bad_one_is_named, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let deliveries = format!("/api/v1/tenants/{tenant}/webhook-deliveries");
    let webhook = app.create_webhook(&tenant, json!({"url": "https://example.com/hook", "events": ["*"]})).await;
    app.publish(&tenant, "order.created", json!({})).await;
    // Left empty, as an HTML form sends an empty field: the default, not a refusal.
    for (list, query) in [
        ("/api/v1/tenants".to_string(), "?limit=&cursor="),
        (deliveries.clone(), "?status=&webhook_id=&event_type=&since=&until=&limit="),
        (format!("/api/v1/tenants/{tenant}/stats"), "?window="),
        (format!("/api/v1/tenants/{tenant}/audit-log"), "?order=&limit"),
    ] {
        let (status, body) = app.get(&format!("{list}{query}")).await;
        assert_eq!(status, StatusCode::OK, "{list}{query}: {body}");
    }
    let (_, all) = app.get(&format!("{deliveries}?status=&webhook_id=")).await;
    assert_eq!(all["data"][0]["webhook_id"], webhook["id"], "an empty filter filters nothing: {all}");
    let (_, stats) = app.get(&format!("/api/v1/tenants/{tenant}/stats?window=")).await;
    let (_, default) = app.get(&format!("/api/v1/tenants/{tenant}/stats")).await;
    assert_eq!(stats["window"], default["window"]);
    // A value that is given and wrong is refused, naming its parameter.
    for (list, query, field) in [
        ("/api/v1/tenants".to_string(), "?limit=ten", "limit"),
        (deliveries.clone(), "?limit=1.5", "limit"),
        (format!("/api/v1/tenants/{tenant}/stats"), "?window=1y", "window"),
    ] {
        let (status, body) = app.get(&format!("{list}{query}")).await;
        assert_eq!(
            (status, body["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{list}{query}: {body}"
        );
    }
});

both!(bad_input_is_a_4xx_problem_never_a_500, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    // Malformed JSON: 400.
    let response = app
        .http
        .post(format!("{}/api/v1/tenants", app.url))
        .bearer_auth(OPERATOR)
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    // Wrong shape: 422 naming the field, however deep (axum's own Json named only "body").
    let (status, body) = app.post("/api/v1/tenants", json!({ "name": 5 })).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("name")),
        "{body}"
    );
    // A field the body does not take (a typo, say) is named, not ignored: as on every input.
    let (status, body) = app.post("/api/v1/tenants", json!({ "name": "Acme", "nmae": "Acme 2" })).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("nmae")),
        "{body}"
    );
    let webhooks = format!("/api/v1/tenants/{tenant}/webhooks");
    for (wrong, field) in [
        (json!({ "url": "https://example.com/a", "events": ["*", 7] }), "events[1]"),
        (json!({ "url": "https://example.com/a", "events": ["*"], "headers": { "X-Team": 5 } }), "headers.X-Team"),
        (json!({ "events": ["*"] }), "url"),
        (json!(["https://example.com/a"]), "body"),
        (json!({ "url": "https://example.com/a", "events": ["*"], "colour": "red" }), "colour"),
    ] {
        let (status, body) = app.post(&webhooks, wrong.clone()).await;
        assert_eq!(
            (status, body["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{wrong}: {body}"
        );
    }
    // Not JSON after the value, or not sent as JSON: 400 and 415.
    let send = |content_type: &'static str, body: &'static str| {
        app.http
            .post(format!("{}/api/v1/tenants", app.url))
            .bearer_auth(OPERATOR)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_eq!(send("application/json", r#"{"name": "a"} {"name": "b"}"#).await.unwrap().status(), 400);
    assert_eq!(send("text/plain", r#"{"name": "a"}"#).await.unwrap().status(), 415);
    assert_eq!(
        send("application/merge-patch+json; charset=utf-8", r#"{"name": "A+json"}"#).await.unwrap().status(),
        201
    );
    // Invalid fields: 422 naming each field.
    let (status, body) = app
        .post(
            &format!("/api/v1/tenants/{tenant}/webhooks"),
            json!({ "url": "ftp://x", "events": [], "secret": "short" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["url", "events", "secret"]);
    // A method the path does not take: 405, a problem, with what it takes in `Allow`.
    let (status, headers, body) = app.request(Method::PUT, "/api/v1/tenants", Some(OPERATOR), None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(body["status"], 405);
    assert!(headers["allow"].to_str().unwrap().contains("POST"), "{headers:?}");
    // An id that is not UTF-8 once percent-decoded: 400 as a problem (axum's own was plain text).
    for path in [format!("/api/v1/tenants/{tenant}/webhooks/%FF"), "/api/v1/tenants/%C3%28/api-keys".into()] {
        let (status, headers, body) = app.request(Method::GET, &path, Some(OPERATOR), None).await;
        assert_eq!((status, body["status"].as_i64()), (StatusCode::BAD_REQUEST, Some(400)), "{path}: {body}");
        assert_eq!(headers["content-type"], "application/problem+json");
    }
    // An unknown delivery status filter: 422, not 500.
    let (status, _) = app.get(&format!("/api/v1/tenants/{tenant}/webhook-deliveries?status=bogus")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // A publish to a tenant that does not exist: 404.
    let (status, _) = app
        .post(
            "/api/v1/tenants/tnt_01ARZ3NDEKTSV4RRFFQ69G5FAV/events",
            json!({ "event_type": "new_lead", "payload": {} }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

both!(signing_secrets_are_encrypted_at_rest, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let secret = "my-very-own-signing-secret";
    let webhook =
        app.create_webhook(&tenant, json!({ "url": "https://example.com/h", "events": ["*"], "secret": secret })).await;
    assert!(webhook.get("secret").is_none(), "the secret is not echoed in the endpoint");
    let stored: (Vec<u8>,) = integrations_hub::on_db!(&app.hub.db, pool =>
        sqlx::query_as("SELECT secret FROM webhooks WHERE id = $1").bind(webhook["id"].as_str().unwrap()).fetch_one(pool).await).unwrap();
    assert!(!stored.0.windows(secret.len()).any(|w| w == secret.as_bytes()));
    let (_, body) =
        app.get(&format!("/api/v1/tenants/{tenant}/webhooks/{}/secret", webhook["id"].as_str().unwrap())).await;
    assert_eq!(body["secret"], secret);
    // A generated secret has the Standard Webhooks form.
    let generated = app.create_webhook(&tenant, json!({ "url": "https://example.com/g", "events": ["*"] })).await;
    let (_, body) =
        app.get(&format!("/api/v1/tenants/{tenant}/webhooks/{}/secret", generated["id"].as_str().unwrap())).await;
    assert!(body["secret"].as_str().unwrap().starts_with("whsec_"));
});

both!(metrics_are_prometheus_text, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let response = app.http.get(format!("{}/metrics", app.url)).send().await.unwrap();
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    for name in [
        "ih_deliveries_total{outcome=\"delivered\"}",
        "ih_attempt_duration_seconds_bucket",
        "ih_deliveries_due",
        "ih_oldest_due_age_seconds",
    ] {
        assert!(text.contains(name), "missing {name}");
    }
});

both!(key_outcomes_are_counted_in_metrics, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let (_, key) = app
        .post(
            &format!("/api/v1/tenants/{tenant}/api-keys"),
            json!({ "name": "m", "role": "admin", "rate_limit_per_minute": 2 }),
        )
        .await;
    let key = key["key"].as_str().unwrap().to_string();
    let count = |text: &str, outcome: &str| -> u64 {
        let line = format!("ih_api_requests_total{{outcome=\"{outcome}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(line.as_str()))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {line}"))
    };
    let scrape = || async { app.http.get(format!("{}/metrics", app.url)).send().await.unwrap().text().await.unwrap() };
    let before = scrape().await;
    crate::helpers::clear_of_a_minute_boundary().await;
    for _ in 0..3 {
        app.request(reqwest::Method::GET, "/api/v1/whoami", Some(&key), None).await;
    }
    // A key the hub has never seen (well-formed, so it is looked up) and a malformed one.
    let unknown = "sk_0000000000000000000000000000000000000000000000000";
    app.request(reqwest::Method::GET, "/api/v1/whoami", Some(unknown), None).await;
    let after = scrape().await;
    let moved = |outcome: &str| count(&after, outcome) - count(&before, outcome);
    // The operator's own calls above count as ok too; the key's two allowed calls at least.
    assert!(moved("ok") >= 2, "{after}");
    assert_eq!(moved("rate_limited"), 1, "the third call is over the key's limit of 2");
    assert_eq!(moved("unauthorized"), 1, "the unknown key");
    assert_eq!(moved("forbidden"), 0);
    assert!(after.contains("ih_webhooks_disabled_total{reason=\"gone\"} 0"), "{after}");
});

#[tokio::test]
async fn a_generated_operator_token_is_printed_once_and_survives_restarts() {
    let dir = ScratchDir::new();
    let url = format!("sqlite://{}", dir.path().join("hub.db").display());
    let config = |url: &str| {
        let mut c = integrations_hub::config::Config::from_lookup(|_| None).unwrap();
        c.data_dir = dir.path().to_path_buf();
        c.database_url = url.into();
        c
    };
    let first = integrations_hub::build(config(&url), tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
        .await
        .unwrap();
    let token = first.generated_operator_token.clone().expect("generated at first start");
    let principal = first.hub.authenticate(&token).await;
    assert!(principal.is_ok());
    let second = integrations_hub::build(config(&url), tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
        .await
        .unwrap();
    assert!(second.generated_operator_token.is_none(), "never shown twice");
    assert!(second.hub.authenticate(&token).await.is_ok(), "the same token still works");
}
