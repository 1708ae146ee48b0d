//! Scheduled rotation. An endpoint's signing secret with a schedule is rotated by the hub on time
//! (the old secret keeps signing through the grace period, as with a rotation by hand), and
//! `webhook.secret_rotated` tells subscribers, who fetch the new secret over the API: the event
//! never carries it. An API key's new key could only be handed to its user by the hub itself,
//! which it never shows twice, so for a key the hub tells the owner instead
//! (`api_key.rotation_due`) and the owner rotates it (`POST …/rotate`); the rotated key's
//! successor keeps the schedule.
//!
//! Every instance looks for due turns each minute; a turn is taken by moving the schedule on with
//! a conditional update, so one instance acts on it, once.

use std::time::Duration;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use app::models::{
    limits, ApiKeyId, ApiKeyOut, RotationScheduleIn, RotationScheduleOut, TenantId, WebhookId, WebhookOut,
};

use super::announce::announce;
use super::auth::{Actor, Scope};
use super::tenants::audit_row;
use super::Hub;
use crate::error::{Error, Result};
use crate::store::{self, audit::AuditRow, rotation::Scheduled};
use crate::{signing, time};

const DAY_MS: i64 = 86_400_000;

/// How often each instance looks for due rotations.
const EVERY: Duration = Duration::from_secs(60);

/// A grace period when the schedule names none: a day.
const DEFAULT_GRACE_SECONDS: i64 = 86_400;

pub fn schedule_out(every_days: Option<i64>, grace: Option<i64>, next_at: Option<i64>) -> Option<RotationScheduleOut> {
    Some(RotationScheduleOut {
        every_days: every_days?,
        grace_period_seconds: grace.unwrap_or(DEFAULT_GRACE_SECONDS),
        next_at: time::rfc3339(next_at?),
    })
}

