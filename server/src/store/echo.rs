//! Requests received by the echo inspector, newest kept, oldest trimmed.

use super::Db;
use crate::error::Result;
use crate::on_db;
use app::models::TenantId;

/// How many received requests a tenant's inspector keeps.
pub const KEEP: i64 = 100;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EchoRow {
    pub id: String,
    pub tenant_id: String,
    pub path: String,
    /// JSON object of the request headers.
    pub headers: String,
    pub body: String,
    pub signature_verified: bool,
    pub received_at: i64,
}

/// Stores one request and trims the tenant's inspector to the newest [`KEEP`].
pub async fn insert(db: &Db, row: &EchoRow) -> Result<()> {
    on_db!(db, pool => sqlx::query(
        "INSERT INTO echo_requests (id, tenant_id, path, headers, body, signature_verified, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&row.id).bind(&row.tenant_id).bind(&row.path).bind(&row.headers).bind(&row.body)
        .bind(row.signature_verified).bind(row.received_at)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    on_db!(db, pool => sqlx::query(
        "DELETE FROM echo_requests WHERE tenant_id = $1 AND id < \
         (SELECT MIN(id) FROM (SELECT id FROM echo_requests WHERE tenant_id = $2 ORDER BY id DESC LIMIT $3) AS newest)")
        .bind(&row.tenant_id).bind(&row.tenant_id).bind(KEEP)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The newest requests first.
pub async fn list(db: &Db, tenant_id: &TenantId, limit: i64) -> Result<Vec<EchoRow>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT id, tenant_id, path, headers, body, signature_verified, received_at FROM echo_requests \
         WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2")
        .bind(tenant_id.as_str()).bind(limit).fetch_all(pool).await)?)
}
