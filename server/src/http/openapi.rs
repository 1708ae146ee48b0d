//! The OpenAPI 3.1 document (`/api-docs/openapi.json`) and the reference page (`/docs`).
//!
//! Built from the route table (`http::route`), the same list the router is built from, with
//! request and response schemas taken from the same typed models the handlers use (JSON Schema
//! 2020-12 by `schemars`). So a changed model changes the document, and the integration tests
//! check that `docs/openapi.json` is current and that every documented operation answers in
//! its documented shape.

use axum::response::{Html, IntoResponse};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::Schema;
use serde_json::{json, Map, Value};

use super::route::{Auth, BodyUse, Op, Route};
use super::AppState;

fn problem(description: &str) -> Value {
    json!({ "description": description, "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } })
}

/// The rate-limit headers on an authenticated route's answers, as references into
/// `components.headers`: every answer of an admitted request carries the five (a 401, and the
/// 403 for an address outside the key's allow-list, are given before a key is admitted, so not
/// those). `Retry-After` is described in place: required on a 429, and on a 409 only when the
/// first request with its `Idempotency-Key` is still being answered.
fn describe_rate_limit_headers(responses: &mut Map<String, Value>) {
    for (status, response) in responses.iter_mut() {
        if status == "401" || status == "403" {
            continue;
        }
        let mut headers: Map<String, Value> = RATE_LIMIT_HEADERS
            .iter()
            .map(|(name, _)| (name.to_string(), json!({ "$ref": format!("#/components/headers/{name}") })))
            .collect();
        if status == "429" || status == "409" {
            let description = if status == "429" {
                "seconds until the window resets and the key may call again"
            } else {
                "when the first request with this `Idempotency-Key` is still being answered: seconds to wait"
            };
            let retry_after =
                json!({ "description": description, "required": status == "429", "schema": { "type": "integer" } });
            headers.insert("Retry-After".into(), retry_after);
        }
        response["headers"] = Value::Object(headers);
    }
}

/// The rate-limit headers and what each says (API_KEYS.md has examples).
const RATE_LIMIT_HEADERS: [(&str, &str); 5] = [
    ("RateLimit-Policy", "the key's limit, IETF draft form: `\"per-minute\";q=<limit>;w=60`"),
    ("RateLimit", "what is left of the current window: `\"per-minute\";r=<remaining>;t=<seconds to reset>`"),
    ("X-RateLimit-Limit", "requests allowed per minute"),
    ("X-RateLimit-Remaining", "requests left in the current one-minute window"),
    ("X-RateLimit-Reset", "seconds until the window resets"),
];

fn header_components() -> Value {
    RATE_LIMIT_HEADERS
        .iter()
        .map(|(name, description)| {
            let schema =
                if name.starts_with("X-") { json!({ "type": "integer" }) } else { json!({ "type": "string" }) };
            (name.to_string(), json!({ "description": description, "required": true, "schema": schema }))
        })
        .collect::<Map<String, Value>>()
        .into()
}

/// The tag of the aliases: one group of the reference lists every route whose tenant is the key's.
const ALIAS_TAG: &str = "Integrator routes (tenant from the key)";

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect()
}

fn operation(op: &Op, generator: &mut SchemaGenerator) -> Value {
    let mut parameters = path_parameters(op.path);
    parameters.extend(op.query.iter().map(|(name, description, schema)| json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })));
    let success = match op.response {
        Some(make) => {
            json!({ "description": "success", "content": { op.content_type: { "schema": make(generator) } } })
        }
        None if op.content_type != "application/json" => {
            json!({ "description": "success", "content": { op.content_type: { "schema": { "type": "string" } } } })
        }
        None => json!({ "description": "success, no body" }),
    };
    let mut responses = Map::new();
    if let Some(also) = op.also {
        responses.insert(also.to_string(), success.clone());
    }
    responses.insert(op.status.to_string(), success);
    let mut refusals: Vec<(u16, &str)> = Vec::new();
    let json_body = op.body.is_some_and(|(_, reading)| reading != BodyUse::Raw);
    if op.body.is_some() {
        refusals.push((413, "a body over the size limit"));
    }
    if json_body {
        refusals.extend([(400, "malformed JSON"), (415, "a body not sent as `Content-Type: application/json`")]);
    }
    if json_body || !op.query.is_empty() {
        refusals.push((422, "a field or query parameter is invalid; `errors` names it"));
    }
    if !matches!(op.auth, Auth::Public) {
        refusals.extend([
            (401, "no key, or an invalid, expired or revoked one"),
            (403, "the key lacks the scope, or its IP is not allowed"),
            (429, "over the key's rate limit; see `Retry-After`"),
        ]);
        if op.method == "post" {
            refusals.extend([
                (
                    409,
                    "an `Idempotency-Key` used before for a different request, or whose first request is still being answered (then with `Retry-After`)",
                ),
                (422, "an `Idempotency-Key` that is empty, over 255 characters or not visible ASCII"),
            ]);
        }
    }
    if op.path.contains('{') {
        refusals.extend([
            (400, "a path segment that is not UTF-8 once percent-decoded"),
            (404, "not found, or another tenant's"),
        ]);
    }
    if op.alias_of.is_some() && !op.path.contains("{tenant_id}") {
        refusals.push((400, super::OWN_TENANT));
    }
    refusals.extend(op.refusals.iter().copied());
    let mut descriptions: std::collections::BTreeMap<u16, Vec<&str>> = Default::default();
    for (status, description) in refusals {
        descriptions.entry(status).or_default().push(description);
    }
    for (status, description) in descriptions {
        responses.insert(status.to_string(), problem(&description.join("; or ")));
    }
    if !matches!(op.auth, Auth::Public) {
        describe_rate_limit_headers(&mut responses);
    }
    let mut out = json!({
        "operationId": format!("{}_{}", op.method, op.path.trim_start_matches('/').replace(['/', '-', '{', '}', '.'], "_")),
        "tags": [op.tag],
        "summary": op.summary,
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(main) = op.alias_of {
        out["tags"] = json!([ALIAS_TAG]);
        out["description"] = json!(format!(
            "The same operation as `{} {main}`, at the path integrators of an earlier system use; the tenant is the calling key's.",
            op.method.to_uppercase()
        ));
    }
    match op.auth {
        Auth::Public => out["security"] = json!([]),
        Auth::Operator => out["x-scope"] = json!("operator"),
        Auth::Scope(scope) => out["x-scope"] = json!(scope.name()),
        Auth::AnyKey => {}
    }
    if let Some((make, reading)) = op.body {
        out["requestBody"] = json!({ "required": reading == BodyUse::Required, "content": { "application/json": { "schema": make(generator) } } });
    }
    out
}

/// Removes a `default` its own schema refuses: `#[serde(default)]` on a list that must not be
/// empty (an endpoint's `events`) made schemars write `"default": []` beside `"minItems": 1`,
/// which validators reject, and which is not true (an empty list is a 422, not a default).
fn drop_refused_defaults(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            if map.get("default").and_then(Value::as_array).is_some_and(|d| (d.len() as u64) < min) {
                map.remove("default");
            }
            map.values_mut().for_each(drop_refused_defaults);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_refused_defaults),
        _ => {}
    }
}

