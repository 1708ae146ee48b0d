//! What a request says, read into the typed models: JSON bodies, query strings and path
//! segments. Every refusal is a problem document that names the field or parameter at fault.
//! Shared by the REST API and the UI adapter (the UI's live stream reads its query here too).

use axum::body::Bytes;
use axum::extract::FromRequest;

use crate::error::Error;

/// A JSON body, or a JSON answer. As a body its refusals are problem documents: 415 when not
/// sent as JSON, 413 over the size limit, 400 when it does not parse, and 422 naming the field
/// whose value does not fit (axum's own `Json` names only "the body"). As an answer it is
/// written by `http::json_bytes` (its `IntoResponse` is beside that).
pub struct Json<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Error> {
        if !sent_as_json(request.headers()) {
            return Err(not_json());
        }
        read_json(&body_of(request, state).await?).map(Json)
    }
}

/// A JSON body that may be left out (an empty body means the defaults); when given, it is
/// read as [`Json`] is.
pub struct OptionalJson<T>(pub T);

impl<T: serde::de::DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = Error;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Error> {
        let json = sent_as_json(request.headers());
        let body = body_of(request, state).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !json {
            return Err(not_json());
        }
        read_json(&body).map(OptionalJson)
    }
}

/// Whether the body is sent as JSON: `application/json`, or a `+json` type such as
/// `application/merge-patch+json`.
fn sent_as_json(headers: &http::HeaderMap) -> bool {
    let content_type = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let essence = content_type.unwrap_or_default().split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The whole body, within the route's size limit (413 over it).
async fn body_of<S: Send + Sync>(request: axum::extract::Request, state: &S) -> Result<Bytes, Error> {
    Bytes::from_request(request, state).await.map_err(|e| match e.status() {
        http::StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge("the request body is too large".into()),
        _ => Error::BadRequest(e.body_text()),
    })
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

/// `?limit=&cursor=` of every list.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
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

/// `Path` with a problem-format refusal. The routes' ids are strings, so the one refusal a
/// request can cause is a segment that is not UTF-8 once percent-decoded (`/webhooks/%FF`):
/// axum answers that in plain text, which an integrator's problem+json parser cannot read.
pub struct Path<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut http::request::Parts, state: &S) -> Result<Self, Error> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => match e.into_kind() {
                ErrorKind::InvalidUtf8InPathParam { key } => {
                    Err(Error::BadRequest(format!("the path's {key} is not UTF-8 once percent-decoded")))
                }
                // Any other kind is a route whose parameters do not match its handler: a bug.
                kind => Err(Error::internal("path parameters", kind)),
            },
            Err(e) => Err(Error::internal("path parameters", e.body_text())),
        }
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
}
