use super::{Db, Tx};
use crate::error::Result;
use crate::{on_db, on_tx};
use app::models::{ApiKeyId, TenantId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub role: Option<String>,
    /// JSON array of scope names.
    pub scopes: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub rotated_to: Option<String>,
    /// The key's own limit: requests per `rate_limit_window_seconds` (the column was named when
    /// every window was a minute); `None` for the hub's default.
    pub rate_limit_per_minute: Option<i64>,
    /// 1, 60 or 3600; `None` is a minute.
    pub rate_limit_window_seconds: Option<i64>,
    /// The rotation schedule: every so many days, the grace (s), the next reminder (ms).
    pub rotation_every_days: Option<i64>,
    pub rotation_grace_seconds: Option<i64>,
    pub rotation_next_at: Option<i64>,
    /// JSON array of CIDRs.
    pub allowed_ips: String,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, tenant_id, name, prefix, key_hash, role, scopes, expires_at, revoked_at, \
    deleted_at, rotated_to, rate_limit_per_minute, rate_limit_window_seconds, allowed_ips, last_used_at, created_at, \
    updated_at, rotation_every_days, rotation_grace_seconds, rotation_next_at";

pub async fn insert(tx: &mut Tx, k: &ApiKeyRow) -> Result<()> {
    let sql = format!("INSERT INTO api_keys ({COLUMNS}) VALUES ({})", super::placeholders(1, 20));
    on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&k.id).bind(&k.tenant_id).bind(&k.name).bind(&k.prefix).bind(&k.key_hash).bind(&k.role)
        .bind(&k.scopes).bind(k.expires_at).bind(k.revoked_at).bind(k.deleted_at).bind(&k.rotated_to)
        .bind(k.rate_limit_per_minute).bind(k.rate_limit_window_seconds).bind(&k.allowed_ips).bind(k.last_used_at).bind(k.created_at).bind(k.updated_at)
        .bind(k.rotation_every_days).bind(k.rotation_grace_seconds).bind(k.rotation_next_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn by_hash(db: &Db, key_hash: &str) -> Result<Option<ApiKeyRow>> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1 AND deleted_at IS NULL");
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(key_hash).fetch_optional(pool).await)?)
}

pub async fn get(db: &Db, tenant_id: &TenantId, id: &ApiKeyId) -> Result<Option<ApiKeyRow>> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL");
    Ok(
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tenant_id.as_str()).bind(id.as_str()).fetch_optional(pool).await)?,
    )
}

pub async fn list(db: &Db, tenant_id: &TenantId, cursor: Option<&str>, limit: i64) -> Result<Vec<ApiKeyRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_keys WHERE tenant_id = $1 AND deleted_at IS NULL AND id > $2 ORDER BY id LIMIT $3"
    );
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.as_str()).bind(cursor.unwrap_or("")).bind(limit).fetch_all(pool).await)?)
}

/// Live keys whose rotation reminder is due, oldest turn first.
pub async fn rotation_due(db: &Db, now: i64, limit: i64) -> Result<Vec<ApiKeyRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_keys WHERE rotation_next_at <= $1 AND deleted_at IS NULL AND revoked_at IS NULL \
         AND rotated_to IS NULL ORDER BY rotation_next_at LIMIT $2"
    );
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(limit).fetch_all(pool).await)?)
}

/// Records a rotation: the key's successor, and its expiry brought forward to the grace period's
/// end — only while the key is still active and not rotated, so that a revoke, delete or other
/// rotation committed since the caller read it is neither overwritten nor doubled. Returns
/// whether it was.
pub async fn mark_rotated(
    tx: &mut Tx,
    tenant_id: &TenantId,
    id: &str,
    grace_end: i64,
    successor: &str,
    now: i64,
) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE api_keys SET rotated_to = $4, updated_at = $5, \
         expires_at = CASE WHEN expires_at IS NULL OR expires_at > $3 THEN $3 ELSE expires_at END \
         WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL AND revoked_at IS NULL AND rotated_to IS NULL \
         AND (expires_at IS NULL OR expires_at > $5)")
        .bind(tenant_id.as_str()).bind(id).bind(grace_end).bind(successor).bind(now)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// A change to a key's settings; `None` leaves a column as it is.
#[derive(Debug, Default)]
pub struct KeyChange {
    pub name: Option<String>,
    /// The role (`None` for a list of scopes) and the scopes, a JSON array.
    pub access: Option<(Option<String>, String)>,
    pub expires_at: Option<Option<i64>>,
    /// The limit and its window in seconds; `Some(None)` goes back to the default.
    pub rate_limit: Option<Option<(i64, i64)>>,
    /// JSON array of CIDRs.
    pub allowed_ips: Option<String>,
}

