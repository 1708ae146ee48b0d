//! The REST API: one module per area, each with its `router()`, merged here.

mod audit;
mod auth;
mod connectors;
mod deliveries;
mod echo;
mod events;
mod idempotency;
mod keys;
pub mod openapi;
mod replay;
mod system;
mod tenants;
mod webhooks;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRef, FromRequest};
use axum::response::Response;
use axum::Router;
use leptos::config::LeptosOptions;

pub use auth::{Authenticate, Caller};

use crate::delivery::Worker;
use crate::domain::Hub;
use crate::error::Error;

/// axum clones it for every handler call, so every field is one `Arc`: the
/// Leptos options alone are a dozen strings, which only the UI's routes need.
#[derive(Clone)]
pub struct AppState {
    pub hub: Hub,
    pub worker: Arc<Worker>,
    pub leptos: Arc<LeptosOptions>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        LeptosOptions::clone(&state.leptos)
    }
}

/// A JSON body, or a JSON answer. As a body its refusals are problem documents: 415 when not
/// sent as JSON, 413 over the size limit, 400 when it does not parse, and 422 naming the field
/// whose value does not fit (axum's own `Json` names only "the body").
pub struct Json<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Error> {
        let (json, body) = json_body(request, state).await?;
        if !json {
            return Err(not_json());
        }
        read_json(&body).map(Json)
    }
}

/// A JSON body that may be left out (an empty body means the defaults); when given, it is
/// read as [`Json`] is.
pub struct OptionalJson<T>(pub T);

impl<T: serde::de::DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = Error;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Error> {
        let (json, body) = json_body(request, state).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !json {
            return Err(not_json());
        }
        read_json(&body).map(OptionalJson)
    }
}

/// Whether the body was sent as JSON (`application/json`, or a `+json` type such as
/// `application/merge-patch+json`), and the body itself.
async fn json_body<S: Send + Sync>(request: axum::extract::Request, state: &S) -> Result<(bool, Bytes), Error> {
    let content_type = request.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let essence = content_type.unwrap_or_default().split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let json = essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"));
    let body = Bytes::from_request(request, state).await.map_err(|e| match e.status() {
        http::StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge("the request body is too large".into()),
        _ => Error::BadRequest(e.body_text()),
    })?;
    Ok((json, body))
}

fn not_json() -> Error {
    Error::UnsupportedMediaType("expected Content-Type: application/json".into())
}

/// Parses a JSON body: a value of the wrong type or a missing field is a 422 naming its path
/// (`max_attempts`, `events[2]`), anything that is not JSON a 400.
fn read_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    // Every body of this API is an object; serde would also read a struct from an array of its
    // fields in order (`["https://…", ["*"]]`), which no integrator means.
    if body.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|&b| b != b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
    {
        return Err(Error::field("body", "must be a JSON object"));
    }
    let mut json = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = e.path().to_string();
        let cause = e.into_inner();
        if cause.classify() != serde_json::error::Category::Data {
            return Error::BadRequest(cause.to_string());
        }
        // A missing field is reported at the object that lacks it; serde's message names it.
        let message = cause.to_string();
        let missing =
            message.strip_prefix("missing field `").and_then(|rest| rest.split_once('`')).map(|(name, _)| name);
        match (path.as_str(), missing) {
            (".", Some(name)) => Error::field(name, "required"),
            (".", None) => Error::field("body", message),
            (_, Some(name)) => Error::field(&format!("{path}.{name}"), "required"),
            (_, None) => Error::field(&path, message),
        }
    })?;
    json.end().map_err(|e| Error::BadRequest(e.to_string()))?; // trailing characters
    Ok(value)
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => json_bytes(body.into()),
            Err(e) => Error::Internal(format!("the answer did not serialise: {e}")).into_response(),
        }
    }
}

/// Room for the headers of an authenticated JSON answer: content-type, the content-length axum
/// adds, and the five rate-limit headers. A `HeaderMap` first allocates for 6 and would otherwise
/// grow (allocate again and re-hash) on every authenticated answer.
const ANSWER_HEADERS: usize = 7;

/// A JSON answer (also of JSON serialised beforehand).
pub fn json_bytes(body: Bytes) -> Response {
    let mut headers = http::HeaderMap::with_capacity(ANSWER_HEADERS);
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    let mut response = Response::new(Body::from(body));
    *response.headers_mut() = headers;
    response
}

