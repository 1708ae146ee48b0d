//! CORS for the REST API (`IH_CORS_ALLOWED_ORIGINS`), so that a browser application on another
//! origin can call `/api/v1/*` with an API key. Only there: the admin UI and its server functions
//! stay same-origin (their session cookie is `SameSite=Strict`, and they refuse cross-site calls).
//! Credentials (cookies) are never allowed across origins: a key is sent as a header.

use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;
use futures::future::Either;
use http::{HeaderName, Method};
use tower::{Layer, Service};
use tower_http::cors::{AllowOrigin, Cors, CorsLayer};

use super::auth::AUTHENTICATED;
use crate::config::Origins;

/// What a browser may read of an answer besides the CORS-safelisted headers: the rate-limit
/// headers, `Retry-After`, and whether an idempotent POST was replayed.
const EXPOSED: [&str; 8] = [
    "ratelimit-policy",
    "ratelimit",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "retry-after",
    "idempotency-replayed",
    "location",
];

/// The CORS policy of the REST API.
pub fn layer(origins: &Origins) -> CorsLayer {
    let allow = match origins {
        Origins::Any => AllowOrigin::any(),
        Origins::List(list) => AllowOrigin::list(list.iter().cloned()),
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([
            http::header::AUTHORIZATION,
            http::header::CONTENT_TYPE,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers(EXPOSED.map(HeaderName::from_static))
        .max_age(Duration::from_secs(600))
}

/// Applies `cors` to the REST API's paths and passes every other request by untouched.
#[derive(Clone)]
pub struct ApiCors<S> {
    cors: Cors<S>,
    plain: S,
}

impl<S: Clone> ApiCors<S> {
    pub fn new(inner: S, origins: &Origins) -> Self {
        ApiCors { cors: layer(origins).layer(inner.clone()), plain: inner }
    }
}

impl<S> Service<Request> for ApiCors<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<tower_http::cors::ResponseFuture<S::Future>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        match self.cors.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.plain.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.uri().path().starts_with(AUTHENTICATED) {
            Either::Left(self.cors.call(request))
        } else {
            Either::Right(self.plain.call(request))
        }
    }
}
