//! The route table: every operation of the REST API declared once, with its method, path,
//! handler, documentation and required scope (`Op`, then `.to(handler)`). The axum router
//! ([`router`]) and the OpenAPI document (`openapi::document`) are both built from [`table`], so
//! a route cannot be served undocumented nor documented unserved.
//!
//! To add a route: write the handler in its area's module and add one `Op::…(…).to(handler)`
//! line to that module's `routes()`. A new area also adds its `routes()` to [`table`].

use std::collections::BTreeMap;

use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;

use super::openapi::Op;
use super::AppState;

/// One operation: its documentation and the handler that serves it.
pub struct Route {
    pub op: Op,
    handler: MethodRouter<AppState>,
}

impl Op {
    /// Serves this operation with `handler`.
    pub fn to<H, T>(self, handler: H) -> Route
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match self.method {
            "get" => MethodFilter::GET,
            "post" => MethodFilter::POST,
            "put" => MethodFilter::PUT,
            "patch" => MethodFilter::PATCH,
            "delete" => MethodFilter::DELETE,
            other => unreachable!("Op has no constructor for {other}"),
        };
        Route { handler: axum::routing::on(filter, handler), op: self }
    }
}

impl Route {
    /// Wraps this route's handler (a body limit, say).
    pub fn layer<L>(mut self, layer: L) -> Route
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Response: axum::response::IntoResponse + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Error: Into<std::convert::Infallible> + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
    {
        self.handler = self.handler.layer(layer);
        self
    }
}

/// Every route of the REST API, area by area.
pub fn table() -> Vec<Route> {
    [
        super::system::routes(),
        super::openapi::routes(),
        super::tenants::routes(),
        super::keys::routes(),
        super::webhooks::routes(),
        super::events::routes(),
        super::deliveries::routes(),
        super::replay::routes(),
        super::echo::routes(),
        super::audit::routes(),
        super::connectors::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The axum router of `routes`: the methods of one path are merged into one entry.
pub fn router(routes: Vec<Route>) -> Router<AppState> {
    let mut paths: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for route in routes {
        let merged = match paths.remove(route.op.path) {
            Some(methods) => methods.merge(route.handler),
            None => route.handler,
        };
        paths.insert(route.op.path, merged);
    }
    paths.into_iter().fold(Router::new(), |router, (path, methods)| router.route(path, methods))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_operation_is_declared_twice() {
        let mut seen = std::collections::HashSet::new();
        for route in table() {
            assert!(
                seen.insert((route.op.method, route.op.path)),
                "{} {} declared twice",
                route.op.method,
                route.op.path
            );
        }
    }
}
