//! Authentication of REST requests: `Authorization: Bearer <key>` or `X-API-Key: <key>`.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use axum::extract::{ConnectInfo, Request};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use futures::FutureExt;
use http::HeaderMap;
use tower::Service;

use super::idempotency;
use crate::client::client_ip;
use crate::domain::auth::{Actor, Authenticated, Refusal};
use crate::domain::ratelimit::{Meter, Outcome, RateState};
use crate::domain::Hub;
use crate::error::Error;
use crate::time;

/// The header's bytes, trimmed: a credential is hashed as bytes, and only a key missing from the
/// cache is read as text (to check its format), so the common path checks no UTF-8 at all.
pub fn credential(headers: &HeaderMap) -> Option<&[u8]> {
    let bearer = headers.get(http::header::AUTHORIZATION).and_then(|v| {
        let v = v.as_bytes();
        v.strip_prefix(b"Bearer ").or_else(|| v.strip_prefix(b"bearer "))
    });
    let raw = bearer.or_else(|| headers.get("x-api-key").map(|v| v.as_bytes()))?;
    Some(raw.trim_ascii()).filter(|v| !v.is_empty())
}

/// The layer in front of the router: for requests under `/api/v1/` that carry a credential it
/// resolves the caller once, applies its rate limit, sets the rate-limit headers on the answer,
/// counts the outcome for the key's usage and replays idempotent POSTs. Everything else passes
/// straight through (a prefix comparison).
///
/// A hand-written tower service rather than `axum::middleware::from_fn`: most requests carry a
/// credential that needs no database (the operator token, or a key in the cache), and for those
/// the check runs inside `call` and the route's own future is wrapped without a box, a clone of
/// the route or a future of our own. Only a cache miss or an `Idempotency-Key` takes the general,
/// boxed path.
#[derive(Clone)]
pub struct AuthLayer(pub Hub);

/// The paths this layer authenticates.
pub(super) const AUTHENTICATED: &str = "/api/v1/";

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Authenticate<S> {
        Authenticate { hub: self.0.clone(), inner }
    }
}

#[derive(Clone)]
pub struct Authenticate<S> {
    hub: Hub,
    inner: S,
}

impl<S> Service<Request> for Authenticate<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Metered<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if crate::telemetry::tracing() && request.uri().path().starts_with(AUTHENTICATED) {
            return self.traced(request);
        }
        self.route(request)
    }
}

