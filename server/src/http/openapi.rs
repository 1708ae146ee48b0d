//! The OpenAPI 3.1 document (`/api-docs/openapi.json`) and the reference page (`/docs`).
//!
//! Every area of the API lists its operations next to its `router()` (`fn operations()`), with
//! request and response schemas taken from the same typed models the handlers use (JSON Schema
//! 2020-12 by `schemars`). So a changed model changes the document, and the integration tests
//! check that `docs/openapi.json` is current and that every documented operation answers in
//! its documented shape.

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{json, Map, Value};

use super::AppState;

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
    Scope(&'static str),
    /// Any valid key.
    AnyKey,
}

/// One documented operation.
#[derive(Clone)]
pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub auth: Auth,
    pub query: Vec<(&'static str, &'static str)>,
    pub body: Option<MakeSchema>,
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
    pub fn scope(self, scope: &'static str) -> Op {
        self.auth(Auth::Scope(scope))
    }
    pub fn query(mut self, name: &'static str, description: &'static str) -> Op {
        self.query.push((name, description));
        self
    }
    /// `?limit=&cursor=`.
    pub fn paged(self) -> Op {
        self.query("limit", "page size, default 50, at most 500")
            .query("cursor", "the `next_cursor` of the previous page of this list; anything else is a 422")
    }
    /// The delivery log's filters (and paging).
    pub fn delivery_filters(self) -> Op {
        self.query("status", "pending, delivering, delivered, failed or dead_letter")
            .query("webhook_id", "one endpoint")
            .query("event_type", "one event type")
            .query("since", "created at or after (RFC 3339)")
            .query("until", "created before (RFC 3339)")
            .paged()
    }
    pub fn body(mut self, body: MakeSchema) -> Op {
        self.body = Some(body);
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

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect()
}

fn operation(op: &Op, generator: &mut SchemaGenerator) -> Value {
    let mut parameters = path_parameters(op.path);
    parameters.extend(op.query.iter().map(|(name, description)| json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": "string" } })));
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
    if op.body.is_some() || !op.query.is_empty() {
        responses.insert("400".into(), problem("malformed JSON"));
        responses.insert("422".into(), problem("a field is invalid; `errors` names it"));
    }
    if !matches!(op.auth, Auth::Public) {
        responses.insert("401".into(), problem("no key, or an invalid, expired or revoked one"));
        responses.insert("403".into(), problem("the key lacks the scope, or its IP is not allowed"));
        responses.insert("429".into(), problem("over the key's rate limit; see `Retry-After`"));
    }
    if op.path.contains('{') {
        responses.insert("404".into(), problem("not found, or another tenant's"));
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
        Auth::Scope(scope) => out["x-scope"] = json!(scope),
        Auth::AnyKey => {}
    }
    if let Some(make) = op.body {
        out["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": make(generator) } } });
    }
    out
}

/// Every documented operation, area by area.
pub fn operations() -> Vec<Op> {
    [
        super::system::operations(),
        own_operations(),
        super::tenants::operations(),
        super::keys::operations(),
        super::webhooks::operations(),
        super::events::operations(),
        super::deliveries::operations(),
        super::replay::operations(),
        super::echo::operations(),
        super::audit::operations(),
        super::connectors::operations(),
    ]
    .concat()
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
            "description": "Outbound webhooks and API keys. Errors are RFC 9457 problem documents; every authenticated answer carries RateLimit headers; POST accepts Idempotency-Key.",
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }, { "apiKey": [] }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "an API key (`sk_…`) or the operator token" },
                "apiKey": { "type": "apiKey", "in": "header", "name": "X-API-Key" },
            },
        },
    })
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api-docs/openapi.json", get(|| async { axum::Json(document()) }))
        .route("/docs", get(|| async { Html(include_str!("docs.html")).into_response() }))
}

pub fn own_operations() -> Vec<Op> {
    vec![
        Op::get("/api-docs/openapi.json", "System", "This OpenAPI document")
            .auth(Auth::Public)
            .answers(200, Some(|_| Schema::from(true))),
        Op::get("/docs", "System", "The interactive API reference (HTML, works offline)")
            .auth(Auth::Public)
            .text("text/html"),
    ]
}
