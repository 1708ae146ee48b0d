//! Authentication of REST requests: `Authorization: Bearer <key>` or `X-API-Key: <key>`.
//! A middleware resolves the caller once, applies its rate limit, sets the rate-limit headers
//! on every authenticated answer and counts the outcome for the key's usage.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::HeaderMap;

use super::AppState;
use crate::domain::auth::{Authenticated, Principal};
use crate::domain::ratelimit::Outcome;
use crate::domain::Hub;
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
pub fn client_ip(hub: &Hub, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
    let trusted = &hub.config.trusted_proxies;
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

pub async fn authenticate(State(hub): State<Hub>, mut request: Request, next: Next) -> Response {
    let Some(credential) = credential(request.headers()) else {
        return next.run(request).await; // handlers that need a caller answer 401
    };
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let ip = client_ip(&hub, request.headers(), peer);
    let now = time::now_ms();
    let Authenticated { principal, meter } = match hub.authenticate_from(credential, ip).await {
        Ok(authenticated) => authenticated,
        Err(refusal) => {
            if let Some(meter) = refusal.meter {
                let outcome = if matches!(refusal.error, Error::Forbidden(_)) { Outcome::Forbidden } else { Outcome::Unauthorized };
                meter.count(outcome, now);
            }
            return refusal.error.into_response();
        }
    };
    let rate = meter.check(now);
    let mut response = if rate.allowed {
        request.extensions_mut().insert(Caller { principal, ip });
        super::idempotency::run(&hub, request, next).await
    } else {
        Error::RateLimited(format!("more than {} requests a minute", rate.limit)).into_response()
    };
    meter.write_headers(&rate, response.headers_mut());
    let outcome = match response.status().as_u16() {
        429 => Outcome::RateLimited,
        403 => Outcome::Forbidden,
        401 => Outcome::Unauthorized,
        _ => Outcome::Ok,
    };
    meter.count(outcome, now);
    response
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Error> {
        parts.extensions.get::<Caller>().cloned().ok_or(Error::Unauthorized)
    }
}
