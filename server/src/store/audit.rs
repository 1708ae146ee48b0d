use super::{Db, Tx};
use crate::error::Result;
use crate::{on_db, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: String,
    pub tenant_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub source_ip: Option<String>,
    pub created_at: i64,
}

impl AuditRow {
    /// An entry made now; `actor` is a key id, `operator` or `system`.
    pub fn now(tenant_id: Option<&str>, actor: String, action: &str, target: Option<&str>, source_ip: Option<String>) -> Self {
        AuditRow {
            id: crate::ids::new_id(crate::ids::AUDIT),
            tenant_id: tenant_id.map(str::to_string),
            actor,
            action: action.to_string(),
            target: target.map(str::to_string),
            source_ip,
            created_at: crate::time::now_ms(),
        }
    }
}

const INSERT: &str = "INSERT INTO audit_log (id, tenant_id, actor, action, target, source_ip, created_at) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Written in the same transaction as the change it records, so neither exists without the other.
pub async fn insert(tx: &mut Tx, row: &AuditRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(INSERT)
        .bind(&row.id).bind(&row.tenant_id).bind(&row.actor).bind(&row.action)
        .bind(&row.target).bind(&row.source_ip).bind(row.created_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn list(db: &Db, tenant_id: &str, cursor: Option<&str>, limit: i64) -> Result<Vec<AuditRow>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT id, tenant_id, actor, action, target, source_ip, created_at FROM audit_log \
         WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3")
        .bind(tenant_id).bind(cursor.unwrap_or("")).bind(limit).fetch_all(pool).await)?)
}
