//! The OpenAPI 3.1 document (`/api-docs/openapi.json`) and the reference page (`/docs`).
//!
//! Built from the route table (`http::route`), the same list the router is built from, with
//! request and response schemas taken from the same typed models the handlers use (JSON Schema
//! 2020-12 by `schemars`). So a changed model changes the document, and the integration tests
//! check that `docs/openapi.json` is current and that every documented operation answers in
//! its documented shape.

use axum::response::{Html, IntoResponse};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{json, Map, Value};

use super::route::Route;
use crate::domain::auth::Scope;

/// How a response or request body's schema is made; `None` for no body.
pub type MakeSchema = fn(&mut SchemaGenerator) -> Schema;

/// The schema of a typed model, as a reference into `components.schemas`.
pub fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

#[derive(Clone, Copy)]
pub enum Auth {
    /// No credentials (system routes, the echo inspector's receiver).
    Public,
    /// The operator token only.
    Operator,
    /// An API key with this scope, or the operator token.
    Scope(Scope),
    /// Any valid key.
    AnyKey,
}

/// How an operation reads its body.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum BodyUse {
    /// JSON, required.
    Required,
    /// JSON that may be left out: an empty body means the defaults (`OptionalJson`).
    Optional,
    /// Any bytes, kept as sent and never parsed (the echo inspector's receiver).
    Raw,
}

/// One documented operation.
#[derive(Clone)]
pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub auth: Auth,
    /// Name, description and JSON Schema of each query parameter.
    pub query: Vec<(&'static str, &'static str, Value)>,
    /// The body's schema and how it is read; `None` for no body.
    pub body: Option<(MakeSchema, BodyUse)>,
    /// Refusals of this operation beyond those every operation of its kind has.
    pub refusals: Vec<(u16, &'static str)>,
    pub status: u16,
    /// Another success status with the same body (a PUT that creates answers 201, else 200).
    pub also: Option<u16>,
    pub response: Option<MakeSchema>,
    pub content_type: &'static str,
}

impl Op {
    fn new(method: &'static str, path: &'static str, tag: &'static str, summary: &'static str) -> Op {
        Op {
            method,
            path,
            tag,
            summary,
            auth: Auth::AnyKey,
            query: Vec::new(),
            body: None,
            refusals: Vec::new(),
            status: 200,
            also: None,
            response: None,
            content_type: "application/json",
        }
    }
    pub fn get(path: &'static str, tag: &'static str, summary: &'static str) -> Op {
        Op::new("get", path, tag, summary)
    }
    pub fn post(path: &'static str, tag: &'static str, summary: &'static str) -> Op {
        Op::new("post", path, tag, summary)
    }
    pub fn put(path: &'static str, tag: &'static str, summary: &'static str) -> Op {
        Op::new("put", path, tag, summary)
    }
    pub fn patch(path: &'static str, tag: &'static str, summary: &'static str) -> Op {
        Op::new("patch", path, tag, summary)
    }
    pub fn delete(path: &'static str, tag: &'static str, summary: &'static str) -> Op {
        Op::new("delete", path, tag, summary)
    }
    pub fn auth(mut self, auth: Auth) -> Op {
        self.auth = auth;
        self
    }
    pub fn scope(self, scope: Scope) -> Op {
        self.auth(Auth::Scope(scope))
    }
    /// A query parameter taking any string.
    pub fn query(self, name: &'static str, description: &'static str) -> Op {
        self.typed_query(name, description, json!({ "type": "string" }))
    }
    pub fn typed_query(mut self, name: &'static str, description: &'static str, schema: Value) -> Op {
        self.query.push((name, description, schema));
        self
    }
    /// A query parameter taking one of `values`.
    pub fn choice(self, name: &'static str, description: &'static str, values: &[&str]) -> Op {
        self.typed_query(name, description, json!({ "type": "string", "enum": values }))
    }
    /// A query parameter taking an RFC 3339 time.
    pub fn time(self, name: &'static str, description: &'static str) -> Op {
        self.typed_query(name, description, json!({ "type": "string", "format": "date-time" }))
    }
    /// `?limit=&cursor=`.
    pub fn paged(self) -> Op {
        self.typed_query(
            "limit",
            "page size, default 50; below 1 or above 500 is read as 1 or 500",
            json!({ "type": "integer" }),
        )
        .query("cursor", "the `next_cursor` of the previous page of this list; anything else is a 422")
    }
    /// The delivery log's filters (and paging).
    pub fn delivery_filters(self) -> Op {
        self.choice("status", "one status", &["pending", "delivering", "delivered", "failed", "dead_letter"])
            .query("webhook_id", "one endpoint")
            .query("event_type", "one event type")
            .query("event_id", "one event's deliveries (an `evt_` id; another id is a 422)")
            .time("since", "created at or after (RFC 3339)")
            .time("until", "created before (RFC 3339)")
            .paged()
    }
    pub fn body(mut self, body: MakeSchema) -> Op {
        self.body = Some((body, BodyUse::Required));
        self
    }
    /// A body that may be left out: its fields all have defaults.
    pub fn optional_body(mut self, body: MakeSchema) -> Op {
        self.body = Some((body, BodyUse::Optional));
        self
    }
    /// Any body, or none; not parsed.
    pub fn raw_body(mut self) -> Op {
        self.body = Some((|_| Schema::from(true), BodyUse::Raw));
        self
    }
    /// A refusal particular to this operation (its description is added to a shared one).
    pub fn refuses(mut self, status: u16, description: &'static str) -> Op {
        self.refusals.push((status, description));
        self
    }
    pub fn answers(mut self, status: u16, response: Option<MakeSchema>) -> Op {
        self.status = status;
        self.response = response;
        self
    }
    pub fn or(mut self, status: u16) -> Op {
        self.also = Some(status);
        self
    }
    pub fn text(mut self, content_type: &'static str) -> Op {
        self.content_type = content_type;
        self
    }
}

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

/// Every documented operation: the route table's.
pub fn operations() -> Vec<Op> {
    super::route::table().into_iter().map(|route| route.op).collect()
}

/// The whole document; deterministic (sorted maps), so it can be compared with the committed copy.
pub fn document() -> Value {
    let mut generator =
        SchemaSettings::draft2020_12().with(|s| s.definitions_path = "/components/schemas".into()).into_generator();
    let _ = generator.subschema_for::<app::models::Problem>();
    let mut paths: std::collections::BTreeMap<&str, Map<String, Value>> = Default::default();
    for op in operations() {
        let item = operation(&op, &mut generator);
        paths.entry(op.path).or_default().insert(op.method.to_string(), item);
    }
    let schemas = generator.take_definitions(true);
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
    ]
}

async fn openapi_json() -> axum::Json<Value> {
    axum::Json(document())
}

async fn docs_page() -> axum::response::Response {
    Html(include_str!("docs.html")).into_response()
}