/// The whole document; deterministic (sorted maps), so it can be compared with the committed copy.
pub fn document(operations: Vec<Op>) -> Value {
    let mut generator =
        SchemaSettings::draft2020_12().with(|s| s.definitions_path = "/components/schemas".into()).into_generator();
    let _ = generator.subschema_for::<app::models::Problem>();
    let mut paths: std::collections::BTreeMap<&str, Map<String, Value>> = Default::default();
    for op in operations {
        let item = operation(&op, &mut generator);
        paths.entry(op.path).or_default().insert(op.method.to_string(), item);
    }
    let mut schemas = Value::Object(generator.take_definitions(true));
    drop_refused_defaults(&mut schemas);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Integrations Hub",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Outbound webhooks and API keys. Errors are RFC 9457 problem documents; every authenticated answer carries RateLimit headers; POST accepts Idempotency-Key; a query parameter left empty (`?status=`) is read as left out.",
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }, { "apiKey": [] }],
        "paths": paths,
        "webhooks": webhooks(),
        "components": {
            "schemas": schemas,
            "headers": header_components(),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "an API key (`sk_…`) or the operator token" },
                "apiKey": { "type": "apiKey", "in": "header", "name": "X-API-Key" },
            },
        },
    })
}

/// The 3.1 `webhooks` section: one request a receiver gets per event type of the built-in
/// catalogue, with its body (the envelope around the type's `data` schema) and the headers every
/// delivery carries. A tenant's own types are in `GET …/event-types` (they differ per tenant; this
/// document is the same for all).
fn webhooks() -> Value {
    let header =
        |description: &str| json!({ "required": true, "schema": { "type": "string" }, "description": description });
    let headers = [
        ("webhook-id", header("The event id: the same on every retry and replay (de-duplicate on it)")),
        ("webhook-timestamp", header("Unix seconds when this attempt was signed")),
        ("webhook-signature", header("v1,<base64 HMAC-SHA256 of {webhook-id}.{webhook-timestamp}.{body}>; two, space-separated, during a secret rotation's grace period")),
        ("X-Webhook-Signature", header("hex HMAC-SHA256 of {timestamp}.{body}, keyed by the secret string")),
        ("X-Webhook-Timestamp", header("The timestamp signed by X-Webhook-Signature")),
        ("X-Webhook-Event", header("The event type")),
        ("X-Webhook-Event-Id", header("The event id")),
    ];
    let parameters: Vec<Value> = headers
        .into_iter()
        .map(|(name, h)| {
            let mut p = json!({ "name": name, "in": "header" });
            p.as_object_mut().expect("an object").extend(h.as_object().expect("an object").clone());
            p
        })
        .collect();
    let mut webhooks = Map::new();
    for t in crate::domain::event_types::built_in() {
        let mut data = t.schema.clone().unwrap_or(json!({}));
        // `$schema` belongs at a document's root, not inside another schema's properties.
        if let Some(object) = data.as_object_mut() {
            object.remove("$schema");
        }
        let body = json!({
            "type": "object",
            "required": ["id", "type", "event", "timestamp", "data"],
            "properties": {
                "id": { "type": "string", "description": "The event id (evt_…)" },
                "type": { "const": t.name },
                "event": { "const": t.name, "description": "Repeats type, for receivers written for {event, timestamp, data}" },
                "timestamp": { "type": "string", "format": "date-time" },
                "data": data,
            },
        });
        let mut content = json!({ "schema": body });
        if let Some(example) = &t.example {
            content["example"] = json!({
                "id": "evt_01JD0000000000000000000000", "type": t.name, "event": t.name,
                "timestamp": "2026-11-22T08:15:02.123Z", "data": example,
            });
        }
        webhooks.insert(
            t.name.clone(),
            json!({ "post": {
                "summary": t.description,
                "operationId": format!("webhook_{}", t.name.replace('.', "_")),
                "tags": ["Webhooks you receive"],
                "security": [],
                "parameters": parameters,
                "requestBody": { "required": true, "content": { "application/json": content } },
                "responses": {
                    "2XX": { "description": "Accepted: the delivery is done" },
                    "default": { "description": "Anything else is a failed attempt, retried with backoff" },
                },
            } }),
        );
    }
    Value::Object(webhooks)
}

pub fn routes() -> Vec<Route> {
    vec![
        Op::get("/api-docs/openapi.json", "System", "This OpenAPI document")
            .auth(Auth::Public)
            .answers(200, Some(|_| Schema::from(true)))
            .to(openapi_json),
        Op::get("/docs", "System", "The interactive API reference (HTML, works offline)")
            .auth(Auth::Public)
            .text("text/html")
            .to(docs_page),
        Op::get("/redoc", "System", "The API reference rendered by Redoc (HTML; the bundle is served by the hub)")
            .auth(Auth::Public)
            .text("text/html")
            .to(redoc_page),
    ]
}

/// Made once when the hub starts (`AppState::openapi`): the document does not change while it runs.
async fn openapi_json(axum::extract::State(s): axum::extract::State<AppState>) -> axum::response::Response {
    super::json_bytes(s.openapi.clone())
}

async fn docs_page() -> axum::response::Response {
    Html(include_str!("docs.html")).into_response()
}

async fn redoc_page() -> axum::response::Response {
    Html(include_str!("redoc.html")).into_response()
}
