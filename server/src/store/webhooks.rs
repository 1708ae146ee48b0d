use super::{Db, Tx};
use crate::error::Result;
use crate::{on_db, on_tx};
use app::models::{TenantId, WebhookId};

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: String,
    pub tenant_id: String,
    pub url: String,
    /// A display name; `None`: the URL is shown.
    pub name: Option<String>,
    pub description: Option<String>,
    /// JSON array of event types.
    pub events: String,
    pub enabled: bool,
    /// Sealed with the master key.
    pub secret: Vec<u8>,
    pub previous_secret: Option<Vec<u8>>,
    pub previous_secret_until: Option<i64>,
    /// JSON object of custom headers.
    pub headers: String,
    pub max_attempts: Option<i64>,
    pub backoff_base_seconds: Option<i64>,
    pub timeout_seconds: Option<i64>,
    /// Sends a second this endpoint accepts; `None`: no limit.
    pub rate_limit_per_second: Option<i64>,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// `webhook`, or a connector kind (`slack`).
    pub kind: String,
    /// The Slack connector's channel; `None` means the configured default.
    pub channel: Option<String>,
    /// `parallel` or `fifo` ([`app::models::DeliveryOrdering`]).
    pub ordering: String,
    /// `closed`, `open` or `half_open` ([`app::models::CircuitState`]).
    pub circuit_state: String,
    /// Open: when a probe may go (Unix ms). Half-open: when the probe's turn ends.
    pub circuit_until: i64,
    /// Openings since the circuit last closed; each cool-down doubles.
    pub circuit_opens: i64,
    /// Paused by hand until then (Unix ms; `i64::MAX`: until resumed); `None`: not paused.
    pub paused_until: Option<i64>,
    /// JSON array of maintenance windows, `[{"start": ms, "end": ms, "weekly": bool}]`.
    pub maintenance_windows: Option<String>,
    /// The secret's rotation schedule: every so many days, the grace (s), the next turn (ms).
    pub rotation_every_days: Option<i64>,
    pub rotation_grace_seconds: Option<i64>,
    pub rotation_next_at: Option<i64>,
    /// The payload filter as written (`domain::payload_filter`); `None`: every event of its types.
    pub payload_filter: Option<String>,
    /// The transformation (a jq program, `crate::transform`); `None`: the standard body.
    pub transformation: Option<String>,
}

/// The kind of an ordinary endpoint; the webhook routes see only these.
pub const WEBHOOK: &str = "webhook";
pub const SLACK: &str = "slack";

const COLUMNS: &str = "id, tenant_id, url, description, events, enabled, secret, previous_secret, \
    previous_secret_until, headers, max_attempts, backoff_base_seconds, timeout_seconds, \
    disabled_reason, consecutive_failures, created_at, updated_at, kind, channel, rate_limit_per_second, \
    ordering, circuit_state, circuit_until, circuit_opens, name, paused_until, maintenance_windows, \
    rotation_every_days, rotation_grace_seconds, rotation_next_at, payload_filter, transformation";

pub async fn insert(tx: &mut Tx, w: &WebhookRow) -> Result<()> {
    let sql = format!("INSERT INTO webhooks ({COLUMNS}) VALUES ({})", super::placeholders(1, 32));
    on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&w.id).bind(&w.tenant_id).bind(&w.url).bind(&w.description).bind(&w.events)
        .bind(w.enabled).bind(&w.secret).bind(&w.previous_secret).bind(w.previous_secret_until)
        .bind(&w.headers).bind(w.max_attempts).bind(w.backoff_base_seconds).bind(w.timeout_seconds)
        .bind(&w.disabled_reason).bind(w.consecutive_failures).bind(w.created_at).bind(w.updated_at)
        .bind(&w.kind).bind(&w.channel).bind(w.rate_limit_per_second)
        .bind(&w.ordering).bind(&w.circuit_state).bind(w.circuit_until).bind(w.circuit_opens).bind(&w.name)
        .bind(w.paused_until).bind(&w.maintenance_windows)
        .bind(w.rotation_every_days).bind(w.rotation_grace_seconds).bind(w.rotation_next_at).bind(&w.payload_filter)
        .bind(&w.transformation)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Writes an endpoint's settings, those PATCH and the connector form change, and returns the
