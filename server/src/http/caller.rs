//! Who is calling and what the path names: the [`Actor`] the authentication layer admitted (it
//! puts one in the request's extensions), the tenant a route acts on, and the typed id in the
//! path. Handlers take them as extractors, so no handler parses a path segment itself.

use app::models::{TenantId, TypedId};
use axum::extract::{FromRequestParts, RawPathParams};
use http::request::Parts;

use super::AppState;
use crate::domain::auth::Actor;
use crate::error::Error;

impl FromRequestParts<AppState> for Actor {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Error> {
        parts.extensions.get::<Actor>().cloned().ok_or(Error::Unauthorized)
    }
}

/// Why an alias without `{tenant_id}` refuses the operator token.
pub const OWN_TENANT: &str = "the operator token: routes without a tenant in their path take it from an API key";

/// The tenant an operation acts on: the path's `{tenant_id}` when it has one (an id that is not a
/// tenant's answers 404, as an unknown one does), otherwise the calling key's own tenant (the
/// integrator aliases such as `/api/v1/events`); the operator token has no tenant of its own and
/// gets a 400 saying which path to use.
pub struct Tenant(pub TenantId);

impl FromRequestParts<AppState> for Tenant {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if let Some(text) = path_param(parts, state, "tenant_id").await? {
            return TenantId::parse(&text).map(Tenant).ok_or(Error::NotFound("tenant"));
        }
        let actor = Actor::from_request_parts(parts, state).await?;
        match actor.tenant_id() {
            Some(id) => Ok(Tenant(id.clone())),
            None => Err(Error::BadRequest(
                "this route takes the tenant from an API key; the operator token names it in the path: \
                 /api/v1/tenants/{tenant_id}/…"
                    .into(),
            )),
        }
    }
}

/// The path's `{id}` as the typed id `T`: an id of another kind, or no id at all, answers 404
/// before any query runs.
pub struct Id<T>(pub T);

impl<T: TypedId + Send> FromRequestParts<AppState> for Id<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let text = path_param(parts, state, "id").await?.ok_or(Error::NotFound(T::NAMES))?;
        T::parse(&text).map(Id).ok_or(Error::NotFound(T::NAMES))
    }
}

/// One named segment of the matched route's path, percent-decoded.
async fn path_param(parts: &mut Parts, state: &AppState, name: &str) -> Result<Option<String>, Error> {
    // A route without parameters has none to give: that is "not in the path", not an error.
    let Ok(params) = RawPathParams::from_request_parts(parts, state).await else { return Ok(None) };
    Ok(params.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string()))
}

/// The path's `{name}` (an event type's): a name no event type could have answers 404.
pub struct Name(pub String);

impl FromRequestParts<AppState> for Name {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let text = path_param(parts, state, "name").await?.ok_or(Error::NotFound("event type"))?;
        Some(text).filter(|t| app::models::valid_event_type(t)).map(Name).ok_or(Error::NotFound("event type"))
    }
}
