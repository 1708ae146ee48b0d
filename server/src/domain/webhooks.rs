//! Endpoints: validation at the edge (parse, don't validate), secrets sealed at rest.

use app::models::{DeliveryId, TenantId, WebhookId};
use std::collections::BTreeMap;

use app::models::{
    limits, valid_event_filter, valid_event_type, CircuitOut, CircuitState, DeliveryOrdering, FieldError, Page,
    RotateSecretIn, TestSendIn, WebhookIn, WebhookOut, WebhookPatch, BUILTIN_EVENT_TYPES,
};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::announce::announce;
use super::auth::{Actor, Scope};
use super::tenants::audit_row;
use super::{entries_within, page_cursor, page_limit, paginate, Hub};
use crate::error::{Error, Result};
use crate::ssrf::TargetPolicy;
use crate::store::{self, webhooks::WebhookRow};
use crate::{ids, signing, time};

/// Headers the hub sets itself; an endpoint may not override them.
const RESERVED_HEADERS: [&str; 6] =
    ["content-type", "content-length", "host", "user-agent", "transfer-encoding", "connection"];

/// A URL we are willing to deliver to: absolute http(s) with a host, of bounded length.
#[derive(Debug, Clone)]
pub struct WebhookUrl(reqwest::Url);

impl WebhookUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.len() > limits::URL {
            return Err(format!("must be at most {} characters", limits::URL));
        }
        let url = reqwest::Url::parse(text).map_err(|e| format!("not a valid URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must use http or https".into());
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("must name a host".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry credentials; use custom headers".into());
        }
        Ok(WebhookUrl(url))
    }

    /// Refuses an IP literal that the SSRF guard would refuse at every attempt: saying so now
    /// beats an endpoint that fails until it is dead-lettered. A name that resolves to such an
    /// address is still caught when delivering (DNS answers change).
    fn reachable(self, policy: &TargetPolicy) -> Result<Self, String> {
        match policy.refused_literal(&self.0) {
            Some(ip) => Err(format!(
                "{ip} is a private, loopback, link-local or metadata address, which deliveries may not reach \
                 (an operator can allow a subnet with IH_ALLOWED_TARGET_CIDRS)"
            )),
            None => Ok(self),
        }
    }
}

/// The parsed, checked settings of an endpoint.
struct Settings {
    url: String,
    name: Option<String>,
    events: Vec<String>,
    secret: Option<String>,
    description: Option<String>,
    headers: BTreeMap<String, String>,
    /// The payload filter as written, checked to parse; `None`: none.
    filter: Option<String>,
}