/// Writes a change to a key's settings, only while the key is live (neither revoked, deleted nor
/// expired) and, when its expiry changes, not rotated (its expiry is then the end of the grace
/// period). Only the columns the change names are written, so changes that cross keep each
/// other's fields, and a revoke or rotation committed since the caller looked is never undone.
/// `None` when nothing was written.
pub async fn change(
    tx: &mut Tx,
    tenant_id: &TenantId,
    id: &ApiKeyId,
    c: &KeyChange,
    now: i64,
) -> Result<Option<ApiKeyRow>> {
    let sql = format!(
        "UPDATE api_keys SET updated_at = $3, name = COALESCE($4, name), \
         role = CASE WHEN $5 THEN $6 ELSE role END, scopes = COALESCE($7, scopes), \
         expires_at = CASE WHEN $8 THEN $9 ELSE expires_at END, \
         rate_limit_per_minute = CASE WHEN $10 THEN $11 ELSE rate_limit_per_minute END, \
         rate_limit_window_seconds = CASE WHEN $10 THEN $13 ELSE rate_limit_window_seconds END, \
         allowed_ips = COALESCE($12, allowed_ips) \
         WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > $3) AND (NOT $8 OR rotated_to IS NULL) RETURNING {COLUMNS}"
    );
    let (role, scopes) = c.access.clone().unzip();
    let (limit, window) = c.rate_limit.flatten().unzip();
    Ok(on_tx!(tx, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.as_str()).bind(id.as_str()).bind(now).bind(&c.name)
        .bind(c.access.is_some()).bind(role.flatten()).bind(scopes)
        .bind(c.expires_at.is_some()).bind(c.expires_at.flatten())
        .bind(c.rate_limit.is_some()).bind(limit)
        .bind(&c.allowed_ips).bind(window).fetch_optional(conn).await)?)
}

/// Revokes a key (an earlier revocation keeps its time) and, with `delete`, deletes it. Only
/// those columns are written, so a rotation committed meanwhile keeps its successor and grace.
/// `None` when there is no such key.
pub async fn end(tx: &mut Tx, tenant_id: &TenantId, id: &str, delete: bool, now: i64) -> Result<Option<ApiKeyRow>> {
    let sql = format!(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3), updated_at = $3, \
         deleted_at = CASE WHEN $4 THEN $3 ELSE NULL END \
         WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING {COLUMNS}"
    );
    Ok(on_tx!(tx, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.as_str()).bind(id).bind(now).bind(delete).fetch_optional(conn).await)?)
}

/// Adds counted requests and moves `last_used_at` forward, for many keys in one transaction.
pub async fn add_usage(
    tx: &mut Tx,
    counts: &[(String, i64, &'static str, i64)],
    last_used: &[(String, i64)],
) -> Result<()> {
    for (key_id, hour, outcome, count) in counts {
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO api_key_usage (key_id, hour, outcome, count) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key_id, hour, outcome) DO UPDATE SET count = api_key_usage.count + excluded.count")
            .bind(key_id).bind(hour).bind(*outcome).bind(count).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    for (key_id, at) in last_used {
        on_tx!(tx, conn => sqlx::query(
            "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)")
            .bind(key_id).bind(at).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// `(hour, outcome, count)` rows of one key since `since_hour`, oldest first.
pub async fn usage(db: &Db, key_id: &str, since_hour: i64) -> Result<Vec<(i64, String, i64)>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT hour, outcome, count FROM api_key_usage WHERE key_id = $1 AND hour >= $2 ORDER BY hour, outcome")
        .bind(key_id).bind(since_hour).fetch_all(pool).await)?)
}

/// Requests per key since `since_hour`, for a list of keys, in one query.
pub async fn request_totals(db: &Db, key_ids: &[String], since_hour: i64) -> Result<Vec<(String, i64)>> {
    if key_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT key_id, CAST(SUM(count) AS BIGINT) FROM api_key_usage WHERE hour >= $1 AND key_id IN ({}) GROUP BY key_id",
        super::placeholders(2, key_ids.len())
    );
    Ok(on_db!(db, pool => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(since_hour);
        for id in key_ids {
            query = query.bind(id);
        }
        query.fetch_all(pool).await
    })?)
}

/// The names of those of the tenant's keys that exist, by id, in one query.
pub async fn names(db: &Db, tenant_id: &TenantId, ids: &[&str]) -> Result<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql =
        format!("SELECT id, name FROM api_keys WHERE tenant_id = $1 AND id IN ({})", super::placeholders(2, ids.len()));
    Ok(on_db!(db, pool => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tenant_id.as_str());
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })?)
}
