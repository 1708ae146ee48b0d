//! The caller of a REST request: `Authorization: Bearer <key>` or `X-API-Key: <key>`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use http::request::Parts;

use super::AppState;
use crate::domain::auth::Principal;
use crate::error::Error;

pub struct Caller {
    pub principal: Principal,
    pub ip: Option<IpAddr>,
}

impl Caller {
    pub fn source_ip(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }
}

pub fn credential(parts: &Parts) -> Option<&str> {
    let headers = &parts.headers;
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let credential = credential(parts).ok_or(Error::Unauthorized)?;
        let principal = state.hub.authenticate(credential).await?;
        Ok(Caller { principal, ip })
    }
}
