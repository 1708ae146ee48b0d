//! Who is calling: the principal the authentication layer admitted, and their address. The
//! layer puts it in the request's extensions; handlers take it as an extractor.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use http::request::Parts;

use super::AppState;
use crate::domain::auth::Principal;
use crate::error::Error;

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

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Error> {
        parts.extensions.get::<Caller>().cloned().ok_or(Error::Unauthorized)
    }
}