/// row as it now is. Nothing that others write is touched (whether it is on and why not, its
/// failure streak, its secrets: see [`set_enabled`] and [`rotate_secret`]): a copy read before
/// a secret rotation, or before the worker disabled the endpoint, must not undo them.
pub async fn update_settings(tx: &mut Tx, w: &WebhookRow) -> Result<Option<WebhookRow>> {
    let sql = format!(
        "UPDATE webhooks SET url = $2, description = $3, events = $4, headers = $5, max_attempts = $6, \
         backoff_base_seconds = $7, timeout_seconds = $8, rate_limit_per_second = $9, channel = $10, \
         updated_at = $11, ordering = $13, name = $14, payload_filter = $15, transformation = $16 WHERE id = $1 AND tenant_id = $12 AND deleted_at IS NULL RETURNING {COLUMNS}"
    );
    Ok(on_tx!(tx, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&w.id).bind(&w.url).bind(&w.description).bind(&w.events).bind(&w.headers)
        .bind(w.max_attempts).bind(w.backoff_base_seconds).bind(w.timeout_seconds).bind(w.rate_limit_per_second)
        .bind(&w.channel).bind(w.updated_at).bind(&w.tenant_id).bind(&w.ordering).bind(&w.name).bind(&w.payload_filter)
        .bind(&w.transformation)
        .fetch_optional(conn).await)?)
}

/// Turns an endpoint on by hand (which also forgets why it was off, its failure streak and its
/// circuit: a fresh start) or off.
pub async fn set_enabled(tx: &mut Tx, tenant_id: &TenantId, id: &str, enabled: bool, now: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE webhooks SET enabled = $2, updated_at = $3, \
         disabled_reason = CASE WHEN $2 THEN NULL ELSE disabled_reason END, \
         consecutive_failures = CASE WHEN $2 THEN 0 ELSE consecutive_failures END, \
         circuit_state = CASE WHEN $2 THEN 'closed' ELSE circuit_state END, \
         circuit_until = CASE WHEN $2 THEN 0 ELSE circuit_until END, \
         circuit_opens = CASE WHEN $2 THEN 0 ELSE circuit_opens END \
         WHERE id = $1 AND tenant_id = $4 AND deleted_at IS NULL")
        .bind(id).bind(enabled).bind(now).bind(tenant_id.as_str()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Makes `sealed` the signing secret of the tenant's endpoint `id` (an ordinary one, not a
/// connector); the one it replaces signs alongside until `previous_until`. The database moves
/// the current secret aside, so that two rotations at once chain (the second keeps the first's
/// secret in its grace) instead of one losing its secret.
pub async fn rotate_secret(
    tx: &mut Tx,
    tenant_id: &TenantId,
    id: &str,
    sealed: &[u8],
    previous_until: i64,
    now: i64,
) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE webhooks SET previous_secret = secret, secret = $2, previous_secret_until = $3, updated_at = $4 \
         WHERE id = $1 AND tenant_id = $5 AND kind = $6 AND deleted_at IS NULL")
        .bind(id).bind(sealed).bind(previous_until).bind(now).bind(tenant_id.as_str()).bind(WEBHOOK)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Pauses the endpoint until `until` (Unix ms; `i64::MAX`: until resumed), or resumes it (`None`).
/// False when there is no such endpoint.
pub async fn set_pause(tx: &mut Tx, tenant_id: &TenantId, id: &str, until: Option<i64>, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE webhooks SET paused_until = $3, updated_at = $4 \
         WHERE tenant_id = $1 AND id = $2 AND kind = $5 AND deleted_at IS NULL")
        .bind(tenant_id.as_str()).bind(id).bind(until).bind(now).bind(WEBHOOK)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Replaces the endpoint's maintenance windows (a JSON array; `None`: none). False when there is
/// no such endpoint.
pub async fn set_maintenance_windows(
    tx: &mut Tx,
    tenant_id: &TenantId,
    id: &str,
    windows: Option<&str>,
    now: i64,
) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE webhooks SET maintenance_windows = $3, updated_at = $4 \
         WHERE tenant_id = $1 AND id = $2 AND kind = $5 AND deleted_at IS NULL")
        .bind(tenant_id.as_str()).bind(id).bind(windows).bind(now).bind(WEBHOOK)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Endpoints whose scheduled rotation is due, oldest turn first.
pub async fn rotation_due(db: &Db, now: i64, limit: i64) -> Result<Vec<WebhookRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhooks WHERE rotation_next_at <= $1 AND kind = $2 AND deleted_at IS NULL \
         ORDER BY rotation_next_at LIMIT $3"
    );
    Ok(
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(WEBHOOK).bind(limit).fetch_all(pool).await)?,
    )
}

