//! Typed models shared by the REST API, the server functions and the UI, so the three can never
//! disagree about a field. Naming follows `*In` (create), `*Patch` (update), `*Out` (read).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::ids::{ApiKeyId, AttemptId, DeliveryId, EventId, TenantId, TypedId, WebhookId};

/// Milliseconds since the Unix epoch; what the stores keep, rendered as RFC 3339 at the edge.
pub type Timestamp = String;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TenantIn {
    #[cfg_attr(feature = "ssr", schemars(length(min = 1, max = limits::TENANT_NAME)))]
    pub name: String,
}

/// The bounds the API enforces on input, here so that the checks and the OpenAPI schemas
/// (`schemars` attributes on the input models) share one number.
pub mod limits {
    /// Characters of a tenant's name (after trimming).
    pub const TENANT_NAME: usize = 200;
    /// Characters of an API key's name (after trimming).
    pub const KEY_NAME: usize = 100;
    /// Requests a minute an API key may be given.
    pub const RATE_LIMIT_PER_MINUTE: i64 = 1_000_000;
    /// Addresses or CIDRs in an API key's allow-list: every request of the key is checked
    /// against each, so the list is bounded.
    pub const ALLOWED_IPS: usize = 100;
    /// Seconds the old key or secret keeps working after a rotation (30 days).
    pub const GRACE_PERIOD_SECONDS: i64 = 30 * 86_400;
    /// Characters of an endpoint's URL.
    pub const URL: usize = 2048;
    /// Maintenance windows of one endpoint.
    pub const MAINTENANCE_WINDOWS: usize = 20;
    /// Characters of a signing secret given by the caller (and at most 256 bytes).
    pub const SECRET_MIN: usize = 16;
    pub const SECRET_MAX: usize = 256;
    /// Characters of an endpoint's description.
    pub const DESCRIPTION: usize = 500;
    /// A lead's name, e-mail address, and its other text fields (lead routes).
    pub const LEAD_NAME: usize = 200;
    pub const LEAD_EMAIL: usize = 254;
    pub const LEAD_FIELD: usize = 200;
    /// Characters of an endpoint's display name.
    pub const WEBHOOK_NAME: usize = 100;
    /// Custom headers of an endpoint.
    pub const HEADERS: usize = 20;
    /// An endpoint's retry settings: attempts, backoff base and timeout.
    pub const MAX_ATTEMPTS: i64 = 100;
    pub const BACKOFF_BASE_SECONDS: i64 = 86_400;
    pub const TIMEOUT_SECONDS: i64 = 120;
    /// Sends a second an endpoint may be limited to.
    pub const RATE_PER_SECOND: i64 = 10_000;
    /// Characters of an event type's name.
    pub const EVENT_TYPE: usize = 100;
    /// Event types and families an endpoint subscribes to: each event published is matched
    /// against each, so the list is bounded (`*` and families such as `invoice.*` cover more).
    pub const EVENT_FILTERS: usize = 256;
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TenantOut {
    pub id: TenantId,
    pub name: String,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookIn {
    /// Absolute `http` or `https` URL without credentials, at most 2048 characters. An IP literal
    /// in a private, loopback, link-local or metadata range is refused (`422`) unless the
    /// operator allows it; a name resolving to one is refused when delivering.
    #[cfg_attr(feature = "ssr", schemars(length(max = limits::URL)))]
    pub url: String,
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schemars(length(min = 1, max = limits::EVENT_FILTERS), inner(length(min = 1, max = limits::EVENT_TYPE), regex(pattern = r"^(\*|[a-z0-9_.-]+(\.\*)?)$")))
    )]
    pub events: Vec<String>,
    /// A display name, shown where the URL is shown (1 to 100 characters; blank is no name).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(length(max = limits::WEBHOOK_NAME)))]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(length(min = limits::SECRET_MIN, max = limits::SECRET_MAX)))]
    pub secret: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(length(max = limits::DESCRIPTION)))]
    pub description: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(extend("maxProperties" = limits::HEADERS)))]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(range(min = 1, max = limits::MAX_ATTEMPTS)))]
    pub max_attempts: Option<i64>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(range(min = 0, max = limits::BACKOFF_BASE_SECONDS)))]
    pub backoff_base_seconds: Option<i64>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(range(min = 1, max = limits::TIMEOUT_SECONDS)))]
    pub timeout_seconds: Option<i64>,
    /// Sends a second the endpoint accepts: sends start at least `1/N` second apart, and the
    /// deliveries beyond wait their turn (no attempt counted). Left out: no limit.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(range(min = 1, max = limits::RATE_PER_SECOND)))]
    pub rate_limit_per_second: Option<i64>,
    /// `parallel` (the default) or `fifo`: one delivery at a time, in publish order; a
    /// delivery waiting for its retry holds back those behind it until it is delivered or
    /// dead-lettered.
    #[serde(default)]
    pub ordering: Option<DeliveryOrdering>,
    /// A condition on the event besides its type, e.g. `data.amount > 100 and data.country ==
    /// "DE"` (paths into `{id, type, timestamp, data}`; `==` `!=` `>` `>=` `<` `<=` `in`, `and`
    /// `or` `not`, parentheses). An event it refuses gets no delivery (counted as `filtered`).
    /// A filter that does not parse is a 422 giving the character position.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(length(max = 2000)))]
    pub filter: Option<String>,
    /// A jq program that maps the event `{id, type, timestamp, data}` to the body the endpoint
    /// receives (signed as sent); to set headers too it outputs `{"$body": …, "$headers": {…}}`;
    /// `null` or no output sends nothing for that event. Checked when saved (422 with jq's
    /// message); at most 10,000 bytes; a run is bounded to 1 s.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(length(max = 10000)))]
    pub transformation: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct WebhookOut {
    pub id: WebhookId,
    pub tenant_id: TenantId,
    /// The display name, if one was given.
    pub name: Option<String>,
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub description: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub max_attempts: Option<i64>,
    pub backoff_base_seconds: Option<i64>,
    pub timeout_seconds: Option<i64>,
    pub rate_limit_per_second: Option<i64>,
    pub ordering: DeliveryOrdering,
    /// The endpoint's circuit breaker: `open` while its deliveries wait out a run of failures.
    pub circuit: CircuitOut,
    /// Paused by hand or in a maintenance window: its deliveries wait, without attempts.
    pub maintenance: MaintenanceOut,
    /// The signing secret's rotation schedule, if it has one: the hub rotates it on time.
    pub secret_rotation: Option<RotationScheduleOut>,
    /// The payload filter, as written; null: every event of its types.
    #[serde(default)]
    pub filter: Option<String>,
    /// The transformation (a jq program), as written; null: the standard body.
    #[serde(default)]
    pub transformation: Option<String>,
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    #[cfg_attr(feature = "ssr", schemars(length(min = 1, max = limits::EVENT_TYPE), regex(pattern = r"^[a-z0-9_.-]+$")))]
    pub event_type: String,
    #[serde(default)]
    pub payload: serde_json::Value,
}

