//! `Idempotency-Key` on POST: the first answer is kept for 24 hours, per caller, and replayed
//! for a retry of the same request. Reusing a key for a different request is a 409.

use std::convert::Infallible;
use std::future::Future;

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method};

use super::Caller;
use crate::crypto::sha256_hex;
use crate::domain::Hub;
use crate::error::Error;
use crate::{store, time};

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
    Fut: Future<Output = Result<Response, Infallible>>,
{
    let route = |request| async { route(request).await.unwrap_or_else(|never| match never {}) };
    if !applies(&request) {
        return route(request).await;
    }
    let key =
        request.headers().get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok()).map(str::to_string).unwrap_or_default();
    if key.is_empty() || key.len() > 255 {
        return Error::field("Idempotency-Key", "must be 1 to 255 visible ASCII characters").into_response();
    }
    let Some(scope) = request.extensions().get::<Caller>().map(|c| c.principal.actor()) else {
        return route(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return Error::PayloadTooLarge("the request body is too large".into()).into_response();
    };
    let request_hash = sha256_hex(&[parts.uri.path().as_bytes(), b"\n", &bytes].concat());
    let db = &hub.db;
    let now = time::now_ms();
    match store::idempotency::get(db, &scope, &key, now - store::idempotency::TTL_MS).await {
        Ok(Some((hash, status, body))) if hash == request_hash => {
            let mut response =
                (http::StatusCode::from_u16(status as u16).unwrap_or(http::StatusCode::OK), body).into_response();
            let headers = response.headers_mut();
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert("idempotency-replayed", HeaderValue::from_static("true"));
            return response;
        }
        Ok(Some(_)) => {
            return Error::Conflict("this Idempotency-Key was used for a different request".into()).into_response();
        }
        Ok(None) => {}
        Err(e) => return e.into_response(),
    }
    let response = route(Request::from_parts(parts, Body::from(bytes))).await;
    // Server errors are not kept: a retry should really retry.
    if response.status().is_server_error() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return Error::Internal("response too large to keep".into()).into_response();
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if let Err(e) =
        store::idempotency::put(db, &scope, &key, &request_hash, parts.status.as_u16() as i64, &text, now).await
    {
        tracing::warn!(error = ?e, "could not keep an idempotent response");
    }
    Response::from_parts(parts, Body::from(bytes))
}