impl<S> Authenticate<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    /// With tracing on, a REST request's server span around all it does (authentication, the
    /// handler, idempotency), continuing the caller's `traceparent`. Boxed: tracing costs an
    /// allocation per request, and nothing when it is off.
    fn traced(&mut self, request: Request) -> Metered<S::Future> {
        use tracing::field::Empty;
        use tracing::Instrument;
        let name = crate::telemetry::route_name(request.method().as_str(), request.uri().path());
        let span = tracing::info_span!(target: crate::telemetry::TARGET, "http.server",
            otel.name = name.as_str(), otel.kind = "server", http.request.method = %request.method(),
            http.response.status_code = Empty, otel.status_code = Empty);
        let parent = request.headers().get("traceparent").and_then(|v| v.to_str().ok());
        crate::telemetry::continue_from(&span, parent);
        let routed = span.in_scope(|| self.route(request));
        Metered::Boxed {
            future: Box::pin(async move {
                let Ok(response) = routed.instrument(span.clone()).await;
                span.record("http.response.status_code", response.status().as_u16());
                if response.status().is_server_error() {
                    span.record("otel.status_code", "error");
                }
                response
            }),
        }
    }

    fn route(&mut self, mut request: Request) -> Metered<S::Future> {
        // The UI (its own session cookie) and the public routes are not ours to authenticate.
        let ours = request.uri().path().starts_with(AUTHENTICATED);
        let Some(credential) = ours.then(|| credential(request.headers())).flatten() else {
            // Handlers that need a caller answer 401; nothing to limit or count.
            return Metered::Inner { future: self.inner.call(request), finish: None };
        };
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let ip = client_ip(&self.hub, request.headers(), peer);
        let now = time::now_ms();
        // Limits counted in Redis need a round trip, so those requests take the boxed path.
        let shared = self.hub.shared_limit.is_some();
        match self.hub.authenticate_known(credential, ip, now) {
            Some(answer) if !shared => match accepted(&self.hub, answer, now).and_then(|caller| {
                let rate = caller.meter.check(now);
                limited(caller, rate, &mut request, ip, now)
            }) {
                Err(refusal) => Metered::Ready { response: Some(refusal) },
                Ok(finish) if !idempotency::applies(&request) => {
                    Metered::Inner { future: self.inner.call(request), finish: Some(finish) }
                }
                Ok(finish) => {
                    let (hub, inner) = (self.hub.clone(), take_ready(&mut self.inner));
                    Metered::Boxed { future: Box::pin(async move { pass(&hub, inner, request, finish).await }) }
                }
            },
            Some(answer) => {
                let (hub, inner) = (self.hub.clone(), take_ready(&mut self.inner));
                Metered::Boxed {
                    future: Box::pin(async move {
                        match admit(&hub, answer, &mut request, ip, now).await {
                            Err(refusal) => refusal,
                            Ok(finish) => pass(&hub, inner, request, finish).await,
                        }
                    }),
                }
            }
            None => {
                // A key this instance has not seen within the cache's lifetime: read it first.
                let (hub, inner, credential) = (self.hub.clone(), take_ready(&mut self.inner), credential.to_owned());
                Metered::Boxed {
                    future: Box::pin(async move {
                        let answer = hub.authenticate_from(&credential, ip, now).await;
                        match admit(&hub, answer, &mut request, ip, now).await {
                            Err(refusal) => refusal,
                            Ok(finish) => pass(&hub, inner, request, finish).await,
                        }
                    }),
                }
            }
        }
    }
}

/// The service that `poll_ready` prepared, leaving a fresh clone in its place (tower's rule for
/// services moved into a future).
fn take_ready<S: Clone>(inner: &mut S) -> S {
    let clone = inner.clone();
    std::mem::replace(inner, clone)
}

/// Counts a refusal and returns its answer, or applies the caller's rate limit — counted where
/// `IH_REDIS_URL` says (every instance together), or on this instance's counters without it —
/// and attaches the [`Actor`] to the request (which stays in place: it is a few hundred bytes).
/// The fast path (no Redis, a cached key) does the same without a future: `accepted`, then
/// `limited` with the meter's own check.
// The Err is the finished refusal, sent as it is; boxing it would only add an allocation to
// every refusal.
#[allow(clippy::result_large_err)]
async fn admit(
    hub: &Hub,
    answer: Result<Authenticated, Refusal>,
    request: &mut Request,
    ip: Option<IpAddr>,
    now: i64,
) -> Result<Finish, Response> {
    let caller = accepted(hub, answer, now)?;
    let rate = match &hub.shared_limit {
        Some(limiter) => limiter.check(&caller.meter, now).await,
        None => caller.meter.check(now),
    };
    limited(caller, rate, request, ip, now)
}

/// The authenticated caller, or the refusal's answer (counted).
#[allow(clippy::result_large_err)]
fn accepted(hub: &Hub, answer: Result<Authenticated, Refusal>, now: i64) -> Result<Authenticated, Response> {
    answer.map_err(|refusal| {
        let outcome =
            if matches!(refusal.error, Error::Forbidden(_)) { Outcome::Forbidden } else { Outcome::Unauthorized };
        match refusal.meter {
            Some(meter) => meter.count(outcome, now),
            // An unknown key has no meter, but a stream of them is worth seeing in /metrics;
            // a failed look-up (the database away) refused no credential.
            None if matches!(refusal.error, Error::Unauthorized | Error::Forbidden(_)) => {
                hub.meters.totals.add(outcome)
            }
            None => {}
        }
        refusal.error.into_response()
    })
}