/// The `202` answer to a publish: the event id and the deliveries it fanned out to.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EventAccepted {
    pub id: EventId,
    pub deliveries: Vec<String>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivering,
    Delivered,
    Failed,
    DeadLetter,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 5] =
        [Self::Pending, Self::Delivering, Self::Delivered, Self::Failed, Self::DeadLetter];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivering => "delivering",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::DeadLetter => "dead_letter",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DeliveryOut {
    pub id: DeliveryId,
    pub tenant_id: TenantId,
    pub event_id: EventId,
    pub webhook_id: WebhookId,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempt_count: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub replay_of: Option<DeliveryId>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AttemptOut {
    pub id: AttemptId,
    pub delivery_id: DeliveryId,
    pub attempt_number: i64,
    pub started_at: Timestamp,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub response_headers: BTreeMap<String, String>,
    pub response_body: Option<String>,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
}

/// A page of a list: `{data, next_cursor}`; the cursor is opaque to clients.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", schemars(rename = "PageOf{T}"))]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Who is signed in to the admin UI.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Session {
    /// `operator`, or the id of the tenant admin key used to sign in.
    pub actor: String,
    /// Tenants this session may see: all of them for the operator, one for a tenant key.
    pub tenants: Vec<TenantOut>,
    /// How long the hub keeps what the pages list, for their footnotes.
    pub retention: Retention,
}

/// Days the hub keeps data (`None`: for ever): finished deliveries with their events
/// (`IH_RETENTION_DAYS`) and audit entries (`IH_AUDIT_RETENTION_DAYS`).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Retention {
    pub delivery_days: Option<i64>,
    pub audit_days: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem document. It is the one error shape of the REST API and of the server
/// functions, so the UI can show a field's message next to that field.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(status: u16, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            type_: format!("https://integrations-hub.dev/problems/{}", slug(title)),
            title: title.to_string(),
            status,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// The message for one field, if the server rejected it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == name).map(|e| e.message.as_str())
    }
}

fn slug(title: &str) -> String {
    title.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.title, self.detail)
    }
}

impl std::error::Error for Problem {}

impl leptos::server_fn::error::FromServerFnError for Problem {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        Problem::new(500, "Server function failed", value.to_string())
    }
}

/// The event types every tenant can use without declaring them.
pub const BUILTIN_EVENT_TYPES: [&str; 4] = ["request_submitted", "request_approved", "new_lead", "lead_update"];

/// An event type: lowercase letters, digits, `_`, `.` and `-`, 1 to 100 characters. Being this
/// narrow, it can go into the payload JSON without escaping.
pub fn valid_event_type(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= limits::EVENT_TYPE
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
}

/// What an endpoint may subscribe to: `*` (every type), an event type, or a family `prefix.*`
/// (every type that starts with `prefix.`), at most 100 characters in all. The UI checks a
/// typed filter with this before the server does.
pub fn valid_event_filter(filter: &str) -> bool {
    filter == "*"
        || valid_event_type(filter)
        || (filter.len() <= limits::EVENT_TYPE && filter.strip_suffix(".*").is_some_and(valid_event_type))
}

