//! The route table: every operation of the REST API declared once, with its method, path,
//! handler, documentation and required scope (`Op`, then `.to(handler)`). The axum router
//! ([`router`]) and the OpenAPI document (`openapi::document`) are both built from
//! `http::table()`, so a route cannot be served undocumented nor documented unserved.
//!
//! To add a route: write the handler in its area's module and add one `Op::…(…).to(handler)`
//! line to that module's `routes()`. A new area also adds its `routes()` to `http::table()`.

use std::collections::BTreeMap;

use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;

use schemars::generate::SchemaGenerator;
use schemars::{JsonSchema, Schema};
use serde_json::{json, Value};

use super::AppState;
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
    /// Other paths serving this same operation: the integrator routes whose tenant is the
    /// calling key's (`/api/v1/events` for `/api/v1/tenants/{tenant_id}/events`).
    pub aliases: Vec<(&'static str, &'static str)>,
    /// Set on the copy of an operation documented at an alias: the path it is an alias of.
    pub alias_of: Option<&'static str>,
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
            aliases: Vec::new(),
            alias_of: None,
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
        self.choice("status", "one status", &app::models::DeliveryStatus::ALL.map(app::models::DeliveryStatus::as_str))
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
    /// Serves the same operation at `path` too. The handlers read the tenant with the `Tenant`
    /// extractor, so an alias without `{tenant_id}` acts on the calling key's tenant. Its other
    /// parameters must keep their names (`{id}`).
    pub fn alias(self, path: &'static str) -> Op {
        let method = self.method;
        self.alias_as(method, path)
    }
    /// An alias with another method: `DELETE /api/v1/keys/{id}` revokes, as the system it
    /// replaces did, so it is an alias of `POST …/api-keys/{id}/revoke`.
    pub fn alias_as(mut self, method: &'static str, path: &'static str) -> Op {
        self.aliases.push((method, path));
        self
    }
    /// The operation as documented at each of its paths: itself, then a copy per alias.
    pub fn at_each_path(mut self) -> Vec<Op> {
        let aliases = std::mem::take(&mut self.aliases);
        let mut all = Vec::with_capacity(1 + aliases.len());
        for (method, path) in aliases {
            let mut copy = self.clone();
            copy.method = method;
            copy.path = path;
            copy.alias_of = Some(self.path);
            all.push(copy);
        }
        all.insert(0, self);
        all
    }
}

/// One operation: its documentation and the handler that serves it (at its path and aliases).
pub struct Route {
    pub op: Op,
    /// The handler as served for one method (an alias may use another method).
    serve: Box<dyn Fn(MethodFilter) -> MethodRouter<AppState>>,
}

fn method_filter(method: &str) -> MethodFilter {
    match method {
        "get" => MethodFilter::GET,
        "post" => MethodFilter::POST,
        "put" => MethodFilter::PUT,
        "patch" => MethodFilter::PATCH,
        "delete" => MethodFilter::DELETE,
        other => unreachable!("Op has no constructor for {other}"),
    }
}

impl Op {
    /// Serves this operation with `handler`.
    pub fn to<H, T>(self, handler: H) -> Route
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Route { serve: Box::new(move |filter| axum::routing::on(filter, handler.clone())), op: self }
    }
}

impl Route {
    /// Wraps this route's handler (a body limit, say).
    pub fn layer<L>(self, layer: L) -> Route
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Response: axum::response::IntoResponse + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Error: Into<std::convert::Infallible> + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
    {
        let serve = self.serve;
        Route { op: self.op, serve: Box::new(move |filter| serve(filter).layer(layer.clone())) }
    }
}

/// The axum router of `routes`: each operation at its path and its aliases, the methods of one
/// path merged into one entry (axum panics at start on a method served twice at one path).
pub fn router(routes: Vec<Route>) -> Router<AppState> {
    let mut paths: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for route in routes {
        let at = std::iter::once((route.op.method, route.op.path)).chain(route.op.aliases.iter().copied());
        for (method, path) in at {
            let handler = (route.serve)(method_filter(method));
            let merged = match paths.remove(path) {
                Some(methods) => methods.merge(handler),
                None => handler,
            };
            paths.insert(path, merged);
        }
    }
    paths.into_iter().fold(Router::new(), |router, (path, methods)| router.route(path, methods))
}
