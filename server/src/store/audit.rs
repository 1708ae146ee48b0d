use super::{Db, Tx};
use crate::error::Result;
use crate::{on_db, on_tx};
use app::models::TenantId;

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
    pub fn now(
        tenant_id: Option<&str>,
        actor: String,
        action: &str,
        target: Option<&str>,
        source_ip: Option<String>,
    ) -> Self {
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

/// The audit log's filters; an empty string or a `None` time means "any".
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub actor: &'a str,
    /// An action, or an area whose actions all match (`webhook` → `webhook.%`).
    pub action: &'a str,
    pub target: &'a str,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// One statement for every combination of filters: an unset filter compares with itself.
pub async fn list(
    db: &Db,
    tenant_id: &TenantId,
    filter: &Filter<'_>,
    newest_first: bool,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditRow>> {
    let (page, order) = if newest_first { ("($2 = '' OR id < $2)", "DESC") } else { ("id > $2", "ASC") };
    let cursor = cursor.unwrap_or("");
    let sql = format!(
        "SELECT id, tenant_id, actor, action, target, source_ip, created_at FROM audit_log \
         WHERE tenant_id = $1 AND {page} \
         AND ($3 = '' OR actor = $3) \
         AND ($4 = '' OR action = $4 OR action LIKE $4 || '.%') \
         AND ($5 = '' OR target = $5) \
         AND created_at >= $6 AND created_at < $7 \
         ORDER BY id {order} LIMIT $8"
    );
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.as_str()).bind(cursor).bind(filter.actor).bind(filter.action).bind(filter.target)
        .bind(filter.since.unwrap_or(i64::MIN)).bind(filter.until.unwrap_or(i64::MAX)).bind(limit)
        .fetch_all(pool).await)?)
}