/// Whether `filter` names `event_type` or covers it as `*` or its family (`invoice.*` covers
/// `invoice.paid` and `invoice.line.added`, not `invoice` or `invoices.paid`).
pub fn filter_covers(filter: &str, event_type: &str) -> bool {
    filter == event_type
        || filter == "*"
        || filter.strip_suffix('*').is_some_and(|prefix| prefix.ends_with('.') && event_type.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_status_round_trips_through_its_wire_name() {
        for status in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert_eq!(DeliveryStatus::parse("nope"), None);
    }

    #[test]
    fn a_family_covers_the_types_under_its_prefix_only() {
        for ok in ["*", "invoice", "invoice.*", "invoice.line.*", "a-b_c.*"] {
            assert!(valid_event_filter(ok), "{ok}");
        }
        for bad in
            ["", "invoice*", "*.paid", "invoice.**", "in*voice", ".*x", "Invoice.*", &format!("{}.*", "a".repeat(99))]
        {
            assert!(!valid_event_filter(bad), "{bad}");
        }
        assert!(filter_covers("invoice.*", "invoice.paid"));
        assert!(filter_covers("invoice.*", "invoice.line.added"));
        assert!(!filter_covers("invoice.*", "invoice"));
        assert!(!filter_covers("invoice.*", "invoices.paid"));
        assert!(filter_covers("*", "invoice"));
        assert!(filter_covers("invoice", "invoice"));
        assert!(!filter_covers("invoice", "invoice.paid"));
    }

    /// The UI's server functions send a patch as JSON: "reset" (`null`) and "unchanged" (left
    /// out) must stay apart on the way there and back.
    #[test]
    fn a_patch_keeps_reset_apart_from_unchanged_through_json() {
        let patch = WebhookPatch { max_attempts: Some(None), timeout_seconds: Some(Some(9)), ..Default::default() };
        let json = serde_json::to_value(&patch).unwrap();
        assert_eq!(json["max_attempts"], serde_json::Value::Null);
        assert!(json.get("backoff_base_seconds").is_none() && json.get("description").is_none(), "{json}");
        assert_eq!(serde_json::from_value::<WebhookPatch>(json).unwrap(), patch);
        let read: WebhookPatch = serde_json::from_str(r#"{"description": null, "enabled": null}"#).unwrap();
        assert_eq!((read.description, read.max_attempts, read.enabled), (Some(None), None, None));
        let key = ApiKeyPatch { rate_limit_per_minute: Some(None), allowed_ips: Some(None), ..Default::default() };
        let json = serde_json::to_value(&key).unwrap();
        assert_eq!(json, serde_json::json!({ "rate_limit_per_minute": null, "allowed_ips": null }));
        assert_eq!(serde_json::from_value::<ApiKeyPatch>(json).unwrap(), key);
        let read: ApiKeyPatch = serde_json::from_str(r#"{"expires_at": null, "name": null}"#).unwrap();
        assert_eq!((read.expires_at, read.name, read.rate_limit_per_minute), (Some(None), None, None));
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EventOut {
    pub id: EventId,
    pub event_type: String,
    pub payload: serde_json::Value,
    pub created_at: Timestamp,
    pub deliveries: Vec<DeliveryOut>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DeliveryWithAttempts {
    #[serde(flatten)]
    pub delivery: DeliveryOut,
    pub attempts: Vec<AttemptOut>,
    /// The replay chain: the deliveries this one was replayed from, oldest first…
    pub replayed_from: Vec<String>,
    /// …and the deliveries that replay it.
    pub replays: Vec<String>,
}

/// Every scope a key can hold.
pub const SCOPES: [&str; 8] = [
    "keys:read",
    "keys:write",
    "webhooks:read",
    "webhooks:write",
    "events:publish",
    "deliveries:read",
    "deliveries:replay",
    "audit:read",
];

pub const ROLES: [&str; 3] = ["admin", "read_write", "read_only"];

/// The scopes a role grants.
pub fn role_scopes(role: &str) -> Option<Vec<&'static str>> {
    Some(match role {
        "admin" => SCOPES.to_vec(),
        "read_write" => {
            vec!["webhooks:read", "webhooks:write", "events:publish", "deliveries:read", "deliveries:replay"]
        }
        "read_only" => vec!["webhooks:read", "deliveries:read"],
        _ => return None,
    })
}

/// The window a key's rate limit counts over.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum RateWindow {
    Second,
    #[default]
    Minute,
    Hour,
}

impl RateWindow {
    pub const ALL: [RateWindow; 3] = [RateWindow::Second, RateWindow::Minute, RateWindow::Hour];

    pub fn seconds(self) -> i64 {
        match self {
            RateWindow::Second => 1,
            RateWindow::Minute => 60,
            RateWindow::Hour => 3600,
        }
    }

    pub fn from_seconds(seconds: i64) -> Option<RateWindow> {
        RateWindow::ALL.into_iter().find(|w| w.seconds() == seconds)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RateWindow::Second => "second",
            RateWindow::Minute => "minute",
            RateWindow::Hour => "hour",
        }
    }

    pub fn parse(text: &str) -> Option<RateWindow> {
        RateWindow::ALL.into_iter().find(|w| w.as_str() == text)
    }

    /// "a second", "a minute", "an hour": as in "10 requests an hour".
    pub fn per(self) -> &'static str {
        match self {
            RateWindow::Second => "a second",
            RateWindow::Minute => "a minute",
            RateWindow::Hour => "an hour",
        }
    }
}

/// A key's rate limit: at most `limit` requests in any sliding `window`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    #[cfg_attr(feature = "ssr", schemars(range(min = 1, max = limits::RATE_LIMIT_PER_MINUTE)))]
    pub limit: i64,
    pub window: RateWindow,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ApiKeyIn {
    #[cfg_attr(feature = "ssr", schemars(length(min = 1, max = limits::KEY_NAME)))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(extend("enum" = ["admin", "read_write", "read_only", null])))]
    pub role: Option<String>,
    /// The key's scopes, instead of a role (API_KEYS.md lists them); one named twice counts once.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(length(max = SCOPES.len())))]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub expires_at: Option<String>,
    /// The same as `rate_limit` with `"window": "minute"`; give one of the two.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(range(min = 1, max = limits::RATE_LIMIT_PER_MINUTE)))]
    pub rate_limit_per_minute: Option<i64>,
    /// Requests allowed in any sliding window of a second, a minute or an hour (default: the
    /// hub's per-minute default).
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(length(max = limits::ALLOWED_IPS)))]
    pub allowed_ips: Option<Vec<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ApiKeyOut {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub name: String,
    /// The start of the key, for recognising it; never enough to use it.
    pub prefix: String,
    pub role: Option<String>,
    pub scopes: Vec<String>,
    /// `active`, `expired` or `revoked`.
    pub status: String,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub rotated_to: Option<String>,
    /// The key's own limit when it counts per minute; `null` for the hub's default or another
    /// window (then `rate_limit` says it).
    pub rate_limit_per_minute: Option<i64>,
    /// The key's own limit and window; `null` for the hub's default.
    pub rate_limit: Option<RateLimit>,
    /// The key's rotation schedule, if it has one: when it is due the hub tells the owner
    /// (`api_key.rotation_due`), who rotates it (the hub cannot hand a new key to its user).
    pub rotation: Option<RotationScheduleOut>,
    pub allowed_ips: Vec<String>,
    pub last_used_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A change to a key's settings, with JSON merge-patch (RFC 7396) meaning: a field left out stays
/// as it is. `null` on `expires_at` removes the expiry, on `rate_limit_per_minute` or `rate_limit`
/// goes back to the hub's default, on `allowed_ips` allows any address; `null` on `name`, `role` or `scopes`
/// is the same as leaving it out. `role` or `scopes` (not both) replace the key's access. The
/// key itself never changes (that is what rotate is for), and a revoked or expired key cannot
/// be changed.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ApiKeyPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(length(min = 1, max = limits::KEY_NAME)))]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(extend("enum" = ["admin", "read_write", "read_only", null])))]
    pub role: Option<String>,
    /// The key's scopes, instead of a role (API_KEYS.md lists them); one named twice counts once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(length(max = SCOPES.len())))]
    pub scopes: Option<Vec<String>>,
    /// RFC 3339, in the future; `null` removes the expiry. A key in the grace period of a
    /// rotation keeps the expiry the rotation gave it (`409`).
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Option<String>>,
    /// `null` goes back to the hub's default.
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(range(min = 1, max = limits::RATE_LIMIT_PER_MINUTE)))]
    pub rate_limit_per_minute: Option<Option<i64>>,
    /// The limit and its window (instead of `rate_limit_per_minute`); `null` goes back to the
    /// hub's default.
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Option<RateLimit>>,
    /// `null` or `[]` allows any address.
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(length(max = limits::ALLOWED_IPS)))]
    pub allowed_ips: Option<Option<Vec<String>>>,
}

