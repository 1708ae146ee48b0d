//! One HTTP attempt: the signed request, the bounded capture of the answer, and the error kind
//! read from the error's type (never from its message text).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use reqwest::Url;

use super::retry::parse_retry_after;
use super::slack::{self, Answer, Destination};
pub use crate::message::{Message, USER_AGENT_VALUE};
use crate::signing;
use crate::ssrf::{Blocked, GuardedResolver, TargetPolicy};
use crate::transform::{
    TransformError, Transformed, Transformer, TRANSFORMATION_DROPPED, TRANSFORMATION_FAILED, TRANSFORMATION_UNAVAILABLE,
};

/// Response bodies are kept up to this many bytes.
pub const BODY_LIMIT: usize = 16 * 1024;

/// What an endpoint needs for sending, decrypted once per claimed batch.
#[derive(Debug)]
pub struct Endpoint {
    pub url: Url,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub timeout: Duration,
    pub target: Target,
}

pub enum Target {
    /// A signed webhook: current secret first; the previous one while its grace period lasts;
    /// the endpoint's transformation (a jq program), if it has one.
    Webhook { secrets: Vec<String>, transformation: Option<Arc<str>> },
    /// The Slack connector: a `chat.postMessage` call.
    Slack(Destination),
}

/// Secrets and tokens never reach a log through `{:?}`.
impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Webhook { secrets, .. } => write!(f, "Webhook {{ {} secret(s) }}", secrets.len()),
            Target::Slack(d) => write!(f, "Slack {{ channel: {:?} }}", d.channel),
        }
    }
}

/// A 2xx answer that still says the message was not taken (Slack's `ok: false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Retryable,
    Final,
}

#[derive(Debug, Default)]
pub struct AttemptResult {
    pub status: Option<u16>,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub error_kind: Option<&'static str>,
    pub error_message: Option<String>,
    pub retry_after: Option<Duration>,
    pub refusal: Option<Refusal>,
    pub started_at_ms: i64,
    pub duration_ms: i64,
    /// The endpoint's transformation gave nothing to send: the delivery is done, no request made.
    pub dropped: bool,
}

pub struct Sender {
    client: reqwest::Client,
    /// For Slack's API, whose address is the operator's setting (`IH_SLACK_API_BASE`), not a
    /// tenant's input: the SSRF guard is for the latter, and tests run a fake Slack locally.
    operator_client: reqwest::Client,
    policy: Arc<TargetPolicy>,
    transformer: Arc<Transformer>,
    /// The largest body a transformation may make.
    max_body_bytes: usize,
}

impl Sender {
    pub fn new(policy: Arc<TargetPolicy>, transformer: Arc<Transformer>, max_body_bytes: usize) -> Self {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            // Redirects could lead past the SSRF guard's literal-IP check; receivers get none.
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .no_proxy()
            .build()
            .expect("the HTTP client builds");
        let operator_client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client builds");
        Sender { client, operator_client, policy, transformer, max_body_bytes }
    }

    pub async fn send(&self, endpoint: &Endpoint, message: &Message<'_>) -> AttemptResult {
        let started = Instant::now();
        let mut result = AttemptResult { started_at_ms: crate::time::now_ms(), ..Default::default() };
        let (client, body, headers) = match &endpoint.target {
            Target::Webhook { secrets, transformation } => {
                if let Some(reason) = self.refused_literal(&endpoint.url) {
                    result.error_kind = Some("blocked");
                    result.error_message = Some(reason);
                    return result;
                }
                let (body, extra) = match transformation {
                    None => (message.body(), Vec::new()),
                    // The signature below covers the body as transformed, as sent.
                    Some(program) => match self.transform(program, message).await {
                        Ok(Transformed::Send { body, headers }) => (body, headers),
                        Ok(Transformed::Drop) => {
                            result.dropped = true;
                            result.error_kind = Some(TRANSFORMATION_DROPPED);
                            result.error_message = Some("the transformation gave no output: nothing was sent".into());
                            result.duration_ms = started.elapsed().as_millis() as i64;
                            return result;
                        }
                        // The program's fault would recur on this event: dead-lettered at
                        // once (replay it once the program is fixed). No worker free: retried.
                        Err(TransformError::Program(e)) => {
                            result.error_kind = Some(TRANSFORMATION_FAILED);
                            result.error_message = Some(e);
                            result.refusal = Some(Refusal::Final);
                            result.duration_ms = started.elapsed().as_millis() as i64;
                            return result;
                        }
                        Err(TransformError::Unavailable(e)) => {
                            result.error_kind = Some(TRANSFORMATION_UNAVAILABLE);
                            result.error_message = Some(e);
                            result.duration_ms = started.elapsed().as_millis() as i64;
                            return result;
                        }
                    },
                };
                let headers = signed_headers(endpoint, secrets, message, &body, &extra, result.started_at_ms / 1000);
                (&self.client, body, headers)
            }
            Target::Slack(destination) => {
                let (body, headers) = slack::request(destination, message);
                (&self.operator_client, body, headers)
            }
        };
        let sent = client.post(endpoint.url.clone()).headers(headers).timeout(endpoint.timeout).body(body).send().await;
        match sent {
            Ok(mut response) => {
                result.status = Some(response.status().as_u16());
                result.retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
                result.headers = response
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                    .collect();
                let mut captured = Vec::new();
                loop {
                    match response.chunk().await {
                        Ok(Some(chunk)) => {
                            let room = BODY_LIMIT - captured.len();
                            captured.extend_from_slice(&chunk[..chunk.len().min(room)]);
                            if captured.len() >= BODY_LIMIT {
                                break;
                            }
                        }
                        Ok(None) => break,
                        // The status already counts; a broken body is only noted.
                        Err(e) => {
                            result.error_kind = Some(error_kind(&e));
                            result.error_message = Some(format!("reading the response body: {e}"));
                            break;
                        }
                    }
                }
                let body = String::from_utf8_lossy(&captured).into_owned();
                if matches!(endpoint.target, Target::Slack(_)) && response_ok(result.status) {
                    judge_slack_answer(&mut result, &body);
                }
                result.body = Some(body);
            }
            Err(e) => {
                result.error_kind = Some(error_kind(&e));
                result.error_message = Some(describe(&e));
            }
        }
        result.duration_ms = started.elapsed().as_millis() as i64;
        result
    }

