//! The route shapes, payloads and events of the systems the hub replaces: key-scoped aliases,
//! the lead routes, `PUT` on an endpoint, domain events, CORS and the old admin addresses.

use axum::http::StatusCode;
use integrations_hub::signing;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{Backend, Receiver, TestApp};

/// A tenant with an admin key; returns (tenant, key).
async fn tenant_with_key(app: &TestApp, name: &str) -> (String, String) {
    let tenant = app.create_tenant(name).await;
    let (status, key) =
        app.post(&format!("/api/v1/tenants/{tenant}/api-keys"), json!({ "name": "integrator", "role": "admin" })).await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    (tenant, key["key"].as_str().unwrap().to_string())
}

async fn call(app: &TestApp, method: Method, path: &str, key: &str, body: Option<Value>) -> (StatusCode, Value) {
    let (status, _, body) = app.request(method, path, Some(key), body).await;
    (status, body)
}

both!(key_scoped_key_routes_act_on_the_keys_tenant, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let (tenant, key) = tenant_with_key(&app, "Acme").await;
    for base in ["/api/v1/keys", "/api/v1/api-keys", "/api/v1/integration/api-keys"] {
        let (status, created) =
            call(&app, Method::POST, base, &key, Some(json!({ "name": base, "role": "read_only" }))).await;
        assert_eq!(status, StatusCode::CREATED, "{base}: {created}");
        assert_eq!(created["tenant_id"], tenant.as_str());
        let id = created["id"].as_str().unwrap().to_string();
        let (status, list) = call(&app, Method::GET, base, &key, None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(list["data"].as_array().unwrap().iter().any(|k| k["id"] == id.as_str()), "{base}: {list}");
        let (status, one) = call(&app, Method::GET, &format!("{base}/{id}"), &key, None).await;
        assert_eq!((status, one["name"].as_str()), (StatusCode::OK, Some(base)));
        // DELETE revokes, as the system these routes come from did; the module route's revoke too.
        let (status, ended) = if base.contains("integration") {
            call(&app, Method::POST, &format!("{base}/{id}/revoke"), &key, None).await
        } else {
            call(&app, Method::DELETE, &format!("{base}/{id}"), &key, None).await
        };
        assert_eq!(status, StatusCode::OK, "{base}: {ended}");
        assert_eq!(ended["status"], "revoked");
        let (status, _, _) = app.request(Method::GET, "/api/v1/whoami", created["key"].as_str(), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked key fails at once");
    }
    // The operator has no tenant of its own: a clear 400 naming the path to use.
    let (status, problem) = app.get("/api/v1/keys").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("/api/v1/tenants/{tenant_id}"), "{problem}");
    // A key never reaches another tenant's key through an alias.
    let (other, _) = tenant_with_key(&app, "Globex").await;
    let (_, theirs) =
        app.post(&format!("/api/v1/tenants/{other}/api-keys"), json!({ "name": "theirs", "role": "admin" })).await;
    let theirs = theirs["id"].as_str().unwrap();
    let (status, _) = call(&app, Method::GET, &format!("/api/v1/keys/{theirs}"), &key, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, Method::DELETE, &format!("/api/v1/keys/{theirs}"), &key, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An id of another kind is "not found" before any query, as on the tenant-scoped routes.
    let (status, _) = call(&app, Method::GET, &format!("/api/v1/keys/{tenant}"), &key, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

both!(key_scoped_webhook_routes_and_put_replace_the_whole_endpoint, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let (tenant, key) = tenant_with_key(&app, "Acme").await;
    for base in ["/api/v1/webhooks", "/api/v1/integration/webhooks"] {
        let body = json!({
            "url": "https://example.com/in", "events": ["new_lead"], "name": "CRM sync",
            "description": "to the CRM", "max_attempts": 3, "headers": { "X-Ref": "1" }, "secret": "0123456789abcdef-kept"
        });
        let (status, created) = call(&app, Method::POST, base, &key, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(
            (created["name"].as_str(), created["tenant_id"].as_str()),
            (Some("CRM sync"), Some(tenant.as_str()))
        );
        let id = created["id"].as_str().unwrap().to_string();
        let (status, list) = call(&app, Method::GET, base, &key, None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(list["data"].as_array().unwrap().iter().any(|w| w["id"] == id.as_str()));
        // PUT replaces: what it leaves out returns to its default; the secret stays unless given.
        let put = json!({ "url": "https://example.com/other", "events": ["lead_update"] });
        let (status, replaced) = call(&app, Method::PUT, &format!("{base}/{id}"), &key, Some(put)).await;
        assert_eq!(status, StatusCode::OK, "{replaced}");
        assert_eq!(replaced["url"], "https://example.com/other");
        assert_eq!(replaced["events"], json!(["lead_update"]));
        for gone in ["name", "description", "max_attempts"] {
            assert!(replaced[gone].is_null(), "{gone} should be back to its default: {replaced}");
        }
        assert_eq!(replaced["headers"], json!({}));
        assert_eq!(replaced["enabled"], true);
        let (_, secret) = app.get(&format!("/api/v1/tenants/{tenant}/webhooks/{id}/secret")).await;
        assert_eq!(secret["secret"], "0123456789abcdef-kept");
        let (status, one) = call(&app, Method::GET, &format!("{base}/{id}"), &key, None).await;
        assert_eq!((status, one["url"].as_str()), (StatusCode::OK, Some("https://example.com/other")));
        // Bad input on PUT is the same 422 as on create.
        let (status, problem) =
            call(&app, Method::PUT, &format!("{base}/{id}"), &key, Some(json!({ "url": "nope", "events": [] }))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> =
            problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["url", "events"]);
        let (status, _) = call(&app, Method::DELETE, &format!("{base}/{id}"), &key, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = call(&app, Method::GET, &format!("{base}/{id}"), &key, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // PATCH on the short path, and the name: set, too long, removed.
    let hook = app.create_webhook(&tenant, json!({ "url": "https://example.com/p", "events": ["*"] })).await;
    let one = format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap());
    let (status, patched) = call(&app, Method::PATCH, &one, &key, Some(json!({ "name": "  Billing  " }))).await;
    assert_eq!((status, patched["name"].as_str()), (StatusCode::OK, Some("Billing")));
    let (status, problem) = call(&app, Method::PATCH, &one, &key, Some(json!({ "name": "n".repeat(101) }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "name");
    let (_, patched) = call(&app, Method::PATCH, &one, &key, Some(json!({ "name": null }))).await;
    assert!(patched["name"].is_null());
    // The tenant's delivery log, with its filters, on the short path.
    let event = app.publish(&tenant, "new_lead", json!({})).await;
    let (status, log) = call(&app, Method::GET, "/api/v1/webhooks/deliveries?status=pending", &key, None).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    assert_eq!(log["data"][0]["event_id"], event["id"]);
    let (status, _) = call(&app, Method::GET, "/api/v1/webhooks/deliveries?status=lost", &key, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Another tenant's endpoint is not found through the short paths.
    let (other, _) = tenant_with_key(&app, "Globex").await;
    let theirs = app.create_webhook(&other, json!({ "url": "https://example.com/g", "events": ["*"] })).await;
    let theirs = format!("/api/v1/webhooks/{}", theirs["id"].as_str().unwrap());
    for method in [Method::GET, Method::DELETE] {
        let (status, _) = call(&app, method, &theirs, &key, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let put = json!({ "url": "https://example.com/x", "events": ["*"] });
    assert_eq!(call(&app, Method::PUT, &theirs, &key, Some(put)).await.0, StatusCode::NOT_FOUND);
});

both!(a_lead_is_published_as_itself_and_delivered_with_an_event_field, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let (tenant, key) = tenant_with_key(&app, "Acme").await;
    app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["new_lead", "lead_update"] })).await;
    let lead = json!({ "id": "lead_77", "name": " Alan Turing ", "email": "alan@example.com", "source": "website" });
    let (status, accepted) = call(&app, Method::POST, "/api/v1/events/leads", &key, Some(lead)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    let update = json!({ "id": 77, "name": "Alan Turing", "email": "alan@example.com", "changes": { "stage": "won" } });
    let (status, _) = call(&app, Method::POST, "/api/v1/events/leads/updates", &key, Some(update)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.drain().await;
    let got = receiver.wait_for(2).await;
    let bodies: Vec<Value> = got.iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    let first = bodies.iter().find(|b| b["type"] == "new_lead").unwrap();
    assert_eq!(first["id"], accepted["id"]);
    assert_eq!(first["event"], "new_lead", "receivers written for {{event, timestamp, data}} read it unchanged");
    assert_eq!(
        first["data"],
        json!({ "id": "lead_77", "name": "Alan Turing", "email": "alan@example.com", "source": "website" })
    );
    let second = bodies.iter().find(|b| b["type"] == "lead_update").unwrap();
    assert_eq!(second["event"], "lead_update");
    assert_eq!(second["data"]["changes"], json!({ "stage": "won" }));
    assert_eq!(second["data"]["id"], 77);
    // Bad leads: every field at fault named at once, nothing published.
    let bad = json!({ "id": "", "name": "", "email": "not-an-address" });
    let (status, problem) = call(&app, Method::POST, "/api/v1/events/leads", &key, Some(bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["id", "name", "email"]);
    let (status, problem) = call(&app, Method::POST, "/api/v1/events/leads", &key, Some(json!({ "name": "x" }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let no_changes = json!({ "id": 1, "name": "A", "email": "a@example.com", "changes": {} });
    let (status, problem) = call(&app, Method::POST, "/api/v1/events/leads/updates", &key, Some(no_changes)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "changes");
    // The tenant-scoped path works for the operator too.
    let lead = json!({ "id": 1, "name": "Grace", "email": "grace@example.com" });
    let (status, _) = app.post(&format!("/api/v1/tenants/{tenant}/events/leads"), lead).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.drain().await;
    assert_eq!(receiver.wait_for(3).await.len(), 3);
});

both!(domain_events_reach_their_subscribers_signed_and_without_secrets, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let (tenant, key) = tenant_with_key(&app, "Acme").await;
    let all = [
        "webhook.created",
        "webhook.updated",
        "webhook.deleted",
        "api_key.created",
        "api_key.revoked",
        "api_key.rotated",
    ];
    let subscriber =
        app.create_webhook(&tenant, json!({ "url": receiver.url, "events": all, "name": "audit feed" })).await;
    let (_, secret) =
        app.get(&format!("/api/v1/tenants/{tenant}/webhooks/{}/secret", subscriber["id"].as_str().unwrap())).await;
    let secret = secret["secret"].as_str().unwrap().to_string();
    // A catch-all endpoint does not get them: they are opt-in, like the operational events.
    let catch_all = Receiver::start().await;
    app.create_webhook(&tenant, json!({ "url": catch_all.url, "events": ["*"] })).await;

    let hooked_secret = "a-secret-that-must-not-leak-1234";
    let (_, hook) = call(
        &app,
        Method::POST,
        "/api/v1/webhooks",
        &key,
        Some(json!({ "url": "https://example.com/h", "events": ["*"], "secret": hooked_secret, "name": "CRM", "headers": { "Authorization": "Bearer crm-token-must-not-leak" } })),
    )
    .await;
    let hook_path = format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap());
    call(&app, Method::PATCH, &hook_path, &key, Some(json!({ "description": "changed" }))).await;
    call(&app, Method::DELETE, &hook_path, &key, None).await;
    let (_, made) =
        call(&app, Method::POST, "/api/v1/keys", &key, Some(json!({ "name": "ci", "role": "read_only" }))).await;
    let made_id = made["id"].as_str().unwrap().to_string();
    let (_, rotated) =
        call(&app, Method::POST, &format!("/api/v1/tenants/{tenant}/api-keys/{made_id}/rotate"), &key, None).await;
    let rotated_id = rotated["id"].as_str().unwrap().to_string();
    call(&app, Method::DELETE, &format!("/api/v1/keys/{rotated_id}"), &key, None).await;
    app.drain().await;

    // Its own creation, the catch-all's, three about `hook` and three about keys.
    let got = receiver.wait_for(8).await;
    let secrets =
        [hooked_secret, "crm-token-must-not-leak", made["key"].as_str().unwrap(), rotated["key"].as_str().unwrap()];
    let mut seen = Vec::new();
    for r in &got {
        for leaked in secrets {
            assert!(!r.body.contains(leaked), "a secret or key leaked into {}", r.body);
        }
        let header = |name: &str| r.headers[name].to_str().unwrap().to_string();
        let ts: i64 = header("webhook-timestamp").parse().unwrap();
        assert!(signing::verify_standard(
            &[&secret],
            &header("webhook-id"),
            ts,
            r.body.as_bytes(),
            &header("webhook-signature")
        ));
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["data"]["tenant_id"], tenant.as_str());
        seen.push((body["type"].as_str().unwrap().to_string(), body["data"].clone()));
    }
    let about = |t: &str, field: &str, id: &Value| {
        let found = seen.iter().find(|(kind, d)| kind == t && &d[field] == id).map(|(_, d)| d.clone());
        found.unwrap_or_else(|| panic!("no {t} about {id} in {seen:?}"))
    };
    let data = |t: &str| match t {
        t if t.starts_with("webhook.") => about(t, "webhook_id", &hook["id"]),
        "api_key.revoked" => about(t, "api_key_id", &json!(rotated_id)),
        t => about(t, "api_key_id", &json!(made_id)),
    };
    assert_eq!(data("webhook.created")["webhook_id"], hook["id"]);
    assert_eq!(data("webhook.created")["name"], "CRM");
    assert_eq!(data("webhook.created")["url"], "https://example.com/h");
    assert_eq!(data("webhook.updated")["webhook_id"], hook["id"]);
    assert_eq!(data("webhook.deleted")["webhook_id"], hook["id"]);
    assert_eq!(data("api_key.created")["api_key_id"], made_id.as_str());
    assert_eq!(data("api_key.created")["name"], "ci");
    assert_eq!(data("api_key.rotated")["api_key_id"], made_id.as_str());
    assert_eq!(data("api_key.rotated")["new_api_key_id"], rotated_id.as_str());
    assert_eq!(data("api_key.revoked")["api_key_id"], rotated_id.as_str());
    assert!(catch_all.received().is_empty(), "{:?}", catch_all.received());
    // In the catalogue, and replayable like any delivery.
    let (_, catalogue) =
        app.get(&format!("/api/v1/tenants/{tenant}/webhook-deliveries?event_type=webhook.created")).await;
    let delivery = catalogue["data"][0]["id"].as_str().unwrap().to_string();
    let (status, _) =
        app.post(&format!("/api/v1/tenants/{tenant}/webhook-deliveries/{delivery}/replay"), json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, types) = call(&app, Method::GET, "/api/v1/event-types", &key, None).await;
    for t in all {
        assert!(types["data"].as_array().unwrap().iter().any(|x| x == t), "{t} not in the catalogue");
    }
});

both!(cors_answers_allowed_origins_on_the_rest_api_only, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| {
        c.cors_allowed_origins =
            Some(integrations_hub::config::Origins::List(vec![axum::http::HeaderValue::from_static(
                "http://app.example",
            )]))
    })
    .await;
    let (_, key) = tenant_with_key(&app, "Acme").await;
    let preflight = |origin: &'static str, path: &'static str| {
        app.http
            .request(Method::OPTIONS, format!("{}{path}", app.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type, idempotency-key")
            .send()
    };
    let allowed = preflight("http://app.example", "/api/v1/events").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let h = allowed.headers();
    assert_eq!(h["access-control-allow-origin"], "http://app.example");
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert!(h["access-control-allow-headers"].to_str().unwrap().contains("idempotency-key"));
    assert!(h.get("access-control-allow-credentials").is_none(), "credentials are never allowed");
    let refused = preflight("http://evil.example", "/api/v1/events").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none());
    // A real call from the allowed origin can read the rate-limit headers.
    let answer = app
        .http
        .get(format!("{}/api/v1/whoami", app.url))
        .header("origin", "http://app.example")
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["access-control-allow-origin"], "http://app.example");
    let exposed = answer.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(exposed.contains("ratelimit-policy") && exposed.contains("x-ratelimit-remaining"), "{exposed}");
    // Never on the admin UI or its server functions.
    let ui = preflight("http://app.example", "/ui-api/current_session").await.unwrap();
    assert!(ui.headers().get("access-control-allow-origin").is_none());
    let page = app.http.get(format!("{}/login", app.url)).header("origin", "http://app.example").send().await.unwrap();
    assert!(page.headers().get("access-control-allow-origin").is_none());
});

both!(the_old_admin_addresses_lead_to_the_ui, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let location = |r: &reqwest::Response| r.headers()["location"].to_str().unwrap().to_string();
    // /redoc is the Redoc reference itself, its bundle served by the hub (see redoc.spec.ts).
    let r = client.get(format!("{}/redoc", app.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(r#"<script src="/redoc/redoc.standalone.js">"#));
    for page in ["/admin", "/admin/api-keys", "/admin/webhooks", "/admin/deliveries"] {
        let r = client.get(format!("{}{page}", app.url)).send().await.unwrap();
        assert!(r.status().is_redirection(), "{page}: {}", r.status());
        assert_eq!(location(&r), "/", "{page}: not signed in, the start asks for a sign-in");
    }
    let r = client.get(format!("{}/admin/nothing", app.url)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    // A tenant admin's session goes to that page of its tenant.
    let (tenant, key) = tenant_with_key(&app, "Acme").await;
    let session = app.hub.start_session(&app.hub.authenticate(&key).await.unwrap()).await.unwrap();
    let r = client
        .get(format!("{}/admin/webhooks", app.url))
        .header("cookie", format!("{}={session}", app::api::SESSION_COOKIE))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), format!("/tenants/{tenant}/webhooks"));
});
