//! The Slack connector: one per tenant, an endpoint of kind `slack` (migration 0005), so its
//! messages go through the delivery engine like any webhook — retries, attempts, dead letters,
//! replay, roll-ups. Its bot token is sealed with the master key like a signing secret.

use app::models::TenantId;
use app::models::{valid_event_filter, FieldError, SettingSource, SlackConnectorIn, SlackConnectorOut, TestSendIn};

use super::auth::{Actor, Scope};
use super::tenants::audit_row;
use super::Hub;
use crate::error::{Error, Result};
use crate::store::{self, webhooks::WebhookRow, webhooks::SLACK};
use crate::{ids, time};

/// What a new connector posts when its events are not given.
pub const DEFAULT_EVENTS: [&str; 1] = ["request_submitted"];
const MAX_EVENTS: usize = 50;

/// A Slack token: `xox` + a type letter + `-` + letters, digits and dashes.
fn valid_token(token: &str) -> bool {
    let b = token.as_bytes();
    token.len() <= 255
        && token.len() > 5
        && token.starts_with("xox")
        && b[3].is_ascii_alphabetic()
        && b[4] == b'-'
        && b[5..].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// `#name` (Slack's lowercase channel names) or a channel id such as `C0123ABCD`.
fn valid_channel(channel: &str) -> bool {
    let name = channel.strip_prefix('#');
    match name {
        Some(n) => {
            (1..=80).contains(&n.len())
                && n.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"-_.".contains(&c))
        }
        None => {
            (7..=21).contains(&channel.len())
                && b"CGD".contains(&channel.as_bytes()[0])
                && channel.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        }
    }
}

fn push(errors: &mut Vec<FieldError>, field: &str, message: &str) {
    errors.push(FieldError { field: field.into(), message: message.into() });
}

fn source(own: bool, default: bool) -> SettingSource {
    match (own, default) {
        (true, _) => SettingSource::Connector,
        (false, true) => SettingSource::Default,
        (false, false) => SettingSource::Missing,
    }
}

impl Hub {
    fn slack_out(&self, row: WebhookRow) -> SlackConnectorOut {
        let own_token = self.master_key.open_string(&row.secret).is_ok_and(|t| !t.is_empty());
        let config = &self.config;
        SlackConnectorOut {
            channel_source: source(row.channel.is_some(), config.slack_default_channel.is_some()),
            token_source: source(own_token, config.slack_bot_token.is_some()),
            channel: row.channel.or_else(|| config.slack_default_channel.clone()),
            id: row.id.into(),
            tenant_id: row.tenant_id.into(),
            enabled: row.enabled,
            events: serde_json::from_str(&row.events).unwrap_or_default(),
            disabled_reason: row.disabled_reason,
            created_at: time::rfc3339(row.created_at),
            updated_at: time::rfc3339(row.updated_at),
        }
    }

    async fn slack_row(&self, tenant_id: &TenantId) -> Result<WebhookRow> {
        store::found(store::webhooks::connector(&self.db, tenant_id, SLACK).await?, "slack connector")
    }

    pub async fn slack_connector(&self, who: &Actor, tenant_id: &TenantId) -> Result<SlackConnectorOut> {
        who.authorize(tenant_id, Scope::WebhooksRead)?;
        Ok(self.slack_out(self.slack_row(tenant_id).await?))
    }

    /// Creates or changes the tenant's Slack connector; true when it was created. A connector
    /// that would have no token or no channel (neither its own nor a default) is refused.
    pub async fn put_slack_connector(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        input: SlackConnectorIn,
    ) -> Result<(SlackConnectorOut, bool)> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        store::found(store::tenants::get(&self.db, tenant_id).await?, "tenant")?;
        let existing = store::webhooks::connector(&self.db, tenant_id, SLACK).await?;
        let mut errors = Vec::new();

        let token = input.bot_token.as_deref().map(str::trim);
        if token.is_some_and(|t| !t.is_empty() && !valid_token(t)) {
            push(&mut errors, "bot_token", "must be a Slack token such as xoxb-…");
        }
        let channel = input.channel.as_deref().map(str::trim);
        if channel.is_some_and(|c| !c.is_empty() && !valid_channel(c)) {
            push(&mut errors, "channel", "must be #name (lowercase) or a channel id such as C0123ABCD");
        }
        let events = match input.events {
            Some(events) => {
                let mut events: Vec<String> = events.into_iter().map(|e| e.trim().to_string()).collect();
                events.sort();
                events.dedup();
                if events.is_empty() || events.len() > MAX_EVENTS {
                    push(&mut errors, "events", &format!("name 1 to {MAX_EVENTS} event types"));
                } else if let Some(bad) = events.iter().find(|e| *e == "*" || !valid_event_filter(e)) {
                    // No "*": a channel that gets every event is noise; a family is a choice.
                    push(
                        &mut errors,
                        "events",
                        &format!("{bad:?} is not an event type or a family such as \"invoice.*\""),
                    );
                }
                Some(events)
            }
            None => None,
        };

