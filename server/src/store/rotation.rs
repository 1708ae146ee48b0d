//! Rotation schedules, kept alike on endpoints (their secret) and API keys (a reminder): setting
//! one, and taking a due turn. Each table's own query finds the due rows (`rotation_due`).

use super::Tx;
use crate::error::Result;
use crate::on_tx;
use app::models::TenantId;

/// Where a schedule lives.
#[derive(Clone, Copy)]
pub enum Scheduled {
    /// An ordinary endpoint (not a connector).
    Webhook,
    /// A key that is not revoked.
    ApiKey,
}

impl Scheduled {
    fn table(self) -> &'static str {
        match self {
            Scheduled::Webhook => "webhooks",
            Scheduled::ApiKey => "api_keys",
        }
    }

    /// The rows that may have a schedule set.
    fn settable(self) -> &'static str {
        match self {
            Scheduled::Webhook => "kind = 'webhook'",
            Scheduled::ApiKey => "revoked_at IS NULL",
        }
    }
}

/// Sets (or, with `None`, removes) a schedule, `(every_days, grace_seconds, next_at)`. False when
/// there is no such row that may have one.
pub async fn set(
    tx: &mut Tx,
    on: Scheduled,
    tenant_id: &TenantId,
    id: &str,
    schedule: Option<(i64, i64, i64)>,
    now: i64,
) -> Result<bool> {
    let sql = format!(
        "UPDATE {} SET rotation_every_days = $3, rotation_grace_seconds = $4, rotation_next_at = $5, updated_at = $6 \
         WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL AND {}",
        on.table(),
        on.settable()
    );
    let (every, grace, next) = (schedule.map(|s| s.0), schedule.map(|s| s.1), schedule.map(|s| s.2));
    let done = on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.as_str()).bind(id).bind(every).bind(grace).bind(next).bind(now)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Moves a schedule from the turn `due` to `next`, only if no one (another instance) has taken
/// that turn: true for the one that takes it.
pub async fn take(tx: &mut Tx, on: Scheduled, id: &str, due: i64, next: i64) -> Result<bool> {
    let sql = format!("UPDATE {} SET rotation_next_at = $3 WHERE id = $1 AND rotation_next_at = $2", on.table());
    let done = on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id).bind(due).bind(next).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}