/// `policy`, when given, also refuses a URL the SSRF guard would never let through.
fn check(input: &WebhookIn, policy: Option<&TargetPolicy>) -> Result<Settings> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });
    let url = WebhookUrl::parse(&input.url)
        .and_then(|url| match policy {
            Some(policy) => url.reachable(policy),
            None => Ok(url),
        })
        .map_err(|m| fail("url", m))
        .ok();
    if input.events.is_empty() {
        fail("events", "choose at least one event type, or \"*\" for all".into());
    }
    let entries = entries_within(&input.events, limits::EVENT_FILTERS, || {
        let most = limits::EVENT_FILTERS;
        fail("events", format!("at most {most} event types or families; \"invoice.*\" covers a family"))
    });
    for event in entries {
        if !BUILTIN_EVENT_TYPES.contains(&event.as_str()) && !valid_event_filter(event) {
            fail("events", format!("{event:?} is not an event type, a family such as \"invoice.*\" or \"*\""));
        }
    }
    if let Some(secret) = &input.secret {
        if secret.chars().count() < limits::SECRET_MIN || secret.len() > limits::SECRET_MAX {
            fail("secret", format!("must be {} to {} characters", limits::SECRET_MIN, limits::SECRET_MAX));
        }
    }
    if input.name.as_ref().is_some_and(|n| n.trim().chars().count() > limits::WEBHOOK_NAME) {
        fail("name", format!("must be at most {} characters", limits::WEBHOOK_NAME));
    }
    if input.description.as_ref().is_some_and(|d| d.chars().count() > limits::DESCRIPTION) {
        fail("description", format!("must be at most {} characters", limits::DESCRIPTION));
    }
    let headers = input.headers.clone().unwrap_or_default();
    if headers.len() > limits::HEADERS {
        fail("headers", format!("at most {} custom headers", limits::HEADERS));
    }
    for (name, value) in &headers {
        let lower = name.to_ascii_lowercase();
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() || http::HeaderValue::from_str(value).is_err() {
            fail("headers", format!("{name:?} is not a valid header"));
        } else if RESERVED_HEADERS.contains(&lower.as_str())
            || lower.starts_with("webhook-")
            || lower.starts_with("x-webhook-")
        {
            fail("headers", format!("{name:?} is set by the hub and cannot be overridden"));
        }
    }
    let range = |field: &str, value: Option<i64>, min: i64, max: i64, fail: &mut dyn FnMut(&str, String)| {
        if value.is_some_and(|v| !(min..=max).contains(&v)) {
            fail(field, format!("must be between {min} and {max}"));
        }
    };
    range("max_attempts", input.max_attempts, 1, limits::MAX_ATTEMPTS, &mut fail);
    range("backoff_base_seconds", input.backoff_base_seconds, 0, limits::BACKOFF_BASE_SECONDS, &mut fail);
    range("timeout_seconds", input.timeout_seconds, 1, limits::TIMEOUT_SECONDS, &mut fail);
    range("rate_limit_per_second", input.rate_limit_per_second, 1, limits::RATE_PER_SECOND, &mut fail);
    let filter = input.filter.as_deref().map(str::trim).filter(|f| !f.is_empty());
    if let Err(e) = filter.map(super::payload_filter::parse).transpose() {
        fail("filter", e.to_string());
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let mut events = input.events.clone();
    events.sort();
    events.dedup();
    Ok(Settings {
        url: url.expect("checked").0.into(),
        name: input.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string),
        events,
        secret: input.secret.clone(),
        description: input.description.clone().filter(|d| !d.trim().is_empty()),
        headers,
        filter: filter.map(str::to_string),
    })
}

/// Custom headers often carry the receiver's credential (a URL with credentials is refused in
/// their favour), so they are sealed with the master key like the signing secret. The column stays
/// text: `sealed:` and the base64 of the sealed JSON. A row written before sealing holds the JSON
/// itself; it is still read, and [`Hub::seal_plain_headers`] seals it when the hub starts.
const SEALED_HEADERS: &str = "sealed:";

impl Hub {
    pub fn seal_headers(&self, headers: &BTreeMap<String, String>) -> String {
        let json = serde_json::to_vec(headers).expect("strings serialise");
        format!("{SEALED_HEADERS}{}", BASE64.encode(self.master_key.seal(&json)))
    }

    /// Fails only when the master key differs from the one that sealed them: the endpoint is then
    /// not shown or changed rather than shown without its headers (a change would drop them).
    pub fn open_headers(&self, stored: &str) -> Result<BTreeMap<String, String>> {
        let Some(sealed) = stored.strip_prefix(SEALED_HEADERS) else {
            return Ok(serde_json::from_str(stored).unwrap_or_default());
        };
        let sealed = BASE64.decode(sealed).map_err(|e| Error::internal("sealed headers", e))?;
        serde_json::from_slice(&self.master_key.open(&sealed)?).map_err(|e| Error::internal("sealed headers", e))
    }

    /// Seals the custom headers of rows written before headers were sealed, so that an upgrade
    /// leaves no receiver credential in plain text (they would otherwise stay so until their
    /// endpoint next changed). Run at start-up; returns how many rows it sealed. A row is sealed
    /// only by an instance that can open its signing secret: one started with another
    /// `IH_MASTER_KEY` would seal it where the others cannot read it. A row whose JSON does not
    /// read is left as it is rather than sealed as no headers.
    pub async fn seal_plain_headers(&self) -> Result<usize> {
        let mut sealed = 0;
        for (id, plain, secret) in store::webhooks::unsealed_headers(&self.db, SEALED_HEADERS).await? {
            if self.master_key.open(&secret).is_err() {
                continue; // the delivery plan already reports an endpoint this key cannot open
            }
            let Ok(headers) = serde_json::from_str::<BTreeMap<String, String>>(&plain) else {
                tracing::warn!(webhook_id = %id, "custom headers are neither sealed nor JSON; left as they are");
                continue;
            };
            if store::webhooks::reseal_headers(&self.db, &id, &plain, &self.seal_headers(&headers)).await? {
                sealed += 1;
            }
        }
        Ok(sealed)
    }