/// The answer to create and rotate: the only time the plaintext key is shown.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ApiKeyCreated {
    #[serde(flatten)]
    pub api_key: ApiKeyOut,
    pub key: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RotateIn {
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(range(min = 0, max = limits::GRACE_PERIOD_SECONDS)))]
    pub grace_period_seconds: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct UsageBucket {
    pub hour: Timestamp,
    pub ok: i64,
    pub unauthorized: i64,
    pub forbidden: i64,
    pub rate_limited: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct UsageOut {
    pub key_id: ApiKeyId,
    pub data: Vec<UsageBucket>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AuditEntryOut {
    pub id: String,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub source_ip: Option<String>,
    pub created_at: Timestamp,
}

/// A key as the admin UI lists it: the key and its requests over the last 7 days.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ApiKeyView {
    pub key: ApiKeyOut,
    pub requests_7d: i64,
}

/// A change to an endpoint, with JSON merge-patch (RFC 7396) meaning: a field left out stays as
/// it is; `null` on a setting that has a default (`description`, `max_attempts`,
/// `backoff_base_seconds`, `timeout_seconds`, `rate_limit_per_second`) puts it back to that default; `null` on `url`,
/// `events`, `enabled` or `headers` (which have no "unset") is the same as leaving it out.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    /// As on create: absolute `http` or `https` URL without credentials, at most 2048 characters. An IP literal
    /// in a private, loopback, link-local or metadata range is refused (`422`) unless the
    /// operator allows it; a name resolving to one is refused when delivering.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(length(max = limits::URL)))]
    pub url: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schemars(length(min = 1, max = limits::EVENT_FILTERS), inner(length(min = 1, max = limits::EVENT_TYPE), regex(pattern = r"^(\*|[a-z0-9_.-]+(\.\*)?)$")))
    )]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `null` or `""` removes the description.
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(length(max = limits::DESCRIPTION)))]
    pub description: Option<Option<String>>,
    /// `null` or `""` removes the name.
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(length(max = limits::WEBHOOK_NAME)))]
    pub name: Option<Option<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(extend("maxProperties" = limits::HEADERS)))]
    pub headers: Option<BTreeMap<String, String>>,
    /// `null` goes back to the hub's default.
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(range(min = 1, max = limits::MAX_ATTEMPTS)))]
    pub max_attempts: Option<Option<i64>>,
    /// `null` goes back to the hub's default.
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(range(min = 0, max = limits::BACKOFF_BASE_SECONDS)))]
    pub backoff_base_seconds: Option<Option<i64>>,
    /// `null` goes back to the hub's default.
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(range(min = 1, max = limits::TIMEOUT_SECONDS)))]
    pub timeout_seconds: Option<Option<i64>>,
    /// `null` removes the limit.
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(range(min = 1, max = limits::RATE_PER_SECOND)))]
    pub rate_limit_per_second: Option<Option<i64>>,
    /// `parallel` or `fifo`. Turning FIFO on orders the deliveries still waiting by publish order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering: Option<DeliveryOrdering>,
    /// The payload filter (as on create); `null` or `""` removes it.
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(length(max = 2000)))]
    pub filter: Option<Option<String>>,
    /// The transformation (as on create); `null` or `""` removes it.
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(length(max = 10000)))]
    pub transformation: Option<Option<String>>,
}

