//! The OpenAPI document: committed copy current, and every documented operation answering a
//! happy-path call with its documented status and a body valid against its documented schema.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::*;

/// Checks `value` against a JSON Schema (the 2020-12 subset that schemars writes: `$ref`,
/// `type`, `properties`, `required`, `items`, `additionalProperties`, `anyOf`/`oneOf`/`allOf`,
/// `enum`, `const`). Returns what does not match, with its JSON path.
pub fn violations(spec: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    if schema == &Value::Bool(true) {
        return Vec::new();
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or_default();
        let target = &spec["components"]["schemas"][name];
        assert!(!target.is_null(), "dangling reference {reference}");
        return violations(spec, target, value, at);
    }
    let mut found = Vec::new();
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = |t: &&str| match *t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        };
        if !types.iter().any(fits) {
            return vec![format!("{at}: {value} is not {types:?}")];
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            found.push(format!("{at}: {value} not in {options:?}"));
        }
    }
    if let Some(constant) = schema.get("const") {
        if constant != value {
            found.push(format!("{at}: {value} is not {constant}"));
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            if !options.iter().any(|o| violations(spec, o, value, at).is_empty()) {
                found.push(format!("{at}: {value} matches none of {key}"));
            }
        }
    }
    for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        found.extend(violations(spec, part, value, at));
    }
    if let Value::Object(object) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(name) {
                found.push(format!("{at}: `{name}` is missing"));
            }
        }
        for (name, field) in object {
            match properties.and_then(|p| p.get(name)) {
                Some(sub) => found.extend(violations(spec, sub, field, &format!("{at}.{name}"))),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => found.push(format!("{at}: `{name}` is not documented")),
                    Some(sub @ Value::Object(_)) => found.extend(violations(spec, sub, field, &format!("{at}.{name}"))),
                    // Undocumented fields fail too: a document that omits a field is stale.
                    _ if properties.is_some() => found.push(format!("{at}: `{name}` is not documented")),
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            found.extend(violations(spec, item_schema, item, &format!("{at}[{i}]")));
        }
    }
    found
}

/// Calls documented operations and checks each answer against the document.
struct Tour<'a> {
    app: &'a TestApp,
    spec: Value,
    visited: BTreeSet<(String, String)>,
}

/// Where a tour's request goes: the credential, the method and the documented path, the values
/// of its `{name}`s, and a query string (`""` or `?...`).
#[derive(Clone, Copy)]
struct At<'a> {
    token: Option<&'a str>,
    method: &'a str,
    template: &'a str,
    params: &'a [(&'a str, &'a str)],
    query: &'a str,
}

fn at<'a>(
    token: Option<&'a str>,
    method: &'a str,
    template: &'a str,
    params: &'a [(&'a str, &'a str)],
    query: &'a str,
) -> At<'a> {
    At { token, method, template, params, query }
}

