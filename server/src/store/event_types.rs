//! A tenant's event types (the catalogue's own entries; the built-in ones are in code).

use super::{Db, Tx};
use crate::error::Result;
use crate::{on_db, on_tx};
use app::models::TenantId;

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct EventTypeRow {
    pub tenant_id: String,
    pub name: String,
    pub description: Option<String>,
    /// JSON text.
    pub schema: Option<String>,
    /// JSON text.
    pub example: Option<String>,
    pub validate: bool,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "tenant_id, name, description, schema, example, validate, archived_at, created_at, updated_at";

pub async fn insert(tx: &mut Tx, row: &EventTypeRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO event_types (tenant_id, name, description, schema, example, validate, archived_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(&row.tenant_id).bind(&row.name).bind(&row.description).bind(&row.schema).bind(&row.example)
        .bind(row.validate).bind(row.archived_at).bind(row.created_at).bind(row.updated_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Writes every column but the keys and `created_at`.
pub async fn update(tx: &mut Tx, row: &EventTypeRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE event_types SET description = $3, schema = $4, example = $5, validate = $6, archived_at = $7, \
         updated_at = $8 WHERE tenant_id = $1 AND name = $2")
        .bind(&row.tenant_id).bind(&row.name).bind(&row.description).bind(&row.schema).bind(&row.example)
        .bind(row.validate).bind(row.archived_at).bind(row.updated_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get(db: &Db, tenant_id: &TenantId, name: &str) -> Result<Option<EventTypeRow>> {
    let sql = format!("SELECT {COLUMNS} FROM event_types WHERE tenant_id = $1 AND name = $2");
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(tenant_id.as_str()).bind(name).fetch_optional(pool).await)?)
}

/// The tenant's types by name, archived ones too.
pub async fn list(db: &Db, tenant_id: &TenantId) -> Result<Vec<EventTypeRow>> {
    let sql = format!("SELECT {COLUMNS} FROM event_types WHERE tenant_id = $1 ORDER BY name");
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(tenant_id.as_str()).fetch_all(pool).await)?)
}

/// The tenant's types that publishing validates: name and schema (none for a built-in type,
/// whose schema is the hub's).
pub async fn validated(db: &Db, tenant_id: &TenantId) -> Result<Vec<(String, Option<String>)>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT name, schema FROM event_types WHERE tenant_id = $1 AND validate AND archived_at IS NULL")
        .bind(tenant_id.as_str()).fetch_all(pool).await)?)
}
