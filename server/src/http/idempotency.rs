//! `Idempotency-Key` on POST: the first answer is kept for 24 hours, per caller, and replayed
//! for a retry of the same request. Reusing a key for a different request is a 409, and so is a
//! retry that arrives while the first request is still being answered (with `Retry-After`).

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use http::{HeaderValue, Method};
use tracing::Instrument;

use crate::crypto::sha256_hex;
use crate::domain::auth::Actor;
use crate::domain::idempotency::{Claim, IN_PROGRESS};
use crate::domain::Hub;
use crate::error::Error;
use crate::time;

const IDEMPOTENCY_KEY: http::HeaderName = http::HeaderName::from_static("idempotency-key");
const MAX_BODY: usize = 16 << 20;

/// Whether `request` asks for idempotency: a POST with the header. The authentication layer
/// sends only these through [`run`].
pub fn applies(request: &Request) -> bool {
    request.method() == Method::POST && request.headers().contains_key(IDEMPOTENCY_KEY)
}

/// Runs `request` — already authenticated — through `route`, replaying a kept answer when it
/// carries an `Idempotency-Key`. Called by the authentication layer, so there is one layer on
/// the request path, not two.
pub async fn run<F, Fut>(hub: &Hub, request: Request, route: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response, Infallible>> + Send + 'static,
{
    if !applies(&request) {
        return answer(route(request).await);
    }
    let key =
        request.headers().get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok()).map(str::to_string).unwrap_or_default();
    if key.is_empty() || key.len() > 255 {
        return Error::field("Idempotency-Key", "must be 1 to 255 visible ASCII characters").into_response();
    }
    let Some(scope) = request.extensions().get::<Actor>().map(|actor| actor.actor()) else {
        return answer(route(request).await);
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return Error::PayloadTooLarge("the request body is too large".into()).into_response();
    };
    let request_hash = sha256_hex(&[parts.uri.path().as_bytes(), b"\n", &bytes].concat());
    let now = time::now_ms();
    match hub.claim_idempotency_key(&scope, &key, &request_hash, now).await {
        Ok(Claim::Ours) => {}
        Ok(Claim::Taken { request_hash: kept, .. }) if kept != request_hash => {
            return Error::Conflict("this Idempotency-Key was used for a different request".into()).into_response();
        }
        Ok(Claim::Taken { status: IN_PROGRESS, .. }) => {
            let mut response = Error::Conflict(
                "a request with this Idempotency-Key is still being answered; retry it in a moment".into(),
            )
            .into_response();
            response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
        Ok(Claim::Taken { status, body, .. }) => {
            let mut response =
                (http::StatusCode::from_u16(status as u16).unwrap_or(http::StatusCode::OK), body).into_response();
            let headers = response.headers_mut();
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert("idempotency-replayed", HeaderValue::from_static("true"));
            return response;
        }
        Err(e) => return e.into_response(),
    }
    // The route runs in a task of its own: a client that gives up (its timeout, a dropped
    // connection) would otherwise cancel it half-way, perhaps after its changes were committed
    // and before its answer was kept, and the client's retry would make them again. In its task
    // it runs to the end and its answer is kept for that retry.
    let route = route(Request::from_parts(parts, Body::from(bytes)));
    let claimed = Claimed { hub: hub.clone(), scope, key, at: now };
    // A route that panics frees the key at once, like a 5xx answer: a retry then runs the
    // request again instead of meeting a 409 until the claim is taken over.
    let task = tokio::spawn(
        async move {
            match AssertUnwindSafe(route).catch_unwind().await {
                Ok(result) => claimed.keep(answer(result)).await,
                Err(cause) => {
                    claimed.abandon().await;
                    crate::error::panicked(cause)
                }
            }
        }
        .in_current_span(),
    );
    match task.await {
        Ok(response) => response,
        Err(stopped) => {
            tracing::error!(error = %stopped, "a request with an Idempotency-Key was stopped");
            Error::Internal("the request failed".into()).into_response()
        }
    }
}

fn answer(result: Result<Response, Infallible>) -> Response {
    result.unwrap_or_else(|never| match never {})
}

/// A key this request claimed, and the claim's time, which identifies it.
struct Claimed {
    hub: Hub,
    scope: String,
    key: String,
    at: i64,
}

impl Claimed {
    /// Keeps the route's answer for the retries, or frees the key after a server error, so that
    /// a retry really retries.
    async fn keep(self, response: Response) -> Response {
        if response.status().is_server_error() {
            self.abandon().await;
            return response;
        }
        let (parts, body) = response.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
            self.abandon().await;
            return Error::Internal("response too large to keep".into()).into_response();
        };
        let text = String::from_utf8_lossy(&bytes);
        let status = parts.status.as_u16() as i64;
        if let Err(e) = self.hub.keep_idempotent_answer(&self.scope, &self.key, self.at, status, &text).await {
            tracing::warn!(error = ?e, "could not keep an idempotent response");
        }
        Response::from_parts(parts, Body::from(bytes))
    }

    async fn abandon(&self) {
        if let Err(e) = self.hub.free_idempotency_key(&self.scope, &self.key, self.at).await {
            tracing::warn!(error = ?e, "could not free an Idempotency-Key; it is free again in a minute");
        }
    }
}