/// `(every_days, grace_seconds, next_at)` of a schedule starting now.
fn check(input: &RotationScheduleIn, now: i64) -> Result<(i64, i64, i64)> {
    let mut errors = Vec::new();
    if !(1..=365).contains(&input.every_days) {
        errors
            .push(app::models::FieldError { field: "every_days".into(), message: "must be between 1 and 365".into() });
    }
    let grace = input.grace_period_seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
    if !(0..=limits::GRACE_PERIOD_SECONDS).contains(&grace) {
        errors.push(app::models::FieldError {
            field: "grace_period_seconds".into(),
            message: format!("must be between 0 and {}", limits::GRACE_PERIOD_SECONDS),
        });
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok((input.every_days, grace, now + input.every_days * DAY_MS))
}

/// The turn after `due`, past `now` (turns missed while no instance ran are not made up).
fn next_turn(due: i64, every_days: i64, now: i64) -> i64 {
    let every = every_days.max(1) * DAY_MS;
    due + ((now - due) / every + 1) * every
}

/// Looks for due rotations every minute until shutdown.
pub async fn run(hub: Hub, shutdown: CancellationToken) {
    loop {
        if let Err(e) = hub.rotate_due(time::now_ms()).await {
            tracing::warn!(error = ?e, "scheduled rotations failed; they are tried again in a minute");
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

impl Hub {
    /// Sets or replaces an endpoint's secret rotation schedule (counted from now).
    pub async fn schedule_secret_rotation(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        id: &WebhookId,
        input: Option<RotationScheduleIn>,
    ) -> Result<WebhookOut> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        let now = time::now_ms();
        let schedule = input.as_ref().map(|input| check(input, now)).transpose()?;
        let mut tx = self.db.begin().await?;
        if !store::rotation::set(&mut tx, Scheduled::Webhook, tenant_id, id, schedule, now).await? {
            return Err(Error::NotFound("webhook"));
        }
        let action = if schedule.is_some() { "webhook.rotation_scheduled" } else { "webhook.rotation_unscheduled" };
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), action, Some(id))).await?;
        tx.commit().await?;
        self.get_webhook(who, tenant_id, id).await
    }

    /// Sets or replaces a live key's rotation schedule (counted from now).
    pub async fn schedule_key_rotation(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        id: &ApiKeyId,
        input: Option<RotationScheduleIn>,
    ) -> Result<ApiKeyOut> {
        who.authorize(tenant_id, Scope::KeysWrite)?;
        let now = time::now_ms();
        let schedule = input.as_ref().map(|input| check(input, now)).transpose()?;
        let mut tx = self.db.begin().await?;
        if !store::rotation::set(&mut tx, Scheduled::ApiKey, tenant_id, id, schedule, now).await? {
            // The transaction goes first: SQLite's pool has one connection, which it holds.
            drop(tx);
            let exists = store::api_keys::get(&self.db, tenant_id, id).await?.is_some();
            return Err(if exists {
                Error::Conflict("the key is revoked; only a live key can have a rotation schedule".into())
            } else {
                Error::NotFound("api key")
            });
        }
        let action = if schedule.is_some() { "api_key.rotation_scheduled" } else { "api_key.rotation_unscheduled" };
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), action, Some(id))).await?;
        tx.commit().await?;
        self.get_key(who, tenant_id, id).await
    }

    /// Makes the rotations (endpoints) and reminders (keys) due at `now`; each turn once over
    /// every instance. Returns how many this call made.
    pub async fn rotate_due(&self, now: i64) -> Result<usize> {
        let mut made = 0;
        for w in store::webhooks::rotation_due(&self.db, now, 100).await? {
            let (Some(due), Some(every)) = (w.rotation_next_at, w.rotation_every_days) else { continue };
            let next = next_turn(due, every, now);
            let grace = w.rotation_grace_seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
            let tenant_id = TenantId::from(w.tenant_id.clone());
            let mut tx = self.db.begin().await?;
            if !store::rotation::take(&mut tx, Scheduled::Webhook, &w.id, due, next).await? {
                continue; // another instance took this turn
            }
            let sealed = self.master_key.seal(signing::generate_secret().as_bytes());
            store::webhooks::rotate_secret(&mut tx, &tenant_id, &w.id, &sealed, now + grace * 1000, now).await?;
            let audit = AuditRow::now(Some(&w.tenant_id), "system".into(), "webhook.secret_rotated", Some(&w.id), None);
            store::audit::insert(&mut tx, &audit).await?;
            let data = json!({
                "webhook_id": w.id, "tenant_id": w.tenant_id, "name": w.name, "url": w.url,
                "previous_secret_valid_until": time::rfc3339(now + grace * 1000),
                "next_rotation_at": time::rfc3339(next),
            });
            let announced = announce(&mut tx, &tenant_id, "webhook.secret_rotated", data).await?;
            tx.commit().await?;
            self.announced(&tenant_id, announced);
            tracing::info!(webhook_id = %w.id, "signing secret rotated on schedule");
            made += 1;
        }
        for k in store::api_keys::rotation_due(&self.db, now, 100).await? {
            let (Some(due), Some(every)) = (k.rotation_next_at, k.rotation_every_days) else { continue };
            let next = next_turn(due, every, now);
            let tenant_id = TenantId::from(k.tenant_id.clone());
            let mut tx = self.db.begin().await?;
            if !store::rotation::take(&mut tx, Scheduled::ApiKey, &k.id, due, next).await? {
                continue;
            }
            let audit = AuditRow::now(Some(&k.tenant_id), "system".into(), "api_key.rotation_due", Some(&k.id), None);
            store::audit::insert(&mut tx, &audit).await?;
            let data = json!({
                "api_key_id": k.id, "tenant_id": k.tenant_id, "name": k.name, "prefix": k.prefix,
                "due_at": time::rfc3339(due), "next_reminder_at": time::rfc3339(next),
            });
            let announced = announce(&mut tx, &tenant_id, "api_key.rotation_due", data).await?;
            tx.commit().await?;
            self.announced(&tenant_id, announced);
            made += 1;
        }
        Ok(made)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_turn_skips_the_turns_missed() {
        assert_eq!(next_turn(10 * DAY_MS, 7, 10 * DAY_MS), 17 * DAY_MS);
        assert_eq!(next_turn(10 * DAY_MS, 7, 30 * DAY_MS), 31 * DAY_MS, "three weeks late: the next one ahead");
    }

    #[test]
    fn a_schedule_is_checked_by_field() {
        let Err(Error::Validation(errors)) =
            check(&RotationScheduleIn { every_days: 0, grace_period_seconds: Some(-1) }, 0)
        else {
            panic!()
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["every_days", "grace_period_seconds"]);
        assert_eq!(
            check(&RotationScheduleIn { every_days: 30, grace_period_seconds: None }, 5).unwrap(),
            (30, 86_400, 5 + 30 * DAY_MS)
        );
    }
}