    fn webhook_out(&self, row: WebhookRow) -> Result<WebhookOut> {
        let headers = self.open_headers(&row.headers)?;
        Ok(webhook_out(row, headers))
    }
}

fn webhook_out(row: WebhookRow, headers: BTreeMap<String, String>) -> WebhookOut {
    let circuit = circuit_out(&row);
    let maintenance = super::maintenance::maintenance_out(&row, time::now_ms());
    let secret_rotation =
        super::rotation::schedule_out(row.rotation_every_days, row.rotation_grace_seconds, row.rotation_next_at);
    WebhookOut {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        name: row.name,
        url: row.url,
        events: serde_json::from_str(&row.events).unwrap_or_default(),
        enabled: row.enabled,
        description: row.description,
        headers,
        max_attempts: row.max_attempts,
        backoff_base_seconds: row.backoff_base_seconds,
        timeout_seconds: row.timeout_seconds,
        rate_limit_per_second: row.rate_limit_per_second,
        ordering: DeliveryOrdering::parse(&row.ordering),
        circuit,
        maintenance,
        secret_rotation,
        filter: row.payload_filter,
        transformation: row.transformation,
        disabled_reason: row.disabled_reason,
        created_at: time::rfc3339(row.created_at),
        updated_at: time::rfc3339(row.updated_at),
    }
}

/// A program that does not compile is the caller's 422; no worker to check it is a 503.
pub(super) fn transformation_refused(e: crate::transform::TransformError) -> Error {
    match e {
        crate::transform::TransformError::Program(m) => Error::field("transformation", m),
        crate::transform::TransformError::Unavailable(m) => Error::Unavailable(m),
    }
}

/// What the domain events about an endpoint say: never its secret or custom headers.
fn webhook_event(row: &WebhookRow) -> serde_json::Value {
    serde_json::json!({ "webhook_id": row.id, "tenant_id": row.tenant_id, "name": row.name, "url": row.url })
}

fn circuit_out(row: &WebhookRow) -> CircuitOut {
    let state = CircuitState::parse(&row.circuit_state);
    CircuitOut {
        state,
        until: (state != CircuitState::Closed).then(|| time::rfc3339(row.circuit_until)),
        opens: row.circuit_opens,
    }
}

impl Hub {
    /// The input's transformation, compiled once by a worker to check it: jaq's message is a
    /// 422 on `transformation`.
    /// `current`: the program saved now, which is not checked again (an unrelated change must not
    /// depend on a worker being free).
    async fn checked_transformation(&self, input: &WebhookIn, current: Option<&str>) -> Result<Option<String>> {
        let Some(program) = input.transformation.as_deref().map(str::trim).filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        if current != Some(program) {
            self.transformer.check(program).await.map_err(transformation_refused)?;
        }
        Ok(Some(program.to_string()))
    }