/// `?limit=&cursor=` of every list.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The REST routes. Those under `/api/v1/` are authenticated by [`authenticate`], which wraps
/// the finished router.
pub fn api_router() -> Router<AppState> {
    let authenticated = Router::new()
        .merge(tenants::router())
        .merge(keys::router())
        .merge(webhooks::router())
        .merge(events::router())
        .merge(deliveries::router())
        .merge(replay::router())
        .merge(echo::router())
        .merge(audit::router())
        .merge(connectors::router());
    Router::new()
        .merge(system::router())
        .merge(openapi::router())
        .merge(echo::public_router())
        .merge(authenticated)
        .method_not_allowed_fallback(method_not_allowed)
}

/// A path that exists but does not take this method: a problem like every other error (axum's
/// own answer is an empty body); axum still sets `Allow`.
async fn method_not_allowed(method: http::Method) -> Error {
    Error::MethodNotAllowed(format!("this path does not take {method}; the Allow header lists what it takes"))
}

/// The whole router behind the layer that authenticates, rate-limits and replays idempotent POSTs
/// on `/api/v1/`. It wraps the router rather than the REST routes (`Router::layer`) because axum
/// boxes a layered route once more on every request: measured with bench/auth-instructions.sh,
/// that was 1,487 instructions of each authenticated request.
pub fn authenticate(router: Router, hub: Hub) -> Authenticate<Router> {
    tower::Layer::layer(&auth::AuthLayer(hub), router)
}

/// `Query` with problem-format rejections that name the parameter. A parameter given with an
/// empty value (`?limit=&status=`, as an HTML form sends an empty field) is read as left out,
/// so it takes its default instead of being refused as an integer or a status it is not.
pub struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut http::request::Parts, _state: &S) -> Result<Self, Error> {
        read_query(parts.uri.query().unwrap_or_default()).map(Query)
    }
}

fn read_query<T: serde::de::DeserializeOwned>(query: &str) -> Result<T, Error> {
    // Splitting the raw string is safe: a `&` or `=` inside a value is percent-encoded.
    let given = query.split('&').filter(|pair| pair.split_once('=').is_some_and(|(_, value)| !value.is_empty()));
    let given = given.collect::<Vec<_>>().join("&");
    let parameters = serde_urlencoded::Deserializer::new(form_urlencoded::parse(given.as_bytes()));
    serde_path_to_error::deserialize(parameters).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "query" } else { &path };
        Error::field(field, e.inner().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Params {
        limit: Option<i64>,
        status: Option<String>,
    }

    #[test]
    fn a_query_reads_empty_values_as_left_out_and_names_a_bad_parameter() {
        let params: Params = read_query("limit=&status").unwrap();
        assert_eq!((params.limit, params.status), (None, None));
        let params: Params = read_query("status=a%26b%3D&limit=7").unwrap();
        assert_eq!((params.limit, params.status.as_deref()), (Some(7), Some("a&b=")));
        let Err(Error::Validation(errors)) = read_query::<Params>("status=x&limit=seven") else { panic!("accepted") };
        assert_eq!(errors[0].field, "limit", "{errors:?}");
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)] // read for the errors only
    struct Body {
        url: String,
        headers: Option<std::collections::BTreeMap<String, String>>,
    }

    #[test]
    fn a_json_body_is_an_object_and_a_refusal_names_the_field_by_its_path() {
        let field = |body: &str| match read_json::<Body>(body.as_bytes()) {
            Err(Error::Validation(errors)) => errors[0].field.clone(),
            other => panic!("{body}: {other:?}"),
        };
        assert_eq!(field(r#"{"headers": {}}"#), "url");
        assert_eq!(field(r#"{"url": "u", "headers": {"X-Team": 5}}"#), "headers.X-Team");
        assert_eq!(field(r#"["u", null]"#), "body");
        assert!(matches!(read_json::<Body>(b"[nope"), Err(Error::BadRequest(_))));
        assert!(matches!(read_json::<Body>(br#"{"url": "u"} {}"#), Err(Error::BadRequest(_))));
        assert_eq!(read_json::<Body>(br#" {"url": "u"} "#).unwrap().url, "u");
    }

    #[test]
    fn a_json_answer_has_room_for_the_headers_authentication_adds() {
        let response = json_bytes(Bytes::from_static(b"{}"));
        assert_eq!(response.headers()["content-type"], "application/json");
        // content-type, content-length and the five rate-limit headers, without growing.
        assert!(response.headers().capacity() >= ANSWER_HEADERS, "{}", response.headers().capacity());
    }
}