/// A `PATCH` field that can be reset: serde reads a missing field and `null` alike as `None`, so
/// the field's `Option` is read here instead — missing stays `None` (by `default`), and `null` is
/// `Some(None)`. Written back (the UI's server functions), `None` is skipped and `Some(None)` is
/// `null`, so the meaning survives the round trip.
mod resettable {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RotateSecretIn {
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(range(min = 0, max = limits::GRACE_PERIOD_SECONDS)))]
    pub grace_period_seconds: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TestSendIn {
    #[serde(default)]
    pub event_type: Option<String>,
    #[serde(default)]
    pub payload: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkReplayIn {
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(extend("enum" = ["pending", "delivering", "delivered", "failed", "dead_letter", null])))]
    pub status: Option<String>,
    #[serde(default)]
    pub webhook_id: Option<String>,
    #[serde(default)]
    pub event_type: Option<String>,
    /// One event's deliveries (`evt_…`).
    #[serde(default)]
    pub event_id: Option<String>,
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct BulkReplayOut {
    pub replayed: usize,
    pub deliveries: Vec<String>,
}

/// A request the echo inspector received.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EchoRequestOut {
    pub id: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// Whether the `webhook-signature` verified against an endpoint of the tenant that points
    /// at this echo path.
    pub signature_verified: bool,
    pub received_at: Timestamp,
}

/// The delivery log's filters, as the admin UI sends them (times in RFC 3339).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DeliveryFilter {
    #[serde(default)]
    pub status: Option<DeliveryStatus>,
    #[serde(default)]
    pub webhook_id: Option<String>,
    #[serde(default)]
    pub event_type: Option<String>,
    /// One event's deliveries (`evt_…`).
    #[serde(default)]
    pub event_id: Option<String>,
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
}

/// An example `data` for an event type, in the shape WEBHOOKS.md suggests: what the Test
/// modal starts from and what a test send carries when no payload is given.
pub fn sample_payload(event_type: &str) -> serde_json::Value {
    use serde_json::json;
    match event_type {
        "request_submitted" => json!({
            "request_id": "req_1042", "title": "New laptop",
            "requester": { "name": "Ada Lovelace", "email": "ada@example.com" },
            "description": "A 14-inch laptop for the new analyst", "url": "https://example.com/requests/1042"
        }),
        "request_approved" => {
            json!({ "request_id": "req_1042", "title": "New laptop", "approved_by": "Grace Hopper", "url": "https://example.com/requests/1042" })
        }
        "new_lead" => {
            json!({ "lead_id": "lead_77", "name": "Alan Turing", "email": "alan@example.com", "company": "Bletchley Ltd", "source": "website" })
        }
        "lead_update" => json!({ "lead_id": "lead_77", "changes": { "stage": "qualified" } }),
        _ => json!({ "test": true, "message": "A test message from Integrations Hub" }),
    }
}

/// The window of the analytics. The 24-hour and 7-day windows are read hour by hour; the 30- and
/// 90-day ones day by day (UTC days), from daily roll-ups, within the data's retention.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum StatsWindow {
    #[default]
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
    #[serde(rename = "90d")]
    Quarter,
}

impl StatsWindow {
    pub const ALL: [StatsWindow; 4] = [Self::Day, Self::Week, Self::Month, Self::Quarter];

    pub fn hours(self) -> i64 {
        self.days() * 24
    }

    /// The days the window covers (the 24-hour window: one).
    pub fn days(self) -> i64 {
        match self {
            Self::Day => 1,
            Self::Week => 7,
            Self::Month => 30,
            Self::Quarter => 90,
        }
    }

    /// Read hour by hour (`hours`), or else day by day (`days`).
    pub fn hourly(self) -> bool {
        matches!(self, Self::Day | Self::Week)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Day => "24 hours",
            Self::Week => "7 days",
            Self::Month => "30 days",
            Self::Quarter => "90 days",
        }
    }
}