/// A 429 when the rate limit refused the request; otherwise the request carries its [`Actor`].
#[allow(clippy::result_large_err)]
fn limited(
    caller: Authenticated,
    rate: RateState,
    request: &mut Request,
    ip: Option<IpAddr>,
    now: i64,
) -> Result<Finish, Response> {
    let Authenticated { principal, meter } = caller;
    let finish = Finish { rate, meter, now };
    if !finish.rate.allowed {
        let mut response =
            Error::RateLimited(format!("more than {} requests {}", finish.rate.limit, finish.meter.window.per()))
                .into_response();
        finish.apply(&mut response);
        return Err(response);
    }
    request.extensions_mut().insert(Actor::new(principal, ip));
    Ok(finish)
}

/// The general path of an admitted request: idempotency, then the route.
async fn pass<S>(hub: &Hub, mut inner: S, request: Request, finish: Finish) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    let route = AssertUnwindSafe(idempotency::run(hub, request, |request| inner.call(request)));
    // A route's panic is answered here, not only further out, so that its 500 still carries
    // the rate-limit headers and counts in the key's usage like any other answer.
    let mut response = route.catch_unwind().await.unwrap_or_else(crate::error::panicked);
    finish.apply(&mut response);
    response
}

/// The rate-limit headers and the usage count of an authenticated answer.
pub struct Finish {
    meter: Arc<Meter>,
    rate: RateState,
    now: i64,
}

impl Finish {
    fn apply(self, response: &mut Response) {
        self.meter.write_headers(&self.rate, response.headers_mut());
        let outcome = match response.status().as_u16() {
            429 => Outcome::RateLimited,
            403 => Outcome::Forbidden,
            401 => Outcome::Unauthorized,
            _ => Outcome::Ok,
        };
        self.meter.count(outcome, self.now);
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Authenticate`]: the route's own future with the finishing step (no box),
    /// an answer known at once, or the boxed general path.
    #[project = MeteredProj]
    pub enum Metered<F> {
        Inner { #[pin] future: F, finish: Option<Finish> },
        Ready { response: Option<Response> },
        Boxed { future: BoxFuture<'static, Response> },
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for Metered<F> {
    type Output = Result<Response, Infallible>;

    /// Every request the hub serves passes through here (this layer wraps the whole router), so
    /// this is where a handler's panic — a bug — becomes a 500 problem with its cause logged;
    /// hyper would drop the connection and the client see only a reset. The catches add no work
    /// of their own on the way through (bench/auth-instructions.sh moved by under 1 %, from
    /// inlining); the panicked future is not polled again (it answered).
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        caught(|| self.answer(cx)).map(Ok)
    }
}

/// A poll, with a panic turned into the 500 that answers it.
fn caught(poll: impl FnOnce() -> Poll<Response>) -> Poll<Response> {
    std::panic::catch_unwind(AssertUnwindSafe(poll)).unwrap_or_else(|cause| Poll::Ready(crate::error::panicked(cause)))
}

impl<F: Future<Output = Result<Response, Infallible>>> Metered<F> {
    fn answer(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        match self.project() {
            MeteredProj::Inner { future, finish } => {
                // The route's panic is caught here, inside the outer catch, so that its 500 still
                // gets the rate-limit headers and the usage count below.
                let mut response = ready!(caught(|| future.poll(cx).map(|Ok(response)| response)));
                if let Some(finish) = finish.take() {
                    finish.apply(&mut response);
                }
                Poll::Ready(response)
            }
            MeteredProj::Ready { response } => Poll::Ready(response.take().expect("polled after completion")),
            MeteredProj::Boxed { future } => future.as_mut().poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_handler_that_panics_answers_a_500_problem_instead_of_dropping_the_connection() {
        let panics = async {
            if true {
                panic!("a bug");
            }
            Ok(Response::new(axum::body::Body::empty()))
        };
        let Ok(response) = Metered::Inner { future: panics, finish: None }.await;
        assert_eq!(response.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["status"], 500);
        assert!(!problem.to_string().contains("a bug"), "the cause is logged, not shown: {problem}");
    }
}