    pub async fn create_webhook(&self, who: &Actor, tenant_id: &TenantId, input: WebhookIn) -> Result<WebhookOut> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        store::found(store::tenants::get(&self.db, tenant_id).await?, "tenant")?;
        let settings = check(&input, Some(&self.target_policy))?;
        let secret = settings.secret.unwrap_or_else(signing::generate_secret);
        let now = time::now_ms();
        let row = WebhookRow {
            id: ids::new_id(ids::WEBHOOK),
            tenant_id: tenant_id.to_string(),
            url: settings.url,
            name: settings.name,
            description: settings.description,
            events: serde_json::to_string(&settings.events).expect("strings serialise"),
            enabled: input.enabled.unwrap_or(true),
            secret: self.master_key.seal(secret.as_bytes()),
            previous_secret: None,
            previous_secret_until: None,
            headers: self.seal_headers(&settings.headers),
            max_attempts: input.max_attempts,
            backoff_base_seconds: input.backoff_base_seconds,
            timeout_seconds: input.timeout_seconds,
            rate_limit_per_second: input.rate_limit_per_second,
            disabled_reason: None,
            consecutive_failures: 0,
            created_at: now,
            updated_at: now,
            kind: store::webhooks::WEBHOOK.into(),
            channel: None,
            ordering: input.ordering.unwrap_or_default().as_str().into(),
            circuit_state: CircuitState::Closed.as_str().into(),
            circuit_until: 0,
            circuit_opens: 0,
            paused_until: None,
            maintenance_windows: None,
            rotation_every_days: None,
            rotation_grace_seconds: None,
            rotation_next_at: None,
            payload_filter: settings.filter,
            transformation: self.checked_transformation(&input, None).await?,
        };
        let mut tx = self.db.begin().await?;
        store::webhooks::insert(&mut tx, &row).await?;
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), "webhook.created", Some(&row.id))).await?;
        let announced = announce(&mut tx, tenant_id, "webhook.created", webhook_event(&row)).await?;
        tx.commit().await?;
        self.announced(tenant_id, announced);
        Ok(webhook_out(row, settings.headers))
    }

    pub async fn list_webhooks(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Page<WebhookOut>> {
        who.authorize(tenant_id, Scope::WebhooksRead)?;
        let limit = page_limit(limit);
        let rows = store::webhooks::list(&self.db, tenant_id, page_cursor(cursor, ids::WEBHOOK)?, limit + 1).await?;
        let page = paginate(rows, limit, |r| r.id.clone(), |r| self.webhook_out(r));
        Ok(Page { data: page.data.into_iter().collect::<Result<_>>()?, next_cursor: page.next_cursor })
    }

    pub async fn get_webhook(&self, who: &Actor, tenant_id: &TenantId, id: &WebhookId) -> Result<WebhookOut> {
        who.authorize(tenant_id, Scope::WebhooksRead)?;
        self.webhook_out(self.webhook_row(tenant_id, id).await?)
    }

    async fn webhook_row(&self, tenant_id: &TenantId, id: &WebhookId) -> Result<WebhookRow> {
        store::found(store::webhooks::get(&self.db, tenant_id, id).await?, "webhook")
    }

    pub async fn delete_webhook(&self, who: &Actor, tenant_id: &TenantId, id: &WebhookId) -> Result<()> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        let row = self.webhook_row(tenant_id, id).await?;
        let mut tx = self.db.begin().await?;
        if !store::webhooks::soft_delete(&mut tx, tenant_id, id, store::webhooks::WEBHOOK, time::now_ms()).await? {
            return Err(Error::NotFound("webhook"));
        }
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), "webhook.deleted", Some(id))).await?;
        let announced = announce(&mut tx, tenant_id, "webhook.deleted", webhook_event(&row)).await?;
        tx.commit().await?;
        self.announced(tenant_id, announced);
        Ok(())
    }

    /// Changes some settings; the result is validated as a whole, like a create.
    pub async fn patch_webhook(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        id: &WebhookId,
        patch: WebhookPatch,
    ) -> Result<WebhookOut> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        let row = self.webhook_row(tenant_id, id).await?;
        let current = self.webhook_out(row.clone())?;
        let url_set = patch.url.is_some();
        let merged = WebhookIn {
            url: patch.url.unwrap_or(current.url),
            name: patch.name.unwrap_or(current.name),
            events: patch.events.unwrap_or(current.events),
            secret: None,
            enabled: None,
            description: patch.description.unwrap_or(current.description),
            headers: Some(patch.headers.unwrap_or(current.headers)),
            max_attempts: patch.max_attempts.unwrap_or(current.max_attempts),
            backoff_base_seconds: patch.backoff_base_seconds.unwrap_or(current.backoff_base_seconds),
            timeout_seconds: patch.timeout_seconds.unwrap_or(current.timeout_seconds),
            rate_limit_per_second: patch.rate_limit_per_second.unwrap_or(current.rate_limit_per_second),
            ordering: Some(patch.ordering.unwrap_or(current.ordering)),
            filter: patch.filter.unwrap_or(current.filter),
            transformation: patch.transformation.unwrap_or(current.transformation),
        };
        self.save_settings(who, row, merged, patch.enabled, url_set).await
    }

    /// Replaces the whole endpoint (PUT): what the input leaves out returns to its default, as
    /// on a create. A `secret` given replaces the signing secret at once (no grace period: that
    /// is what rotate-secret is for); left out, the secret stays, since making a new one would
    /// break the receiver without anyone having asked for it.
    pub async fn replace_webhook(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        id: &WebhookId,
        input: WebhookIn,
    ) -> Result<WebhookOut> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        let row = self.webhook_row(tenant_id, id).await?;
        let enabled = Some(input.enabled.unwrap_or(true));
        let input = WebhookIn { ordering: Some(input.ordering.unwrap_or_default()), ..input };
        self.save_settings(who, row, input, enabled, true).await
    }

    /// Checks `settings` as a whole, like a create, and writes them over `row`. `url_set`: the URL
    /// is held to the SSRF policy when it is set, not when other settings change (an endpoint
    /// made before a stricter policy can still be edited or disabled).
    async fn save_settings(
        &self,
        who: &Actor,
        mut row: WebhookRow,
        input: WebhookIn,
        enabled: Option<bool>,
        url_set: bool,
    ) -> Result<WebhookOut> {
        let settings = check(&input, url_set.then_some(&*self.target_policy))?;
        row.url = settings.url;
        row.name = settings.name;
        row.events = serde_json::to_string(&settings.events).expect("strings serialise");
        row.description = settings.description;
        row.headers = self.seal_headers(&settings.headers);
        row.max_attempts = input.max_attempts;
        row.backoff_base_seconds = input.backoff_base_seconds;
        row.timeout_seconds = input.timeout_seconds;
        row.rate_limit_per_second = input.rate_limit_per_second;
        row.ordering = input.ordering.unwrap_or_default().as_str().into();
        row.payload_filter = settings.filter;
        row.transformation = self.checked_transformation(&input, row.transformation.as_deref()).await?;
        row.updated_at = time::now_ms();
        let (tenant_id, id) = (TenantId::from(row.tenant_id.clone()), WebhookId::from(row.id.clone()));
        let mut tx = self.db.begin().await?;
        if let Some(enabled) = enabled {
            store::webhooks::set_enabled(&mut tx, &tenant_id, &id, enabled, row.updated_at).await?;
        }
        if let Some(secret) = &settings.secret {
            let sealed = self.master_key.seal(secret.as_bytes());
            store::webhooks::set_secret(&mut tx, &tenant_id, &id, &sealed, row.updated_at).await?;
        }
        // Only the settings are written from the copy read above; the answer is the row as
        // it now is (the worker may have disabled the endpoint meanwhile, say).
        let row = store::found(store::webhooks::update_settings(&mut tx, &row).await?, "webhook")?;
        store::audit::insert(&mut tx, &audit_row(who, Some(&tenant_id), "webhook.updated", Some(&id))).await?;
        let announced = announce(&mut tx, &tenant_id, "webhook.updated", webhook_event(&row)).await?;
        tx.commit().await?;
        self.announced(&tenant_id, announced);
        Ok(webhook_out(row, settings.headers))
    }

    /// A new signing secret; the old one keeps signing (alongside) for the grace period, so
    /// receivers can switch without losing a message. Returns the new secret.
    pub async fn rotate_webhook_secret(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        id: &WebhookId,
        input: RotateSecretIn,
    ) -> Result<String> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        let grace = super::grace_period(input.grace_period_seconds, 24 * 3600)?;
        let secret = signing::generate_secret();
        let now = time::now_ms();
        let sealed = self.master_key.seal(secret.as_bytes());
        let mut tx = self.db.begin().await?;
        if !store::webhooks::rotate_secret(&mut tx, tenant_id, id, &sealed, now + grace * 1000, now).await? {
            return Err(Error::NotFound("webhook"));
        }
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), "webhook.secret_rotated", Some(id))).await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Stores a sample event with one delivery, to this endpoint only; the caller sends it.
    pub async fn prepare_test_send(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        id: &WebhookId,
        input: TestSendIn,
    ) -> Result<DeliveryId> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        let row = self.webhook_row(tenant_id, id).await?;
        self.store_test_event(tenant_id, row.id, input).await
    }

    /// A sample event (of the given type, with the given or a sample payload) and its one
    /// delivery, to `webhook_id` only; returns the delivery's id.
    pub(super) async fn store_test_event(
        &self,
        tenant_id: &str,
        webhook_id: String,
        input: TestSendIn,
    ) -> Result<DeliveryId> {
        let event_type = input.event_type.unwrap_or_else(|| "request_submitted".into());
        if !valid_event_type(&event_type) {
            return Err(Error::field("event_type", "not an event type"));
        }
        let payload = input.payload.unwrap_or_else(|| app::models::sample_payload(&event_type));
        let now = time::now_ms();
        let event = crate::store::events::EventRow::new(
            tenant_id,
            &event_type,
            serde_json::to_string(&payload).expect("JSON serialises"),
            now,
        );
        let delivery = crate::store::deliveries::NewDelivery {
            id: ids::new_id(ids::DELIVERY),
            tenant_id: tenant_id.to_string(),
            event_id: event.id.clone(),
            webhook_id,
            event_type,
            replay_of: None,
            replayed_by: None,
            created_at: now,
        };
        let mut tx = self.db.begin().await?;
        store::events::insert_many(&mut tx, &[event]).await?;
        store::deliveries::insert_many(&mut tx, std::slice::from_ref(&delivery)).await?;
        tx.commit().await?;
        Ok(delivery.id.into())
    }

    /// The secrets a delivery is signed with: the current one, and the previous one while its
    /// grace period lasts. `None` when this instance cannot decrypt the current one (its
    /// `IH_MASTER_KEY` differs from the one that sealed it).
    pub fn signing_secrets(&self, w: &WebhookRow, now: i64) -> Option<Vec<String>> {
        let current = self.master_key.open_string(&w.secret).ok()?;
        let mut secrets = vec![current];
        if let (Some(sealed), Some(until)) = (&w.previous_secret, w.previous_secret_until) {
            if until > now {
                secrets.extend(self.master_key.open_string(sealed).ok());
            }
        }
        Some(secrets)
    }

    /// The plaintext signing secret, for the endpoint's owner to configure the receiver.
    pub async fn webhook_secret(&self, who: &Actor, tenant_id: &TenantId, id: &WebhookId) -> Result<String> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        let row = self.webhook_row(tenant_id, id).await?;
        self.master_key.open_string(&row.secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_must_be_absolute_http_without_credentials() {
        assert!(WebhookUrl::parse("https://example.com/hook").is_ok());
        assert!(WebhookUrl::parse("http://127.0.0.1:8080/x").is_ok());
        assert!(WebhookUrl::parse("ftp://example.com").is_err());
        assert!(WebhookUrl::parse("/relative").is_err());
        assert!(WebhookUrl::parse("https://user:pw@example.com").is_err());
        assert!(WebhookUrl::parse(&format!("https://e.com/{}", "a".repeat(limits::URL))).is_err());
    }

    #[test]
    fn a_bad_endpoint_reports_every_field_at_once() {
        let input = WebhookIn {
            url: "nope".into(),
            events: vec!["Not A Type".into()],
            secret: Some("short".into()),
            headers: Some([("User-Agent".to_string(), "x".to_string())].into()),
            max_attempts: Some(0),
            ..Default::default()
        };
        let Err(Error::Validation(errors)) = check(&input, None) else { panic!("expected 422") };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "events", "secret", "headers", "max_attempts"]);
    }
}
