//! Authentication of REST requests: `Authorization: Bearer <key>` or `X-API-Key: <key>`.
//! A middleware resolves the caller once, applies its rate limit, sets the rate-limit headers
//! on every authenticated answer and counts the outcome for the key's usage.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue};

use super::AppState;
use crate::domain::auth::Principal;
use crate::domain::ratelimit::RateState;
use crate::error::Error;
use crate::time;

#[derive(Clone)]
pub struct Caller {
    pub principal: Principal,
    pub ip: Option<IpAddr>,
}

impl Caller {
    pub fn source_ip(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }
}

pub fn credential(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The client's address: the peer, or — only when the peer is a configured trusted proxy —
/// the last address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(state: &AppState, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
    let trusted = &state.hub.config.trusted_proxies;
    let peer = peer?;
    if !trusted.iter().any(|net| net.contains(&peer)) {
        return Some(peer);
    }
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).unwrap_or("");
    forwarded
        .rsplit(',')
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .find(|ip| !trusted.iter().any(|net| net.contains(ip)))
        .or(Some(peer))
}

pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(credential) = credential(request.headers()).map(str::to_string) else {
        return next.run(request).await; // handlers that need a caller answer 401
    };
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let ip = client_ip(&state, request.headers(), peer);
    let hub = &state.hub;
    let now = time::now_ms();
    let principal = match hub.authenticate_from(&credential, ip).await {
        Ok(principal) => principal,
        Err(refusal) => {
            if let Some(key_id) = refusal.key_id {
                let outcome = if matches!(refusal.error, Error::Forbidden(_)) { "forbidden" } else { "unauthorized" };
                hub.usage.count(&key_id, outcome, now);
            }
            return refusal.error.into_response();
        }
    };
    let (caller_id, limit) = match &principal {
        Principal::Operator => ("operator".to_string(), hub.config.operator_rate_limit_per_minute),
        Principal::Key(key) => (key.id.clone(), key.rate_limit_per_minute.unwrap_or(hub.config.default_rate_limit_per_minute)),
    };
    let rate = hub.rate_limiter.check(&caller_id, limit, now);
    let key_id = matches!(principal, Principal::Key(_)).then_some(caller_id);
    let mut response = if rate.allowed {
        request.extensions_mut().insert(Caller { principal, ip });
        next.run(request).await
    } else {
        let mut response = Error::RateLimited(format!("more than {limit} requests a minute")).into_response();
        response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from(rate.reset));
        response
    };
    rate_headers(response.headers_mut(), &rate);
    if let Some(key_id) = key_id {
        let outcome = match response.status().as_u16() {
            429 => "rate_limited",
            403 => "forbidden",
            401 => "unauthorized",
            _ => "ok",
        };
        hub.usage.count(&key_id, outcome, now);
    }
    response
}

/// The IETF draft headers (`RateLimit-Policy`, `RateLimit`) and the common `X-RateLimit-*`.
fn rate_headers(headers: &mut HeaderMap, rate: &RateState) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("ratelimit-policy", format!("\"per-minute\";q={};w=60", rate.limit));
    set("ratelimit", format!("\"per-minute\";r={};t={}", rate.remaining, rate.reset));
    set("x-ratelimit-limit", rate.limit.to_string());
    set("x-ratelimit-remaining", rate.remaining.to_string());
    set("x-ratelimit-reset", rate.reset.to_string());
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Error> {
        parts.extensions.get::<Caller>().cloned().ok_or(Error::Unauthorized)
    }
}