    async fn transform(&self, program: &str, message: &Message<'_>) -> Result<Transformed, TransformError> {
        let event: serde_json::Value = serde_json::from_str(&message.body())
            .map_err(|e| TransformError::Program(format!("the event is not JSON: {e}")))?;
        self.transformer.apply(program, event, self.max_body_bytes).await
    }

    /// reqwest does not resolve literal IPs, so the resolver's guard must be repeated here.
    fn refused_literal(&self, url: &Url) -> Option<String> {
        self.policy.refused_literal(url).map(|ip| Blocked(ip.to_string()).to_string())
    }
}

fn response_ok(status: Option<u16>) -> bool {
    status.is_some_and(|s| (200..300).contains(&s))
}

/// Slack answers 200 to most failures and says so in the body.
fn judge_slack_answer(result: &mut AttemptResult, body: &str) {
    let (answer, message) = slack::read_answer(body);
    let (kind, refusal) = match answer {
        Answer::Posted => return,
        Answer::Retryable(kind) => (kind, Refusal::Retryable),
        Answer::Final(kind) => (kind, Refusal::Final),
    };
    result.error_kind = Some(kind);
    result.error_message = message;
    result.refusal = Some(refusal);
}

fn signed_headers(
    endpoint: &Endpoint,
    secrets: &[String],
    message: &Message<'_>,
    body: &str,
    extra: &[(String, String)],
    timestamp: i64,
) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(12 + endpoint.headers.len() + extra.len());
    for (name, value) in &endpoint.headers {
        headers.insert(name.clone(), value.clone());
    }
    // A transformation's headers: after the endpoint's, before the hub's own (which it cannot
    // replace); never the framing or the host.
    for (name, value) in extra {
        let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) else {
            continue;
        };
        if !matches!(name.as_str(), "host" | "content-length" | "transfer-encoding" | "connection") {
            headers.insert(name, value);
        }
    }
    let standard = secrets
        .iter()
        .map(|s| signing::standard_signature(&signing::standard_key(s), message.event_id, timestamp, body.as_bytes()))
        .collect::<Vec<_>>()
        .join(" ");
    // The classic header carries one signature, so during a rotation's grace period it keeps the
    // previous secret (receivers using the classic check go on verifying until they switch) and
    // `X-Webhook-Signature-Next` carries the new one; afterwards the new one alone.
    let classic_with = |s: &String| signing::classic_signature(s, timestamp, body.as_bytes());
    let (classic, next) = match secrets {
        [current, previous, ..] => (classic_with(previous), Some(classic_with(current))),
        [current] => (classic_with(current), None),
        [] => (String::new(), None),
    };
    let value = |s: &str| HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""));
    let ts = timestamp.to_string();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    headers.insert("webhook-id", value(message.event_id));
    headers.insert("webhook-timestamp", value(&ts));
    headers.insert("webhook-signature", value(&standard));
    headers.insert("x-webhook-signature", value(&classic));
    if let Some(next) = next {
        headers.insert("x-webhook-signature-next", value(&next));
    }
    headers.insert("x-webhook-timestamp", value(&ts));
    headers.insert("x-webhook-event", value(message.event_type));
    headers.insert("x-webhook-event-id", value(message.event_id));
    if let Some(traceparent) = message.traceparent {
        headers.insert("traceparent", value(traceparent));
    }
    headers
}

fn error_kind(e: &reqwest::Error) -> &'static str {
    if source_is::<Blocked>(e) {
        "blocked"
    } else if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    }
}

fn source_is<T: std::error::Error + 'static>(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(e);
    while let Some(err) = current {
        if err.is::<T>() {
            return true;
        }
        current = err.source();
    }
    false
}

/// The error with its causes, which reqwest keeps in the source chain.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_wraps_the_payload_as_data() {
        let message = Message {
            event_id: "evt_1",
            event_type: "new_lead",
            created_at_ms: 0,
            payload: r#"{"a":1}"#,
            traceparent: None,
        };
        let body: serde_json::Value = serde_json::from_str(&message.body()).unwrap();
        assert_eq!(body["id"], "evt_1");
        assert_eq!(body["type"], "new_lead");
        assert_eq!(body["event"], "new_lead", "receivers written for {{event, timestamp, data}} read it too");
        assert_eq!(body["timestamp"], "1970-01-01T00:00:00.000Z");
        assert_eq!(body["data"]["a"], 1);
    }
}