/// Replaces a connector's sealed token (it has no grace period: Slack takes one token).
pub async fn set_secret(tx: &mut Tx, tenant_id: &TenantId, id: &str, sealed: &[u8], now: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE webhooks SET secret = $2, updated_at = $3 WHERE id = $1 AND tenant_id = $4 AND deleted_at IS NULL")
        .bind(id).bind(sealed).bind(now).bind(tenant_id.as_str()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn soft_delete(tx: &mut Tx, tenant_id: &TenantId, id: &str, kind: &str, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE webhooks SET deleted_at = $3, enabled = $4, updated_at = $3 \
         WHERE tenant_id = $1 AND id = $2 AND kind = $5 AND deleted_at IS NULL")
        .bind(tenant_id.as_str()).bind(id).bind(now).bind(false).bind(kind).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// An ordinary endpoint (not a connector) of the tenant.
pub async fn get(db: &Db, tenant_id: &TenantId, id: &WebhookId) -> Result<Option<WebhookRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM webhooks WHERE tenant_id = $1 AND id = $2 AND kind = $3 AND deleted_at IS NULL");
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.as_str()).bind(id.as_str()).bind(WEBHOOK).fetch_optional(pool).await)?)
}

/// The tenant's connector of this kind, if it has one.
pub async fn connector(db: &Db, tenant_id: &TenantId, kind: &str) -> Result<Option<WebhookRow>> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks WHERE tenant_id = $1 AND kind = $2 AND deleted_at IS NULL");
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.as_str()).bind(kind).fetch_optional(pool).await)?)
}

pub async fn list(db: &Db, tenant_id: &TenantId, cursor: Option<&str>, limit: i64) -> Result<Vec<WebhookRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhooks WHERE tenant_id = $1 AND kind = $4 AND deleted_at IS NULL AND id > $2 ORDER BY id LIMIT $3");
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.as_str()).bind(cursor.unwrap_or("")).bind(limit).bind(WEBHOOK).fetch_all(pool).await)?)
}

/// Every live endpoint of a tenant, connectors included (for the analytics' health list).
pub async fn all_kinds(db: &Db, tenant_id: &TenantId, limit: i64) -> Result<Vec<WebhookRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM webhooks WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY id LIMIT $2");
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.as_str()).bind(limit).fetch_all(pool).await)?)
}

/// The enabled endpoints of a tenant with their event filters, read inside the publish
/// transaction so the fan-out sees one consistent set.
pub async fn enabled_filters(tx: &mut Tx, tenant_id: &TenantId) -> Result<Vec<(String, String, Option<String>)>> {
    Ok(on_tx!(tx, conn => sqlx::query_as(
        "SELECT id, events, payload_filter FROM webhooks WHERE tenant_id = $1 AND enabled = $2 AND deleted_at IS NULL")
        .bind(tenant_id.as_str()).bind(true).fetch_all(conn).await)?)
}