        // The token and channel after this change: the given ones, else the current ones.
        let own_token = match token {
            Some(t) => !t.is_empty(),
            None => existing
                .as_ref()
                .is_some_and(|row| self.master_key.open_string(&row.secret).is_ok_and(|t| !t.is_empty())),
        };
        let own_channel = match channel {
            Some(c) => (!c.is_empty()).then(|| c.to_string()),
            None => existing.as_ref().and_then(|row| row.channel.clone()),
        };
        if !own_token && self.config.slack_bot_token.is_none() && !errors.iter().any(|e| e.field == "bot_token") {
            push(&mut errors, "bot_token", "required: this hub has no default (IH_SLACK_BOT_TOKEN)");
        }
        if own_channel.is_none()
            && self.config.slack_default_channel.is_none()
            && !errors.iter().any(|e| e.field == "channel")
        {
            push(&mut errors, "channel", "required: this hub has no default (IH_SLACK_DEFAULT_CHANNEL)");
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }

        let now = time::now_ms();
        let created = existing.is_none();
        let mut row = existing.unwrap_or_else(|| WebhookRow {
            id: ids::new_id(ids::WEBHOOK),
            tenant_id: tenant_id.to_string(),
            name: None,
            url: String::new(),
            description: Some("Slack connector".into()),
            events: serde_json::to_string(&DEFAULT_EVENTS).expect("strings serialise"),
            enabled: true,
            secret: self.master_key.seal(b""),
            previous_secret: None,
            previous_secret_until: None,
            headers: "{}".into(),
            max_attempts: None,
            backoff_base_seconds: None,
            timeout_seconds: None,
            rate_limit_per_second: None,
            disabled_reason: None,
            consecutive_failures: 0,
            created_at: now,
            updated_at: now,
            kind: SLACK.into(),
            channel: None,
            ordering: app::models::DeliveryOrdering::Parallel.as_str().into(),
            circuit_state: app::models::CircuitState::Closed.as_str().into(),
            circuit_until: 0,
            circuit_opens: 0,
            paused_until: None,
            maintenance_windows: None,
            rotation_every_days: None,
            rotation_grace_seconds: None,
            rotation_next_at: None,
            payload_filter: None,
            transformation: None,
        });
        if let Some(token) = token {
            row.secret = self.master_key.seal(token.as_bytes());
        }
        row.channel = own_channel;
        // Shown where deliveries name their endpoint.
        row.url = format!("slack:{}", row.channel.as_deref().unwrap_or("default-channel"));
        if let Some(events) = events {
            row.events = serde_json::to_string(&events).expect("strings serialise");
        }
        if let Some(enabled) = input.enabled {
            row.enabled = enabled;
        }
        row.updated_at = now;
        let mut tx = self.db.begin().await?;
        if created {
            store::webhooks::insert(&mut tx, &row).await?;
        } else {
            // Each part written on its own, so that what others changed since the read above
            // (the worker disabling it, say) is not undone by this copy.
            if token.is_some() {
                store::webhooks::set_secret(&mut tx, tenant_id, &row.id, &row.secret, now).await?;
            }
            if let Some(enabled) = input.enabled {
                store::webhooks::set_enabled(&mut tx, tenant_id, &row.id, enabled, now).await?;
            }
            row = store::found(store::webhooks::update_settings(&mut tx, &row).await?, "Slack connector")?;
        }
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), "connector.slack_updated", Some(&row.id)))
            .await?;
        tx.commit().await?;
        Ok((self.slack_out(row), created))
    }

    pub async fn delete_slack_connector(&self, who: &Actor, tenant_id: &TenantId) -> Result<()> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        let row = self.slack_row(tenant_id).await?;
        let mut tx = self.db.begin().await?;
        if !store::webhooks::soft_delete(&mut tx, tenant_id, &row.id, SLACK, time::now_ms()).await? {
            return Err(Error::NotFound("slack connector"));
        }
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), "connector.slack_deleted", Some(&row.id)))
            .await?;
        tx.commit().await
    }

    /// Stores a sample event with one delivery, to the Slack connector only; the caller sends it.
    pub async fn prepare_slack_test(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        input: TestSendIn,
    ) -> Result<app::models::DeliveryId> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        let row = self.slack_row(tenant_id).await?;
        self.store_test_event(tenant_id, row.id, input).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_channels_are_checked_by_shape() {
        assert!(valid_token("xoxb-123-456-abcDEF"));
        assert!(valid_token("xoxp-1"));
        assert!(!valid_token("xoxb-"));
        assert!(!valid_token("sk_live_123"));
        assert!(!valid_token("xoxb-12 34"));
        assert!(valid_channel("#requests"));
        assert!(valid_channel("#ops-alerts_2"));
        assert!(valid_channel("C0123ABCD"));
        assert!(!valid_channel("#Requests"));
        assert!(!valid_channel("#"));
        assert!(!valid_channel("requests"));
        assert!(!valid_channel("#a b"));
    }
}