impl<'a> Tour<'a> {
    async fn new(app: &'a TestApp) -> Tour<'a> {
        let (status, spec) = app.get("/api-docs/openapi.json").await;
        assert_eq!(status, 200);
        Tour { app, spec, visited: BTreeSet::new() }
    }

    /// The documented operation and a request to it.
    fn request(&self, at: &At) -> (Value, reqwest::RequestBuilder) {
        let At { token, method, template, params, query } = *at;
        let operation = self.spec["paths"][template][method].clone();
        assert!(operation.is_object(), "{method} {template} is not documented");
        let mut path = template.to_string();
        for (name, value) in params {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        let method_ = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut request = self.app.http.request(method_, format!("{}{path}{query}", self.app.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        (operation, request)
    }

    /// A call that must succeed with a documented status and a body of the documented shape.
    async fn call(&mut self, at: At<'_>, body: Option<Value>) -> Value {
        let (operation, mut request) = self.request(&at);
        let At { method, template, .. } = at;
        if body.is_none() && operation["requestBody"]["required"] == true {
            panic!("{method} {template}: the test leaves out a body documented as required");
        }
        if let Some(body) = &body {
            assert!(operation.get("requestBody").is_some(), "{method} {template} takes a body it does not document");
            let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            let wrong = violations(&self.spec, schema, body, "request");
            assert!(
                wrong.is_empty(),
                "{method} {template}: the test's body does not fit the documented schema: {wrong:?}"
            );
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let responses = operation["responses"].as_object().unwrap();
        let successes: Vec<&String> = responses.keys().filter(|code| code.starts_with('2')).collect();
        let answer = responses.get(&status.to_string()).filter(|_| (200..300).contains(&status));
        let answer = answer
            .unwrap_or_else(|| panic!("{method} {template}: answered {status}, documented {successes:?}: {text}"));
        self.assert_required_headers(&at, answer, &headers);
        let mut value = Value::Null;
        if let Some((media, content)) = answer.get("content").and_then(Value::as_object).and_then(|c| c.iter().next()) {
            assert!(
                content_type.starts_with(media.as_str()),
                "{method} {template}: answered {content_type}, documented {media}"
            );
            if media == "application/json" {
                value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{method} {template}: not JSON ({e}): {text}"));
                let wrong = violations(&self.spec, &content["schema"], &value, "response");
                assert!(
                    wrong.is_empty(),
                    "{method} {template}: the answer does not fit the documented schema: {wrong:?}\n{value:#}"
                );
            }
        }
        self.visited.insert((method.to_string(), template.to_string()));
        value
    }

    /// A call the API must refuse with `expected`: the operation documents that status with a
    /// problem body, and the answer is one. `wrong` adds what makes the request wrong.
    async fn refused(
        &mut self,
        at: At<'_>,
        wrong: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        expected: u16,
    ) {
        let (operation, request) = self.request(&at);
        let At { method, template, query, .. } = at;
        let response = wrong(request).send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        assert_eq!(status, expected, "{method} {template}{query}: {text}");
        let documented = &operation["responses"][status.to_string()];
        assert!(documented.is_object(), "{method} {template} answers {status}, which it does not document: {text}");
        self.assert_required_headers(&at, documented, &headers);
        assert!(documented["content"]["application/problem+json"].is_object(), "{method} {template} {status}");
        assert_eq!(content_type, "application/problem+json", "{method} {template}");
        let problem: Value = serde_json::from_str(&text).unwrap();
        let schema = json!({ "$ref": "#/components/schemas/Problem" });
        let wrong = violations(&self.spec, &schema, &problem, "problem");
        assert!(wrong.is_empty(), "{method} {template}: {wrong:?}");
    }

    /// Every header the documented response marks required (in place or through a reference)
    /// is on the answer: the rate-limit headers of an authenticated route, say.
    fn assert_required_headers(&self, at: &At, documented: &Value, headers: &reqwest::header::HeaderMap) {
        let Some(named) = documented["headers"].as_object() else { return };
        for (name, header) in named {
            let header = match header["$ref"].as_str() {
                Some(reference) => {
                    self.spec.pointer(reference.trim_start_matches('#')).expect("the reference resolves")
                }
                None => header,
            };
            if header["required"] == true {
                assert!(headers.contains_key(name.as_str()), "{} {}: no {name} header", at.method, at.template);
            }
        }
    }

    fn assert_all_visited(&self) {
        let documented: BTreeSet<(String, String)> = self.spec["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| (m.clone(), path.clone())))
            .collect();
        let missed: Vec<_> = documented.difference(&self.visited).collect();
        assert!(missed.is_empty(), "documented but not exercised: {missed:?}");
    }
}

fn text(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap_or_else(|| panic!("no `{field}` in {v}")).to_string()
}

both!(every_documented_operation_answers_in_its_documented_shape, |backend| async move {
    let slack = FakeSlack::start(&["xoxb-tour"], &["#tour"]).await;
    let api_base = slack.api_base.clone();
    let app = TestApp::spawn_with(backend, |c| c.slack_api_base = api_base).await;
    let receiver = Receiver::start().await;
    let op = Some(OPERATOR);
    let mut tour = Tour::new(&app).await;

    // System.
    tour.call(at(None, "get", "/health", &[], ""), None).await;
    tour.call(at(None, "get", "/ready", &[], ""), None).await;
    tour.call(at(None, "get", "/metrics", &[], ""), None).await;
    tour.call(at(None, "get", "/api-docs/openapi.json", &[], ""), None).await;
    tour.call(at(None, "get", "/docs", &[], ""), None).await;
    tour.call(at(None, "get", "/redoc", &[], ""), None).await;
    tour.call(at(op, "get", "/api/v1/whoami", &[], ""), None).await;

    // Tenants.
    let tenant = tour.call(at(op, "post", "/api/v1/tenants", &[], ""), Some(json!({ "name": "Tour" }))).await;
    let tid = text(&tenant, "id");
    let t = [("tenant_id", tid.as_str())];
    tour.call(at(op, "get", "/api/v1/tenants", &[], "?limit=10"), None).await;
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}", &t, ""), None).await;
    tour.call(at(op, "patch", "/api/v1/tenants/{tenant_id}", &t, ""), Some(json!({ "name": "Tour, renamed" }))).await;

    // API keys.
    let created = tour
        .call(
            at(op, "post", "/api/v1/tenants/{tenant_id}/api-keys", &t, ""),
            Some(json!({ "name": "tour", "role": "admin" })),
        )
        .await;
    let key_id = text(&created, "id");
    let key = text(&created, "key");
    let k = [("tenant_id", tid.as_str()), ("id", key_id.as_str())];
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/api-keys", &t, ""), None).await;
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/api-keys/{id}", &k, ""), None).await;
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/api-keys/{id}/usage", &k, ""), None).await;
    // Event types.
    let types = "/api/v1/tenants/{tenant_id}/event-types";
    let paid = json!({
        "name": "order.paid", "description": "An order was paid", "validate": true, "example": { "amount": 12.5 },
        "schema": { "type": "object", "properties": { "amount": { "type": "number" } } }
    });
    tour.call(at(op, "post", types, &t, ""), Some(paid)).await;
    tour.call(at(op, "get", types, &t, "?archived=true"), None).await;
    let named = [("tenant_id", tid.as_str()), ("name", "order.paid")];
    let one_type = "/api/v1/tenants/{tenant_id}/event-types/{name}";
    tour.call(at(op, "get", one_type, &named, ""), None).await;
    tour.call(at(op, "patch", one_type, &named, ""), Some(json!({ "description": null }))).await;
    tour.call(at(op, "delete", one_type, &named, ""), None).await;
    let key_rotation = "/api/v1/tenants/{tenant_id}/api-keys/{id}/rotation-schedule";
    tour.call(at(op, "put", key_rotation, &k, ""), Some(json!({ "every_days": 90 }))).await;
    tour.call(at(op, "delete", key_rotation, &k, ""), None).await;
    tour.call(
        at(op, "patch", "/api/v1/tenants/{tenant_id}/api-keys/{id}", &k, ""),
        Some(json!({ "name": "tour, changed", "rate_limit_per_minute": 600, "expires_at": null })),
    )
    .await;
    let rotated = tour
        .call(
            at(op, "post", "/api/v1/tenants/{tenant_id}/api-keys/{id}/rotate", &k, ""),
            Some(json!({ "grace_period_seconds": 60 })),
        )
        .await;
    let spare = text(&rotated, "id");
    let s = [("tenant_id", tid.as_str()), ("id", spare.as_str())];
    tour.call(at(op, "post", "/api/v1/tenants/{tenant_id}/api-keys/{id}/revoke", &s, ""), None).await;
    tour.call(at(op, "delete", "/api/v1/tenants/{tenant_id}/api-keys/{id}", &s, ""), None).await;

    // Webhooks.
    let webhook = tour
        .call(
            at(op, "post", "/api/v1/tenants/{tenant_id}/webhooks", &t, ""),
            Some(json!({ "url": receiver.url, "events": ["*"], "headers": { "x-team": "tour" } })),
        )
        .await;
    let wid = text(&webhook, "id");
    let w = [("tenant_id", tid.as_str()), ("id", wid.as_str())];
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/webhooks", &t, ""), None).await;
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/webhooks/{id}", &w, ""), None).await;
    tour.call(
        at(op, "patch", "/api/v1/tenants/{tenant_id}/webhooks/{id}", &w, ""),
        Some(json!({ "description": "the tour" })),
    )
    .await;
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/webhooks/{id}/secret", &w, ""), None).await;
    tour.call(
        at(op, "post", "/api/v1/tenants/{tenant_id}/webhooks/{id}/rotate-secret", &w, ""),
        Some(json!({ "grace_period_seconds": 60 })),
    )
    .await;
    tour.call(
        at(op, "post", "/api/v1/tenants/{tenant_id}/webhooks/{id}/test", &w, ""),
        Some(json!({ "event_type": "new_lead" })),
    )
    .await;
    let window =
        json!({ "windows": [{ "start": "2026-12-24T22:00:00Z", "end": "2026-12-25T02:00:00Z", "weekly": true }] });
    tour.call(at(op, "put", "/api/v1/tenants/{tenant_id}/webhooks/{id}/maintenance", &w, ""), Some(window)).await;
    tour.call(
        at(op, "put", "/api/v1/tenants/{tenant_id}/webhooks/{id}/maintenance", &w, ""),
        Some(json!({ "windows": [] })),
    )
    .await;
    tour.call(at(op, "post", "/api/v1/tenants/{tenant_id}/webhooks/{id}/pause", &w, ""), Some(json!({}))).await;
    let schedule = json!({ "every_days": 30, "grace_period_seconds": 3600 });
    let rotation = "/api/v1/tenants/{tenant_id}/webhooks/{id}/rotation-schedule";
    tour.call(at(op, "put", rotation, &w, ""), Some(schedule.clone())).await;
    tour.call(at(op, "delete", rotation, &w, ""), None).await;
    tour.call(at(op, "post", "/api/v1/tenants/{tenant_id}/webhooks/{id}/resume", &w, ""), None).await;
    tour.call(
        at(Some(&key), "post", "/api/v1/subscriptions", &[], ""),
        Some(json!({ "url": receiver.url, "events": ["new_lead"], "secret": "a-secret-of-16-chars-or-more" })),
    )
    .await;

    // Events and deliveries.
    let accepted = tour
        .call(
            at(op, "post", "/api/v1/tenants/{tenant_id}/events", &t, ""),
            Some(json!({ "event_type": "new_lead", "payload": { "name": "Ada" } })),
        )
        .await;
    let eid = text(&accepted, "id");
    tour.call(
        at(Some(&key), "post", "/api/v1/events", &[], ""),
        Some(json!({ "event_type": "lead_update", "payload": {} })),
    )
    .await;
    app.drain().await;
    let e = [("tenant_id", tid.as_str()), ("id", eid.as_str())];
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/events/{id}", &e, ""), None).await;
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/events/{id}/attempts", &e, ""), None).await;
    tour.call(at(Some(&key), "get", "/api/v1/admin/events/{id}/attempts", &[("id", eid.as_str())], ""), None).await;
    tour.call(at(op, "get", "/api/v1/event-types", &[], ""), None).await;
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/webhooks/{id}/deliveries", &w, ""), None).await;
    let log = tour
        .call(
            at(
                op,
                "get",
                "/api/v1/tenants/{tenant_id}/webhook-deliveries",
                &t,
                &format!("?webhook_id={wid}&status=delivered"),
            ),
            None,
        )
        .await;
    let did = text(&log["data"][0], "id");
    let d = [("tenant_id", tid.as_str()), ("id", did.as_str())];
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/webhook-deliveries/{id}", &d, ""), None).await;
    tour.call(at(op, "post", "/api/v1/tenants/{tenant_id}/webhook-deliveries/{id}/replay", &d, ""), None).await;
    tour.call(
        at(op, "post", "/api/v1/tenants/{tenant_id}/webhook-deliveries/replay", &t, ""),
        Some(json!({ "status": "delivered", "webhook_id": wid })),
    )
    .await;

    // A dead letter (the receiver refuses the next delivery), replayed on both routes.
    receiver.reply(400, &[]);
    app.publish(&tid, "request_approved", json!({})).await;
    app.drain().await;
    let dead = tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/dead-letters", &t, ""), None).await;
    let doomed_delivery = text(&dead["data"][0], "id");
    let dl = [("tenant_id", tid.as_str()), ("id", doomed_delivery.as_str())];
    tour.call(at(op, "post", "/api/v1/tenants/{tenant_id}/dead-letters/{id}/replay", &dl, ""), None).await;
    tour.call(
        at(Some(&key), "post", "/api/v1/admin/dead-letters/{id}/replay", &[("id", doomed_delivery.as_str())], ""),
        None,
    )
    .await;

    // Retry now: a delivery waiting for its retry is sent at once; a delivered one is refused.
    // The tests' backoff is 10 ms, so a failed delivery of the tour's endpoint may be retried
    // and delivered within the same drain: the one retried here is an endpoint's that waits an
    // hour. The replays above are sent first, so the two 503s go to this event's two deliveries.
    app.drain().await;
    let patient = app
        .create_webhook(
            &tid,
            json!({ "url": receiver.url, "events": ["request_approved"], "backoff_base_seconds": 3600 }),
        )
        .await;
    receiver.reply(503, &[]);
    receiver.reply(503, &[]);
    app.publish(&tid, "request_approved", json!({})).await;
    app.drain().await;
    let pid = text(&patient, "id");
    let (_, failed) =
        app.get(&format!("/api/v1/tenants/{tid}/webhook-deliveries?status=failed&webhook_id={pid}")).await;
    let waiting = text(&failed["data"][0], "id");
    let r = [("tenant_id", tid.as_str()), ("id", waiting.as_str())];
    tour.call(at(op, "post", "/api/v1/tenants/{tenant_id}/webhook-deliveries/{id}/retry", &r, ""), None).await;
    tour.refused(at(op, "post", "/api/v1/tenants/{tenant_id}/webhook-deliveries/{id}/retry", &d, ""), |r| r, 409).await;
    app.drain().await;

    // Echo inspector, stats, audit.
    tour.call(
        at(None, "post", "/echo/{tenant_id}/{name}", &[("tenant_id", tid.as_str()), ("name", "tour")], ""),
        Some(json!({ "hello": "echo" })),
    )
    .await;
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/echo", &t, ""), None).await;
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/stats", &t, "?window=7d"), None).await;
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/audit-log", &t, "?order=desc&action=webhook"), None).await;

    // The Slack connector: created (201), changed (200), a test message, removed.
    tour.call(
        at(op, "put", "/api/v1/tenants/{tenant_id}/connectors/slack", &t, ""),
        Some(json!({ "bot_token": "xoxb-tour", "channel": "#tour" })),
    )
    .await;
    tour.call(
        at(op, "put", "/api/v1/tenants/{tenant_id}/connectors/slack", &t, ""),
        Some(json!({ "events": ["request_submitted", "webhook.failing"] })),
    )
    .await;
    tour.call(at(op, "get", "/api/v1/tenants/{tenant_id}/connectors/slack", &t, ""), None).await;
    let sent =
        tour.call(at(op, "post", "/api/v1/tenants/{tenant_id}/connectors/slack/test", &t, ""), Some(json!({}))).await;
    assert_eq!(sent["status"], "delivered", "{sent}");
    assert_eq!(slack.posts().len(), 1);
    tour.call(at(op, "delete", "/api/v1/tenants/{tenant_id}/connectors/slack", &t, ""), None).await;

    // The same operations at the integrator paths, whose tenant is the key's; and the new ones.
    let kk = Some(key.as_str());
    let put = json!({ "url": receiver.url, "events": ["new_lead"], "name": "tour, replaced" });
    tour.call(at(op, "put", "/api/v1/tenants/{tenant_id}/webhooks/{id}", &w, ""), Some(put.clone())).await;
    let lead = json!({ "id": "lead_1", "name": "Ada", "email": "ada@example.com" });
    let update = json!({ "id": "lead_1", "name": "Ada", "email": "ada@example.com", "changes": { "stage": "won" } });
    tour.call(at(op, "post", "/api/v1/tenants/{tenant_id}/events/leads", &t, ""), Some(lead.clone())).await;
    tour.call(at(op, "post", "/api/v1/tenants/{tenant_id}/events/leads/updates", &t, ""), Some(update.clone())).await;
    tour.call(at(kk, "post", "/api/v1/events/leads", &[], ""), Some(lead)).await;
    tour.call(at(kk, "post", "/api/v1/events/leads/updates", &[], ""), Some(update)).await;
    tour.call(at(kk, "get", "/api/v1/webhooks/deliveries", &[], "?status=pending"), None).await;
    for base in ["/api/v1/keys", "/api/v1/api-keys", "/api/v1/integration/api-keys"] {
        let made = tour.call(at(kk, "post", base, &[], ""), Some(json!({ "name": base, "role": "read_only" }))).await;
        let id = text(&made, "id");
        let one = format!("{base}/{{id}}");
        tour.call(at(kk, "get", base, &[], ""), None).await;
        tour.call(at(kk, "get", &one, &[("id", id.as_str())], ""), None).await;
        if base != "/api/v1/integration/api-keys" {
            let change = json!({ "scopes": ["webhooks:read"], "allowed_ips": ["127.0.0.1", "::1"] });
            tour.call(at(kk, "patch", &one, &[("id", id.as_str())], ""), Some(change)).await;
        }
        match base {
            "/api/v1/integration/api-keys" => {
                tour.call(at(kk, "post", &format!("{one}/revoke"), &[("id", id.as_str())], ""), None).await
            }
            _ => tour.call(at(kk, "delete", &one, &[("id", id.as_str())], ""), None).await,
        };
    }
    for base in ["/api/v1/webhooks", "/api/v1/integration/webhooks", "/api/v1/subscriptions"] {
        let made = tour
            .call(at(kk, "post", base, &[], ""), Some(json!({ "url": "https://example.com/a", "events": ["*"] })))
            .await;
        if base == "/api/v1/subscriptions" {
            continue;
        }
        let id = text(&made, "id");
        let one = format!("{base}/{{id}}");
        let i = [("id", id.as_str())];
        tour.call(at(kk, "get", base, &[], ""), None).await;
        tour.call(at(kk, "get", &one, &i, ""), None).await;
        tour.call(at(kk, "put", &one, &i, ""), Some(put.clone())).await;
        if base == "/api/v1/webhooks" {
            tour.call(at(kk, "patch", &one, &i, ""), Some(json!({ "name": "patched" }))).await;
            let until = json!({ "until": "2099-01-01T00:00:00Z" });
            tour.call(at(kk, "post", &format!("{one}/pause"), &i, ""), Some(until)).await;
            tour.call(at(kk, "post", &format!("{one}/resume"), &i, ""), None).await;
            tour.call(at(kk, "put", &format!("{one}/maintenance"), &i, ""), Some(json!({ "windows": [] }))).await;
        }
        tour.call(at(kk, "delete", &one, &i, ""), None).await;
    }

    // Last, since it hides the endpoint the deliveries above used.
    tour.call(at(op, "delete", "/api/v1/tenants/{tenant_id}/webhooks/{id}", &w, ""), None).await;
    tour.assert_all_visited();
});

both!(every_refusal_the_api_gives_is_documented, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let op = Some(OPERATOR);
    let mut tour = Tour::new(&app).await;
    let tid = app.create_tenant("Refusals").await;
    let t = [("tenant_id", tid.as_str())];
    let (_, reader) =
        app.post(&format!("/api/v1/tenants/{tid}/api-keys"), json!({ "name": "reader", "role": "read_only" })).await;
    let reader = text(&reader, "key");
    let (_, spare) =
        app.post(&format!("/api/v1/tenants/{tid}/api-keys"), json!({ "name": "spare", "role": "admin" })).await;
    let spare = text(&spare, "id");
    let webhook = app.create_webhook(&tid, json!({ "url": "https://example.com/hook", "events": ["*"] })).await;
    let w = [("tenant_id", tid.as_str()), ("id", webhook["id"].as_str().unwrap())];
    let keep = |r: reqwest::RequestBuilder| r;

    // The bodies documented as optional may be left out (the rotation ends the spare key at once).
    let k = [("tenant_id", tid.as_str()), ("id", spare.as_str())];
    tour.call(at(op, "post", "/api/v1/tenants/{tenant_id}/api-keys/{id}/rotate", &k, ""), None).await;
    tour.call(at(op, "post", "/api/v1/tenants/{tenant_id}/webhooks/{id}/rotate-secret", &w, ""), None).await;
    tour.call(at(op, "post", "/api/v1/tenants/{tenant_id}/webhook-deliveries/replay", &t, ""), None).await;

    // What the request itself gets wrong.
    let tenants = "/api/v1/tenants";
    let text_body = |r: reqwest::RequestBuilder| r.header("content-type", "text/plain").body("name=x");
    tour.refused(at(op, "post", tenants, &[], ""), text_body, 415).await;
    // An optional body, when given, is JSON like any other.
    let secret = "/api/v1/tenants/{tenant_id}/webhooks/{id}/rotate-secret";
    let text_grace =
        |r: reqwest::RequestBuilder| r.header("content-type", "text/plain").body(r#"{"grace_period_seconds": 5}"#);
    tour.refused(at(op, "post", secret, &w, ""), text_grace, 415).await;
    let wrong_grace = |r: reqwest::RequestBuilder| r.json(&json!({ "grace_period_seconds": "soon" }));
    tour.refused(at(op, "post", secret, &w, ""), wrong_grace, 422).await;
    let bad_json = |r: reqwest::RequestBuilder| r.header("content-type", "application/json").body("{nope");
    tour.refused(at(op, "post", tenants, &[], ""), bad_json, 400).await;
    tour.refused(at(op, "post", tenants, &[], ""), |r| r.json(&json!({ "name": "" })), 422).await;
    tour.refused(at(op, "get", tenants, &[], "?limit=ten"), keep, 422).await;
    tour.refused(at(op, "get", "/api/v1/tenants/{tenant_id}/stats", &t, "?window=1y"), keep, 422).await;
    let deliveries = "/api/v1/tenants/{tenant_id}/webhook-deliveries";
    tour.refused(at(op, "get", deliveries, &t, "?since=yesterday"), keep, 422).await;
    let revoke = "/api/v1/tenants/{tenant_id}/api-keys/{id}/revoke";
    tour.refused(at(op, "post", revoke, &k, ""), |r| r.header("idempotency-key", ""), 422).await;
    let once = |name: &'static str| {
        move |r: reqwest::RequestBuilder| r.header("idempotency-key", "once").json(&json!({ "name": name }))
    };
    app.http
        .post(format!("{}{tenants}", app.url))
        .bearer_auth(OPERATOR)
        .header("idempotency-key", "once")
        .json(&json!({ "name": "A" }))
        .send()
        .await
        .unwrap();
    tour.refused(at(op, "post", tenants, &[], ""), once("B"), 409).await;

    // Who asks, and for what.
    tour.refused(at(None, "get", tenants, &[], ""), keep, 401).await;
    tour.refused(at(Some(&reader), "get", "/api/v1/tenants/{tenant_id}/api-keys", &t, ""), keep, 403).await;
    let other = [("tenant_id", "tnt_01ARZ3NDEKTSV4RRFFQ69G5FAV")];
    tour.refused(at(op, "get", "/api/v1/tenants/{tenant_id}", &other, ""), keep, 404).await;
    let event = |r: reqwest::RequestBuilder| r.json(&json!({ "event_type": "new_lead", "payload": {} }));
    tour.refused(at(op, "post", "/api/v1/events", &[], ""), event, 400).await;
    let attempts = "/api/v1/admin/events/{id}/attempts";
    tour.refused(at(op, "get", attempts, &[("id", "evt_01ARZ3NDEKTSV4RRFFQ69G5FAV")], ""), keep, 400).await;
    // Over a key's rate limit: a 429 with its rate-limit headers and Retry-After.
    let (_, limited) = app
        .post(
            &format!("/api/v1/tenants/{tid}/api-keys"),
            json!({ "name": "limited", "role": "read_only", "rate_limit_per_minute": 1 }),
        )
        .await;
    let limited = text(&limited, "key");
    clear_of_a_minute_boundary().await;
    tour.call(at(Some(&limited), "get", "/api/v1/whoami", &[], ""), None).await;
    tour.refused(at(Some(&limited), "get", "/api/v1/whoami", &[], ""), keep, 429).await;
    // Rotating a key that is no longer active: the spare, rotated above without a grace period.
    let rotate = "/api/v1/tenants/{tenant_id}/api-keys/{id}/rotate";
    tour.refused(at(op, "post", rotate, &k, ""), keep, 409).await;
    // Changing it, likewise; and a change that is wrong.
    let change = "/api/v1/tenants/{tenant_id}/api-keys/{id}";
    tour.refused(at(op, "patch", change, &k, ""), |r| r.json(&json!({ "name": "again" })), 409).await;
    tour.refused(at(op, "patch", change, &k, ""), |r| r.json(&json!({ "rate_limit_per_minute": 0 })), 422).await;
});

both!(the_bounds_the_schemas_document_are_the_ones_enforced, |backend| async move {
    let app = TestApp::spawn(backend).await;
    let (_, spec) = app.get("/api-docs/openapi.json").await;
    let tid = app.create_tenant("Bounds").await;
    let webhooks = format!("/api/v1/tenants/{tid}/webhooks");
    let webhook = app.create_webhook(&tid, json!({ "url": "https://example.com/b", "events": ["*"] })).await;
    let one = format!("{webhooks}/{}", webhook["id"].as_str().unwrap());
    let rotate = format!("{one}/rotate-secret");
    let keys = format!("/api/v1/tenants/{tid}/api-keys");
    let endpoint = json!({ "url": "https://example.com/b", "events": ["*"] });
    let key = json!({ "name": "k", "role": "read_only", "allowed_ips": ["10.0.0.1"] });
    let (_, changed) = app.post(&keys, json!({ "name": "changed", "role": "read_only" })).await;
    let changed = format!("{keys}/{}", changed["id"].as_str().unwrap());
    let mut cases = vec![
        ("TenantIn", Method::POST, "/api/v1/tenants".to_string(), json!({ "name": "t" }), "name"),
        ("ApiKeyIn", Method::POST, keys.clone(), key.clone(), "name"),
        ("ApiKeyIn", Method::POST, keys.clone(), key.clone(), "rate_limit_per_minute"),
        ("ApiKeyIn", Method::POST, keys.clone(), key, "allowed_ips"),
        ("ApiKeyIn", Method::POST, keys, json!({ "name": "k", "scopes": ["keys:read"] }), "scopes"),
        ("WebhookIn", Method::POST, webhooks.clone(), endpoint.clone(), "secret"),
        ("RotateSecretIn", Method::POST, rotate, json!({}), "grace_period_seconds"),
    ];
    // A key's settings carry their bounds twice too (`ApiKeyIn` above, `ApiKeyPatch`): both are checked.
    for field in ["name", "rate_limit_per_minute", "allowed_ips"] {
        let valid = json!({ "allowed_ips": ["10.0.0.1"] });
        cases.push(("ApiKeyPatch", Method::PATCH, changed.clone(), valid, field));
    }
    cases.push(("ApiKeyPatch", Method::PATCH, changed, json!({ "scopes": ["keys:read"] }), "scopes"));
    // The settings an endpoint is created with and patched with carry their bounds twice (one
    // model each): both are checked.
    for field in ["description", "max_attempts", "backoff_base_seconds", "timeout_seconds", "events"] {
        cases.push(("WebhookIn", Method::POST, webhooks.clone(), endpoint.clone(), field));
        cases.push(("WebhookPatch", Method::PATCH, one.clone(), json!({ "events": ["*"] }), field));
    }
    for (model, method, path, valid, field) in cases {
        let schema = &spec["components"]["schemas"][model]["properties"][field];
        let mut bounds = 0;
        let bounds_of = [("minimum", -1), ("maximum", 1), ("minLength", -1), ("maxLength", 1), ("maxItems", 1)];
        for (keyword, outside) in bounds_of {
            let Some(bound) = schema[keyword].as_i64() else { continue };
            let with = |n: i64| {
                let mut body = valid.clone();
                body[field] = match keyword {
                    "minLength" | "maxLength" => json!("s".repeat(n as usize)),
                    // A list of n copies of the valid body's own first entry.
                    "maxItems" => json!(vec![valid[field][0].clone(); n as usize]),
                    _ => json!(n),
                };
                body
            };
            let send = |body| app.request(method.clone(), &path, Some(OPERATOR), Some(body));
            let (status, _, body) = send(with(bound)).await;
            assert!(status.is_success(), "{model}.{field} at its {keyword} {bound}: {status} {body}");
            let (status, _, body) = send(with(bound + outside)).await;
            assert_eq!(
                (status.as_u16(), body["errors"][0]["field"].as_str()),
                (422, Some(field)),
                "{model}.{field} past its {keyword} {bound}: {body}"
            );
            bounds += 1;
        }
        assert!(bounds > 0, "{model}.{field} documents no bound: {schema}");
    }
});

#[tokio::test]
async fn the_committed_openapi_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let current = serde_json::to_string_pretty(&integrations_hub::http::openapi_document()).unwrap() + "\n";
    if std::env::var("IH_UPDATE_OPENAPI").is_ok() {
        std::fs::write(&path, &current).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == current, "docs/openapi.json is stale: run `IH_UPDATE_OPENAPI=1 cargo test -p integrations-hub --test api the_committed_openapi_document_is_current` and commit it");
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let spec = json!({ "components": { "schemas": { "Thing": {
        "type": "object", "required": ["id"],
        "properties": { "id": { "type": "string" }, "n": { "type": ["integer", "null"] }, "tags": { "type": "array", "items": { "enum": ["a", "b"] } } }
    } } } });
    let thing = json!({ "$ref": "#/components/schemas/Thing" });
    assert!(violations(&spec, &thing, &json!({ "id": "x", "n": null, "tags": ["a"] }), "$").is_empty());
    assert_eq!(violations(&spec, &thing, &json!({ "n": 1 }), "$"), vec!["$: `id` is missing"]);
    assert_eq!(violations(&spec, &thing, &json!({ "id": 1 }), "$"), vec!["$.id: 1 is not [\"string\"]"]);
    assert_eq!(violations(&spec, &thing, &json!({ "id": "x", "tags": ["c"] }), "$").len(), 1);
    assert_eq!(
        violations(&spec, &thing, &json!({ "id": "x", "extra": true }), "$"),
        vec!["$: `extra` is not documented"]
    );
}

// The scope each operation documents is the one it enforces: called by a key that has every
// scope but that one, each answers 403. (The declaration in the route table is the single
// place both the router and the document are built from; this holds the handler to it.)
both!(every_operation_refuses_a_key_without_its_documented_scope, |backend: Backend| async move {
    use integrations_hub::domain::auth::Scope;
    use integrations_hub::http::operations;
    use integrations_hub::http::route::Auth;
    const ALL: [Scope; 8] = [
        Scope::KeysRead,
        Scope::KeysWrite,
        Scope::WebhooksRead,
        Scope::WebhooksWrite,
        Scope::EventsPublish,
        Scope::DeliveriesRead,
        Scope::DeliveriesReplay,
        Scope::AuditRead,
    ];
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    // Real ids where a path names one, so a refusal is about the scope, not a missing row.
    let hook = app.create_webhook(&tenant, json!({ "url": "https://example.com/in", "events": ["*"] })).await;
    let event = app.publish(&tenant, "new_lead", json!({})).await;
    let delivery = event["deliveries"][0].as_str().unwrap().to_string();
    let (_, key) =
        app.post(&format!("/api/v1/tenants/{tenant}/api-keys"), json!({ "name": "probe", "role": "read_only" })).await;
    let ids = [
        ("{tenant_id}", tenant.clone()),
        ("{event_id}", event["id"].as_str().unwrap().to_string()),
        ("{name}", "probe".to_string()),
    ];
    let mut keys = std::collections::HashMap::new();
    let mut checked = 0;
    for op in operations() {
        let Auth::Scope(scope) = op.auth else { continue };
        let token = match keys.get(&scope) {
            Some(token) => token,
            None => {
                let others: Vec<&str> = ALL.iter().filter(|s| **s != scope).map(|s| s.name()).collect();
                let (status, created) = app
                    .post(
                        &format!("/api/v1/tenants/{tenant}/api-keys"),
                        json!({ "name": "all-but-one", "scopes": others }),
                    )
                    .await;
                assert_eq!(status, reqwest::StatusCode::CREATED, "{created}");
                keys.entry(scope).or_insert(created["key"].as_str().unwrap().to_string())
            }
        };
        let mut path = op.path.to_string();
        for (placeholder, value) in &ids {
            path = path.replace(placeholder, value);
        }
        let id = match () {
            _ if path.contains("/webhooks/{id}") => hook["id"].as_str().unwrap().to_string(),
            _ if path.contains("/api-keys/{id}") || path.contains("/keys/{id}") => {
                key["id"].as_str().unwrap().to_string()
            }
            _ if path.contains("/events/{id}") => event["id"].as_str().unwrap().to_string(),
            _ => delivery.clone(),
        };
        path = path.replace("{id}", &id).replace("{name}", "scope.check");
        let method = Method::from_bytes(op.method.to_uppercase().as_bytes()).unwrap();
        // A body the operation can read, so that its scope, not its input, decides.
        let body = match (op.method, op.path) {
            (_, p) if p.ends_with("/maintenance") => Some(json!({ "windows": [] })),
            ("put", p) if p.ends_with("/rotation-schedule") => Some(json!({ "every_days": 30 })),
            (m, p)
                if p.ends_with("/webhooks")
                    || p == "/api/v1/subscriptions"
                    || (m == "put" && p.contains("/webhooks/")) =>
            {
                Some(json!({ "url": "https://example.com/x", "events": ["*"] }))
            }
            (_, p) if p.ends_with("/events") => Some(json!({ "event_type": "new_lead", "payload": {} })),
            (_, p) if p.ends_with("/api-keys") || p.ends_with("/keys") || p.ends_with("/event-types") => {
                Some(json!({ "name": "x" }))
            }
            (_, p) if p.ends_with("/leads") => Some(json!({ "id": 7, "name": "Ada", "email": "ada@example.com" })),
            (_, p) if p.ends_with("/leads/updates") => {
                Some(json!({ "id": 7, "name": "Ada", "email": "ada@example.com", "changes": { "stage": "won" } }))
            }
            _ if op.body.is_some() => Some(json!({})),
            _ => None,
        };
        let (status, _, answer) = app.request(method, &path, Some(token), body).await;
        assert_eq!(
            status,
            reqwest::StatusCode::FORBIDDEN,
            "{} {} documents {} but answered a key without it: {answer}",
            op.method,
            op.path,
            scope.name()
        );
        checked += 1;
    }
    assert!(checked > 30, "only {checked} scoped operations");
});
