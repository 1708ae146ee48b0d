//! The Slack connector's side of a delivery: the `chat.postMessage` request built from an
//! event, and Slack's answer read the way Slack means it — HTTP 200 with `"ok": false` is a
//! failure, a few kinds of which are worth retrying and the rest final.

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use serde_json::{json, Value};

use crate::message::{Message, USER_AGENT_VALUE};

/// Where and as whom a Slack message is posted, decrypted once per claimed batch.
pub struct Destination {
    pub token: String,
    pub channel: String,
    /// The tenant's pages in the admin UI (`{IH_PUBLIC_URL}/tenants/{id}`), for links back.
    pub tenant_url: String,
}

/// `chat.postMessage` under the configured API base.
pub fn post_message_url(api_base: &str) -> String {
    format!("{}/chat.postMessage", api_base.trim_end_matches('/'))
}

/// `ok: false` errors that may succeed later. `ratelimited` normally comes as HTTP 429 with
/// `Retry-After`, which the retry rules already honour; Slack also documents it in the body.
const RETRYABLE: [&str; 7] = [
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
];

/// `ok: false` errors that no retry will fix: the token, the channel or the message is wrong.
const FINAL: [&str; 20] = [
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
    "missing_scope",
    "not_allowed_token_type",
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "msg_too_long",
    "no_text",
    "invalid_blocks",
    "invalid_arguments",
    "invalid_charset",
    "restricted_action",
    "too_many_attachments",
    "duplicate_channel_not_found",
    "ekm_access_denied",
];

/// What Slack's answer to a 2xx response means.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    Posted,
    /// Slack's error code (from the lists above, or `slack_error` for one we do not know).
    Retryable(&'static str),
    Final(&'static str),
}

/// Reads the body of a 2xx answer. An unknown error is final: retrying what Slack refused for
/// a reason we cannot name would only repeat the refusal (Slack's own SDKs do the same).
pub fn read_answer(body: &str) -> (Answer, Option<String>) {
    let Ok(answer) = serde_json::from_str::<Value>(body) else {
        return (Answer::Final("slack_error"), Some("Slack's answer is not JSON".into()));
    };
    if answer["ok"] == Value::Bool(true) {
        return (Answer::Posted, None);
    }
    let code = answer["error"].as_str().unwrap_or("");
    let message = Some(format!("Slack answered ok: false, error: {}", if code.is_empty() { "(none)" } else { code }));
    if let Some(known) = RETRYABLE.iter().find(|c| **c == code) {
        return (Answer::Retryable(known), message);
    }
    (Answer::Final(FINAL.iter().find(|c| **c == code).copied().unwrap_or("slack_error")), message)
}

/// The request: a bearer token, and the message as JSON.
pub fn request(destination: &Destination, message: &Message<'_>) -> (String, HeaderMap) {
    let body = post_message(destination, message).to_string();
    let mut headers = HeaderMap::with_capacity(3);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    if let Ok(mut bearer) = HeaderValue::from_str(&format!("Bearer {}", destination.token)) {
        bearer.set_sensitive(true);
        headers.insert(AUTHORIZATION, bearer);
    }
    (body, headers)
}

/// The `chat.postMessage` body: a title, who asked, what they asked, and a link back, as
/// Block Kit with a plain `text` for notifications and clients without blocks.
pub fn post_message(destination: &Destination, message: &Message<'_>) -> Value {
    let data: Value = serde_json::from_str(message.payload).unwrap_or(Value::Null);
    let card = Card::of(message, &data, &destination.tenant_url);
    let mut blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "text": clip(&card.title, 150), "emoji": true } }),
    ];
    let mut fields = Vec::new();
    for (label, value) in &card.facts {
        fields.push(json!({ "type": "mrkdwn", "text": clip(&format!("*{label}*\n{}", escape(value)), 2000) }));
    }
    fields.push(json!({ "type": "mrkdwn", "text": format!("*Event*\n`{}`", message.event_type) }));
    blocks.push(json!({ "type": "section", "fields": fields }));
    if let Some(description) = &card.description {
        blocks
            .push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": clip(&escape(description), 3000) } }));
    }
    blocks.push(json!({ "type": "context", "elements": [{ "type": "mrkdwn",
        "text": format!("<{}|{}> · {}", escape(&card.link), card.link_label, message.event_id) }] }));
    let mut text = card.title.clone();
    if let Some((_, who)) = card.facts.first() {
        text.push_str(" — ");
        text.push_str(who);
    }
    json!({ "channel": destination.channel, "text": clip(&text, 3000), "blocks": blocks, "unfurl_links": false, "unfurl_media": false })
}