/// Attempt latency percentiles, each the upper bound of its histogram bucket (ms).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct LatencyOut {
    pub p50: Option<i64>,
    pub p95: Option<i64>,
    pub p99: Option<i64>,
}

/// Delivery attempts added up over a window, an hour or an endpoint.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct StatsSummaryOut {
    pub attempts: i64,
    /// Answered 2xx.
    pub succeeded: i64,
    pub failed: i64,
    /// `succeeded / attempts`, or null without attempts.
    pub success_rate: Option<f64>,
    pub latency_ms: LatencyOut,
    /// Failed attempts by kind: `timeout`, `connect`, `http_4xx`, `http_5xx`, ...
    pub errors: BTreeMap<String, i64>,
    /// Events of the endpoint's types that its payload filter let pass by (no delivery made).
    #[serde(default)]
    pub filtered: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct HourStatsOut {
    /// The start of the hour.
    pub hour: Timestamp,
    #[serde(flatten)]
    pub stats: StatsSummaryOut,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EndpointStatsOut {
    pub webhook_id: WebhookId,
    /// Empty for an endpoint deleted since.
    pub url: String,
    pub enabled: bool,
    /// Its circuit breaker's state now (`closed` for a deleted endpoint).
    pub circuit: CircuitState,
    /// Paused now (by hand or in a maintenance window): its deliveries wait.
    #[serde(default)]
    pub paused: bool,
    #[serde(flatten)]
    pub stats: StatsSummaryOut,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DayStatsOut {
    /// The start of the (UTC) day.
    pub day: Timestamp,
    #[serde(flatten)]
    pub stats: StatsSummaryOut,
}

/// Replays made in the window by one caller (an API key's id, or `operator`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ReplayTally {
    /// Replays made.
    pub replays: i64,
    /// Of which delivered.
    pub delivered: i64,
    /// Of which dead-lettered again.
    pub dead_letter: i64,
    /// Of which still on their way (pending, being sent or waiting to retry).
    pub in_flight: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ReplayActorOut {
    /// The caller that replayed: an API key's id, `operator`, or null for replays made before
    /// the hub recorded it.
    pub actor: Option<String>,
    /// The API key's name, when the actor is a key that still exists.
    pub name: Option<String>,
    #[serde(flatten)]
    pub tally: ReplayTally,
}

/// Replays made in the window (one or in bulk), what became of them, and who made them (most
/// replays first).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ReplayStatsOut {
    #[serde(flatten)]
    pub tally: ReplayTally,
    /// `delivered / (delivered + dead_letter)`, or null while none has finished.
    pub success_rate: Option<f64>,
    pub by_actor: Vec<ReplayActorOut>,
}

/// `GET /api/v1/tenants/{tid}/stats`: the tenant's deliveries over a window, overall, per hour
/// (24 h and 7 d windows: every hour of the window, oldest first) or per day (30 d and 90 d
/// windows: every UTC day, oldest first), per endpoint, and the replays made in the window.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct StatsOut {
    pub window: StatsWindow,
    pub since: Timestamp,
    pub overall: StatsSummaryOut,
    /// Filled for the 24-hour and 7-day windows; empty for the longer ones.
    pub hours: Vec<HourStatsOut>,
    /// Filled for the 30-day and 90-day windows; empty for the shorter ones.
    #[serde(default)]
    pub days: Vec<DayStatsOut>,
    pub endpoints: Vec<EndpointStatsOut>,
    #[serde(default)]
    pub replays: ReplayStatsOut,
}

/// The audit log's filters. `action` matches exactly, or a whole area (`webhook` matches
/// `webhook.created`, `webhook.deleted`, ...).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AuditFilter {
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub since: Option<Timestamp>,
    #[serde(default)]
    pub until: Option<Timestamp>,
}

/// Every action the audit log records.
pub const AUDIT_ACTIONS: [&str; 17] = [
    "tenant.created",
    "tenant.renamed",
    "session.signed_in",
    "api_key.created",
    "api_key.updated",
    "api_key.rotated",
    "api_key.revoked",
    "api_key.deleted",
    "webhook.created",
    "webhook.updated",
    "webhook.deleted",
    "webhook.auto_disabled",
    "webhook.secret_rotated",
    "delivery.replayed",
    "delivery.retried",
    "connector.slack_updated",
    "connector.slack_deleted",
];

/// A webhook's signing secret (reveal and rotate).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SecretOut {
    pub secret: String,
}

/// What the echo inspector received, and the URL to point an endpoint at.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EchoListOut {
    pub data: Vec<EchoRequestOut>,
    pub url: String,
}

/// The echo inspector's answer to a request it received.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EchoReceivedOut {
    pub received: bool,
    pub signature_verified: bool,
}

/// The event-type catalogue.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EventTypesOut {
    pub data: Vec<String>,
}

/// The endpoint form's "Try it": a transformation run on the tenant's latest events (of one type
/// when given; the type's example when there are none).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TransformTryIn {
    pub program: String,
    #[serde(default)]
    pub event_type: Option<String>,
}

