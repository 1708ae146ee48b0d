//! Integrations Hub quick start in Rust.
//!
//! Starts a receiver on 127.0.0.1, subscribes it to `new_lead`, publishes a lead, and verifies
//! both signatures of the delivery (Standard Webhooks and the classic `X-Webhook-Signature`) with
//! nothing but HMAC-SHA256, base64 and hex. Exits 0 when the delivery arrived and verified.
//! Env: `IH_URL` (default `http://127.0.0.1:3000`), `IH_API_KEY`.

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::sync::mpsc;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Refuse deliveries signed more than 5 minutes from now.
const TOLERANCE_SECONDS: i64 = 300;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Error> {
    let hub = std::env::var("IH_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let key = std::env::var("IH_API_KEY").map_err(|_| "set IH_API_KEY to an API key (sk_...)")?;
    let api = Api { http: reqwest::Client::new(), hub: hub.trim_end_matches('/').into(), key };

    // The receiver: verifies each delivery, answers, and hands it to `rx`.
    let secret = Arc::new(OnceLock::new());
    let (tx, mut rx) = mpsc::channel(8);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/webhooks", listener.local_addr()?);
    let app = axum::Router::new().route("/webhooks", post(receive)).with_state(Receiver { secret: secret.clone(), tx });
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The key-scoped route: the endpoint belongs to the key's tenant. The hub generates a
    // `whsec_` secret, which the endpoint's secret route reveals.
    let endpoint =
        api.call(Method::POST, "/api/v1/subscriptions", Some(json!({"url": url, "events": ["new_lead"]}))).await?;
    let path = format!("/api/v1/tenants/{}/webhooks/{}", text(&endpoint["tenant_id"]), text(&endpoint["id"]));
    println!("endpoint {} -> {url}", text(&endpoint["id"]));
    let outcome = publish_and_verify(&api, &path, &secret, &mut rx).await;
    api.call(Method::DELETE, &path, None).await?;
    outcome
}

async fn publish_and_verify(
    api: &Api,
    path: &str,
    secret: &OnceLock<String>,
    rx: &mut mpsc::Receiver<Delivery>,
) -> Result<(), Error> {
    let revealed = api.call(Method::GET, &format!("{path}/secret"), None).await?;
    secret.set(text(&revealed["secret"]).into()).expect("set once");
    let lead = json!({"lead_id": "lead_42", "name": "Ada Lovelace", "email": "ada@example.com",
                      "company": "Analytical Engines", "source": "rust-quickstart"});
    let event =
        api.call(Method::POST, "/api/v1/events", Some(json!({"event_type": "new_lead", "payload": lead}))).await?;
    println!("published {} ({} deliveries)", text(&event["id"]), event["deliveries"].as_array().map_or(0, Vec::len));

    let delivery = tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .map_err(|_| "no delivery within 30 s")?
        .ok_or("the receiver stopped")?;
    let webhook_id = delivery.headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let verdict = |ok| if ok { "valid" } else { "INVALID" };
    println!("received webhook-id {webhook_id}: {}", String::from_utf8_lossy(&delivery.body));
    println!("Standard Webhooks signature: {}", verdict(delivery.standard_ok));
    println!("X-Webhook-Signature:         {}", verdict(delivery.classic_ok));
    if !(delivery.standard_ok && delivery.classic_ok) || webhook_id != text(&event["id"]) {
        return Err("verification failed".into());
    }
    if serde_json::from_slice::<Value>(&delivery.body)?["data"] != lead {
        return Err("the payload differs from what was published".into());
    }
    println!("ok");
    Ok(())
}

struct Delivery {
    headers: HeaderMap,
    body: Bytes,
    standard_ok: bool,
    classic_ok: bool,
}

#[derive(Clone)]
struct Receiver {
    secret: Arc<OnceLock<String>>,
    tx: mpsc::Sender<Delivery>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let secret = r.secret.get().map_or("", String::as_str);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let (id, ts, signatures) = (header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"));
    let standard_ok = verify_standard(secret, id, ts, signatures, &body);
    let classic_ok = verify_classic(secret, header("x-webhook-timestamp"), header("x-webhook-signature"), &body);
    let _ = r.tx.send(Delivery { headers, body, standard_ok, classic_ok }).await;
    // A 4xx tells the hub not to retry.
    if standard_ok && classic_ok {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::UNAUTHORIZED
    }
}

/// `webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, space-separated.
/// The key is the base64 after `whsec_`, or a custom secret's own bytes.
fn verify_standard(secret: &str, id: &str, ts: &str, signatures: &str, body: &[u8]) -> bool {
    let key =
        secret.strip_prefix("whsec_").and_then(|b| B64.decode(b).ok()).unwrap_or_else(|| secret.as_bytes().into());
    fresh(ts)
        && signatures
            .split(' ')
            .filter_map(|s| s.strip_prefix("v1,"))
            .filter_map(|s| B64.decode(s).ok())
            // verify_slice compares in constant time.
            .any(|sig| hmac_sha256(&key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]).verify_slice(&sig).is_ok())
}

/// `X-Webhook-Signature`: hex HMAC-SHA256 of `"{timestamp}.{body}"`, keyed by the secret's bytes.
fn verify_classic(secret: &str, ts: &str, signature: &str, body: &[u8]) -> bool {
    fresh(ts)
        && hex::decode(signature)
            .is_ok_and(|sig| hmac_sha256(secret.as_bytes(), &[ts.as_bytes(), b".", body]).verify_slice(&sig).is_ok())
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    for part in parts {
        mac.update(part);
    }
    mac
}

fn fresh(ts: &str) -> bool {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    ts.parse::<i64>().is_ok_and(|ts| (now - ts).abs() <= TOLERANCE_SECONDS)
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The hub's REST API with an API key.
struct Api {
    http: reqwest::Client,
    hub: String,
    key: String,
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, Error> {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.hub)).bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| format!("cannot reach the hub at {}: {e}", self.hub))?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            return Err(format!("{method} {path}: {status} {body}").into());
        }
        Ok(if body.is_empty() { Value::Null } else { serde_json::from_str(&body)? })
    }
}