/// What a message says, read from the event's payload by the names integrators use.
struct Card {
    title: String,
    facts: Vec<(&'static str, String)>,
    description: Option<String>,
    link: String,
    link_label: &'static str,
}

impl Card {
    fn of(message: &Message<'_>, data: &Value, tenant_url: &str) -> Card {
        let event_type = message.event_type;
        let text = |keys: &[&str]| keys.iter().find_map(|k| plain(&data[*k]));
        match event_type {
            "webhook.failing" | "webhook.disabled" => {
                let failing = event_type == "webhook.failing";
                let mut facts = vec![("Endpoint", text(&["url", "webhook_id"]).unwrap_or_else(|| "(unknown)".into()))];
                if let Some(n) = data["consecutive_failures"].as_i64() {
                    facts.push(("Consecutive failures", n.to_string()));
                }
                Card {
                    title: if failing {
                        "⚠️ A webhook endpoint is failing"
                    } else {
                        "⛔ A webhook endpoint was disabled"
                    }
                    .into(),
                    facts,
                    description: text(&["reason", "last_error"]),
                    link: format!("{tenant_url}/webhooks"),
                    link_label: "Open the webhooks",
                }
            }
            "delivery.dead_lettered" => Card {
                title: "A delivery was dead-lettered".into(),
                facts: vec![("Event type", text(&["event_type"]).unwrap_or_default())],
                description: text(&["last_error"]),
                // The dead letters of the event that was dead-lettered, when the alert names one
                // of our ids (which need no escaping in a URL).
                link: match text(&["event_id"]).filter(|id| crate::ids::has_prefix(id, crate::ids::EVENT)) {
                    Some(id) => format!("{tenant_url}/dead-letters?event_id={id}"),
                    None => format!("{tenant_url}/dead-letters"),
                },
                link_label: "Open the dead letters",
            },
            _ => {
                let mut facts = Vec::new();
                if let Some(who) = requester(data) {
                    facts.push(("Requester", who));
                }
                Card {
                    title: text(&["title", "subject", "name", "summary"]).unwrap_or_else(|| humanize(event_type)),
                    facts,
                    description: text(&["description", "details", "message", "body", "notes"]),
                    link: text(&["url", "link", "html_url"])
                        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                        .unwrap_or_else(|| format!("{tenant_url}/deliveries?event_id={}", message.event_id)),
                    link_label: "Open",
                }
            }
        }
    }
}

/// `requester` as a string, or as an object with a name and an email, or one of its synonyms.
fn requester(data: &Value) -> Option<String> {
    ["requester", "requested_by", "submitted_by", "user", "customer", "contact"]
        .iter()
        .find_map(|k| {
            let v = &data[*k];
            plain(v).or_else(|| {
                let name = plain(&v["name"]).or_else(|| plain(&v["full_name"]));
                let email = plain(&v["email"]);
                match (name, email) {
                    (Some(n), Some(e)) => Some(format!("{n} <{e}>")),
                    (n, e) => n.or(e),
                }
            })
        })
        .or_else(|| plain(&data["email"]))
}

fn plain(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `request_submitted` → "Request submitted".
fn humanize(event_type: &str) -> String {
    let words = event_type.replace(['_', '.', '-'], " ");
    let mut chars = words.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Slack's mrkdwn treats `&`, `<` and `>` as control characters.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// At most `max` characters (Slack rejects longer block texts), marked when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination() -> Destination {
        Destination {
            token: "xoxb-1".into(),
            channel: "#requests".into(),
            tenant_url: "https://hub.example/tenants/tnt_1".into(),
        }
    }

    fn message<'a>(event_type: &'a str, payload: &'a str) -> Message<'a> {
        Message { event_id: "evt_1", event_type, created_at_ms: 0, payload, traceparent: None }
    }

    #[test]
    fn a_request_reads_as_a_title_a_requester_a_description_and_a_link() {
        let payload = r#"{"title":"Laptop for Ada","requester":{"name":"Ada","email":"ada@example.com"},"description":"A <b>fast</b> one & a bag","url":"https://app.example/requests/7"}"#;
        let body = post_message(&destination(), &message("request_submitted", payload));
        assert_eq!(body["channel"], "#requests");
        assert_eq!(body["text"], "Laptop for Ada — Ada <ada@example.com>");
        let blocks = body["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["text"]["text"], "Laptop for Ada");
        assert_eq!(blocks[1]["fields"][0]["text"], "*Requester*\nAda &lt;ada@example.com&gt;");
        assert_eq!(blocks[2]["text"]["text"], "A &lt;b&gt;fast&lt;/b&gt; one &amp; a bag");
        assert!(blocks[3]["elements"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("<https://app.example/requests/7|Open>"));
    }

    #[test]
    fn a_bare_payload_still_makes_a_message_with_a_link_to_the_hub() {
        let body = post_message(&destination(), &message("request_submitted", "{}"));
        assert_eq!(body["text"], "Request submitted");
        let link = body["blocks"][2]["elements"][0]["text"].as_str().unwrap();
        assert!(link.starts_with("<https://hub.example/tenants/tnt_1/deliveries?event_id=evt_1|"), "{link}");
    }

    #[test]
    fn a_dead_letter_alert_links_to_the_dead_letters_of_its_event() {
        let link = |payload: &str| {
            let body = post_message(&destination(), &message("delivery.dead_lettered", payload));
            let context = body["blocks"].as_array().unwrap().last().unwrap().clone();
            context["elements"][0]["text"].as_str().unwrap().to_string()
        };
        let event = "evt_01KAZ4N3V9Q3DB0YJ7W8X2M5PT";
        assert!(link(&format!(r#"{{"event_id":"{event}","last_error":"HTTP 500"}}"#))
            .starts_with(&format!("<https://hub.example/tenants/tnt_1/dead-letters?event_id={event}|")));
        // Not one of our ids: the whole list, never a crafted query.
        assert!(link(r#"{"event_id":"x&y","last_error":"HTTP 500"}"#)
            .starts_with("<https://hub.example/tenants/tnt_1/dead-letters|"));
    }

    #[test]
    fn an_alert_names_the_endpoint_and_the_streak() {
        let payload =
            r#"{"webhook_id":"wh_1","url":"https://x.example/hook","consecutive_failures":5,"last_error":"HTTP 500"}"#;
        let body = post_message(&destination(), &message("webhook.failing", payload));
        assert_eq!(body["blocks"][0]["text"]["text"], "⚠️ A webhook endpoint is failing");
        assert_eq!(body["blocks"][1]["fields"][1]["text"], "*Consecutive failures*\n5");
        assert_eq!(body["blocks"][2]["text"]["text"], "HTTP 500");
    }

    #[test]
    fn long_texts_are_cut_to_slacks_limits() {
        let payload = serde_json::json!({ "title": "t".repeat(400), "description": "d".repeat(5000) }).to_string();
        let body = post_message(&destination(), &message("new_lead", &payload));
        assert_eq!(body["blocks"][0]["text"]["text"].as_str().unwrap().chars().count(), 150);
        assert_eq!(body["blocks"][2]["text"]["text"].as_str().unwrap().chars().count(), 3000);
    }

    #[test]
    fn slacks_errors_are_retryable_or_final() {
        assert_eq!(read_answer(r#"{"ok":true,"ts":"1.2"}"#).0, Answer::Posted);
        assert_eq!(read_answer(r#"{"ok":false,"error":"ratelimited"}"#).0, Answer::Retryable("ratelimited"));
        assert_eq!(read_answer(r#"{"ok":false,"error":"internal_error"}"#).0, Answer::Retryable("internal_error"));
        assert_eq!(read_answer(r#"{"ok":false,"error":"channel_not_found"}"#).0, Answer::Final("channel_not_found"));
        assert_eq!(read_answer(r#"{"ok":false,"error":"invalid_auth"}"#).0, Answer::Final("invalid_auth"));
        assert_eq!(read_answer(r#"{"ok":false,"error":"something_new"}"#).0, Answer::Final("slack_error"));
        assert_eq!(read_answer("<html>").0, Answer::Final("slack_error"));
    }

    #[test]
    fn the_token_is_a_bearer_header_marked_sensitive() {
        let (_, headers) = request(&destination(), &message("new_lead", "{}"));
        assert_eq!(headers[AUTHORIZATION], "Bearer xoxb-1");
        assert!(headers[AUTHORIZATION].is_sensitive());
        assert!(headers[CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
    }
}