/// Everything the worker needs to send to an endpoint, for several endpoints at once.
pub async fn by_ids(db: &Db, ids: &[&str]) -> Result<Vec<WebhookRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {COLUMNS} FROM webhooks WHERE id IN ({})", super::placeholders(1, ids.len()));
    Ok(on_db!(db, pool => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })?)
}

/// Rows whose custom headers are still the plain JSON written before headers were sealed
/// (deleted endpoints too: their rows still hold the credential), as `(id, headers, secret)`.
pub async fn unsealed_headers(db: &Db, sealed_prefix: &str) -> Result<Vec<(String, String, Vec<u8>)>> {
    Ok(on_db!(db, pool => sqlx::query_as("SELECT id, headers, secret FROM webhooks WHERE headers NOT LIKE $1 || '%'")
        .bind(sealed_prefix).fetch_all(pool).await)?)
}

/// Replaces an endpoint's stored headers if they are still `old` (another instance starting at
/// the same time may have sealed them first), without touching `updated_at`: the endpoint's
/// settings do not change.
pub async fn reseal_headers(db: &Db, id: &str, old: &str, new: &str) -> Result<bool> {
    let done = on_db!(db, pool => sqlx::query("UPDATE webhooks SET headers = $3 WHERE id = $1 AND headers = $2")
        .bind(id).bind(old).bind(new).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Disables an endpoint (it answered 410, or failed for too long).
pub async fn disable(tx: &mut Tx, id: &str, reason: &str, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE webhooks SET enabled = $2, disabled_reason = $3, updated_at = $4 WHERE id = $1 AND enabled = $5")
        .bind(id).bind(false).bind(reason).bind(now).bind(true).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// An endpoint's health after its latest results were counted (see [`count_failures`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Health {
    pub consecutive_failures: i64,
    pub enabled: bool,
    pub tenant_id: String,
    pub url: String,
    pub circuit_state: String,
    pub circuit_until: i64,
    pub circuit_opens: i64,
}

/// Adds an endpoint's latest results to its failure streak: `reset` when one of them succeeded
/// (then `failures` counts those after it). Returns its health as it now is.
pub async fn count_failures(tx: &mut Tx, id: &str, reset: bool, failures: i64) -> Result<Option<Health>> {
    const RETURNING: &str =
        "RETURNING consecutive_failures, enabled, tenant_id, url, circuit_state, circuit_until, circuit_opens";
    let sql = if reset {
        format!("UPDATE webhooks SET consecutive_failures = $2 WHERE id = $1 {RETURNING}")
    } else {
        format!("UPDATE webhooks SET consecutive_failures = consecutive_failures + $2 WHERE id = $1 {RETURNING}")
    };
    Ok(on_tx!(tx, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(failures).fetch_optional(conn).await)?)
}

/// Moves an endpoint's circuit to `state` until `until` with `opens` openings counted.
pub async fn set_circuit(tx: &mut Tx, id: &str, state: &str, until: i64, opens: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE webhooks SET circuit_state = $2, circuit_until = $3, circuit_opens = $4 WHERE id = $1")
        .bind(id).bind(state).bind(until).bind(opens).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Takes the probe of an endpoint whose circuit is open (or whose last probe's turn ran out):
/// true for exactly one caller, over every instance, until `probe_until`.
pub async fn take_probe(db: &Db, id: &str, now: i64, probe_until: i64) -> Result<bool> {
    let done = on_db!(db, pool => sqlx::query(
        "UPDATE webhooks SET circuit_state = 'half_open', circuit_until = $3 \
         WHERE id = $1 AND circuit_state <> 'closed' AND circuit_until <= $2")
        .bind(id).bind(now).bind(probe_until).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// `(state, count)` of the live endpoints' circuits, for `/metrics`.
pub async fn circuit_counts(db: &Db) -> Result<Vec<(String, i64)>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT circuit_state, COUNT(*) FROM webhooks WHERE deleted_at IS NULL AND enabled = $1 GROUP BY circuit_state")
        .bind(true).fetch_all(pool).await)?)
}