/// What a transformation made of one event.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TransformTryOut {
    /// The event's id, or `example` for a type's example.
    pub event_id: String,
    pub event_type: String,
    /// The body as it would be sent (JSON), unless dropped or failed.
    pub body: Option<String>,
    pub headers: Vec<(String, String)>,
    /// `null` or no output: nothing would be sent.
    pub dropped: bool,
    pub error: Option<String>,
}

/// `POST /api/v1/tenants/{tid}/event-types`: registers an event type of the tenant.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EventTypeIn {
    /// Lowercase letters, digits, `_`, `.`, `-`; not a built-in or operational type's name.
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// A JSON Schema (draft 2020-12) for the events' `data`; no remote `$ref`s.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(with = "Option<serde_json::Map<String, serde_json::Value>>"))]
    pub schema: Option<serde_json::Value>,
    /// An example `data`; it must satisfy the schema.
    #[serde(default)]
    pub example: Option<serde_json::Value>,
    /// Publishing checks `data` against the schema: a payload that fails is a 422 naming the
    /// failing paths. Off by default.
    #[serde(default)]
    pub validate: Option<bool>,
}

/// `PATCH …/event-types/{name}`: only the fields given change; `null` clears a description,
/// schema or example; `archived: false` restores an archived type.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EventTypePatch {
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(with = "Option<serde_json::Map<String, serde_json::Value>>"))]
    pub schema: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "resettable::deserialize", skip_serializing_if = "Option::is_none")]
    pub example: Option<Option<serde_json::Value>>,
    #[serde(default)]
    pub validate: Option<bool>,
    #[serde(default)]
    pub archived: Option<bool>,
}

/// An event type of the catalogue: a tenant's, or one the hub ships (`built_in`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EventTypeOut {
    pub name: String,
    pub description: Option<String>,
    pub schema: Option<serde_json::Value>,
    pub example: Option<serde_json::Value>,
    pub validate: bool,
    /// Shipped with the hub (`request_submitted`, the operational types, ...): read-only.
    pub built_in: bool,
    pub archived: bool,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EventTypeListOut {
    pub data: Vec<EventTypeOut>,
}

/// Who a credential is: `operator`, or a key with its tenant and scopes.
// Borrowed (`Cow`) so that the server answers from the cached key without copying it on every
// call; the doc comment above is the OpenAPI description, hence this plain comment.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct WhoAmIOut<'a> {
    pub actor: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Cow<'a, [String]>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct HealthOut {
    pub status: String,
}

/// `/ready`: 200 when both hold, 503 otherwise.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ReadyOut {
    pub database: bool,
    pub worker: bool,
    /// Where rate limits are counted: `local` (this instance; no `IH_REDIS_URL`), `shared` (in
    /// Redis, with every instance), or `local_fallback` (Redis is configured but unreachable, so
    /// this instance counts alone for now). Informational: it does not make the hub unready.
    pub rate_limits: String,
}

/// The event types the hub raises about itself; an endpoint or connector gets them only by
/// naming them (`*` does not include them).
pub const OPERATIONAL_EVENT_TYPES: [&str; 13] = [
    "webhook.failing",
    "webhook.disabled",
    "delivery.dead_lettered",
    "webhook.circuit_opened",
    "webhook.circuit_closed",
    // Domain events: a tenant's configuration changed (payloads name it, never a secret or key).
    "webhook.created",
    "webhook.updated",
    "webhook.deleted",
    "api_key.created",
    "api_key.revoked",
    "api_key.rotated",
    // Scheduled rotations: an endpoint's secret was rotated on schedule; a key's rotation is due.
    "webhook.secret_rotated",
    "api_key.rotation_due",
];

/// How long an admin UI session lasts (the cookie and the session row alike).
pub const SESSION_HOURS: i64 = 12;

/// How an endpoint's deliveries go out.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOrdering {
    /// Several at once (up to the endpoint's concurrency), each as soon as it is due.
    #[default]
    Parallel,
    /// One at a time, in publish order: a delivery waiting for its retry holds back those
    /// behind it until it is delivered or dead-lettered.
    Fifo,
}

impl DeliveryOrdering {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOrdering::Parallel => "parallel",
            DeliveryOrdering::Fifo => "fifo",
        }
    }

    /// The stored form; anything unknown reads as `parallel`.
    pub fn parse(s: &str) -> Self {
        if s == "fifo" {
            DeliveryOrdering::Fifo
        } else {
            DeliveryOrdering::Parallel
        }
    }
}

/// An endpoint's circuit breaker (WEBHOOKS.md, "Circuit breaker").
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// Deliveries go out.
    #[default]
    Closed,
    /// After a run of failures: deliveries wait (no attempt counted) until the cool-down ends.
    Open,
    /// One probe delivery is out; its result closes or reopens the circuit.
    HalfOpen,
}

impl CircuitState {
    pub const ALL: [CircuitState; 3] = [CircuitState::Closed, CircuitState::Open, CircuitState::HalfOpen];

    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
        }
    }

    /// The stored form; anything unknown reads as `closed`.
    pub fn parse(s: &str) -> Self {
        match s {
            "open" => CircuitState::Open,
            "half_open" => CircuitState::HalfOpen,
            _ => CircuitState::Closed,
        }
    }
}

/// A rotation schedule (`PUT …/rotation-schedule`): every `every_days` days (1 to 365), counted
/// from now; the replaced secret keeps signing (a replaced key keeps working, once rotated) for
/// `grace_period_seconds` (default a day, at most 30 days).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RotationScheduleIn {
    #[cfg_attr(feature = "ssr", schemars(range(min = 1, max = 365)))]
    pub every_days: i64,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(range(min = 0, max = limits::GRACE_PERIOD_SECONDS)))]
    pub grace_period_seconds: Option<i64>,
}

/// A schedule and its next turn.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RotationScheduleOut {
    pub every_days: i64,
    pub grace_period_seconds: i64,
    /// When the next rotation (an endpoint's secret) or reminder (an API key's) is due.
    pub next_at: Timestamp,
}

/// A time an endpoint takes no deliveries: from `start` to `end` (RFC 3339), once, or every week
/// from then on (`weekly`; such a window is at most 7 days long).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MaintenanceWindow {
    pub start: Timestamp,
    pub end: Timestamp,
    #[serde(default)]
    pub weekly: bool,
}

/// `PUT …/webhooks/{id}/maintenance`: the endpoint's maintenance windows, replacing the ones it had
/// (`[]` removes them).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MaintenanceIn {
    #[cfg_attr(feature = "ssr", schemars(length(max = limits::MAINTENANCE_WINDOWS)))]
    pub windows: Vec<MaintenanceWindow>,
}

/// `POST …/webhooks/{id}/pause`: pause now, until `until` (RFC 3339, in the future) or, without it,
/// until resumed.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PauseIn {
    #[serde(default)]
    pub until: Option<Timestamp>,
}

/// Whether an endpoint's deliveries wait now, and its maintenance windows.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MaintenanceOut {
    /// Deliveries wait now: paused by hand, or inside a window.
    pub paused: bool,
    /// `manual` (paused by hand) or `window` while paused; `null` otherwise.
    pub reason: Option<String>,
    /// When they go out again; `null` when not paused, or paused by hand until resumed.
    pub until: Option<Timestamp>,
    pub windows: Vec<MaintenanceWindow>,
}

/// An endpoint's circuit as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CircuitOut {
    pub state: CircuitState,
    /// Open: when the probe may go. Half-open: when the probe's turn ends. Closed: `null`.
    pub until: Option<Timestamp>,
    /// Openings since it last closed (each cool-down is twice the one before).
    pub opens: i64,
}

/// The Slack connector's settings (`PUT /api/v1/tenants/{tid}/connectors/slack`). Every field
/// may be left out: a new connector then posts `request_submitted` events with the hub's
/// default token and channel; an existing one keeps what it had.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SlackConnectorIn {
    #[serde(default)]
    pub enabled: Option<bool>,
    /// A bot token (`xoxb-…`); `""` goes back to `IH_SLACK_BOT_TOKEN`. Write-only: stored
    /// encrypted and never shown again.
    #[serde(default)]
    pub bot_token: Option<String>,
    /// `#channel`, a channel id (`C0123ABCD`) or `""` for `IH_SLACK_DEFAULT_CHANNEL`.
    #[serde(default)]
    pub channel: Option<String>,
    /// The event types posted (default `["request_submitted"]`); the operational types
    /// (`webhook.failing`, `webhook.disabled`, `delivery.dead_lettered`) turn it into an alert channel.
    #[serde(default)]
    pub events: Option<Vec<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SlackConnectorOut {
    /// The connector's endpoint id: its deliveries, attempts and dead letters carry it.
    pub id: WebhookId,
    pub tenant_id: TenantId,
    pub enabled: bool,
    /// The channel messages go to, and whether it is the connector's own or the default.
    pub channel: Option<String>,
    pub channel_source: SettingSource,
    /// Whether a token is set, and where it comes from; the token itself is never shown.
    pub token_source: SettingSource,
    pub events: Vec<String>,
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Where a connector setting comes from.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SettingSource {
    /// Set on the connector.
    Connector,
    /// From the hub's configuration (`IH_SLACK_BOT_TOKEN`, `IH_SLACK_DEFAULT_CHANNEL`).
    Default,
    /// Nowhere: messages cannot be sent until it is set.
    Missing,
}

/// A lead as the lead routes take it (`POST /api/v1/events/leads`), published as `new_lead`
/// with the lead itself as the event's data.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct LeadIn {
    /// The lead's id in the system that sends it: a string or an integer.
    pub id: serde_json::Value,
    #[cfg_attr(feature = "ssr", schemars(length(min = 1, max = limits::LEAD_NAME)))]
    pub name: String,
    #[cfg_attr(feature = "ssr", schemars(length(min = 3, max = limits::LEAD_EMAIL)))]
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(length(max = limits::LEAD_FIELD)))]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schemars(length(max = limits::LEAD_FIELD)))]
    pub source: Option<String>,
}

/// A change to a lead (`POST /api/v1/events/leads/updates`), published as `lead_update`: the
/// lead as it now is, and what changed.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct LeadUpdateIn {
    #[serde(flatten)]
    pub lead: LeadIn,
    /// What changed, as `{field: new value}`; at least one field.
    #[cfg_attr(feature = "ssr", schemars(extend("minProperties" = 1)))]
    pub changes: serde_json::Map<String, serde_json::Value>,
}
