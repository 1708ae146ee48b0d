//! Hourly roll-ups of delivery attempts: one counter per (tenant, endpoint, hour, metric).
//! The recorder adds a batch's counts in the transaction that records its attempts, so the
//! statistics never disagree with the attempts and reading them never scans the attempts.

use super::Tx;
use crate::error::Result;
use crate::{on_db, on_tx};
use app::models::TenantId;

use super::Db;

/// One counter to add to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub tenant_id: String,
    pub webhook_id: String,
    /// Unix milliseconds at the start of the hour.
    pub hour: i64,
    /// `ok`, `failed`, `lat:<bucket>` or `err:<kind>` (see `domain::stats`).
    pub metric: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CounterRow {
    pub webhook_id: String,
    pub hour: i64,
    pub metric: String,
    pub count: i64,
}

/// Adds the counts; keys must be distinct (PostgreSQL refuses to update one row twice in one
/// statement), which a map guarantees.
pub async fn add(tx: &mut Tx, counts: &std::collections::BTreeMap<Key, i64>) -> Result<()> {
    let counts: Vec<_> = counts.iter().collect();
    for chunk in counts.chunks(400) {
        let sql = format!(
            "INSERT INTO stats_hourly (tenant_id, webhook_id, hour, metric, count) VALUES {} \
             ON CONFLICT (tenant_id, webhook_id, hour, metric) DO UPDATE SET count = stats_hourly.count + excluded.count",
            super::value_rows(chunk.len(), 5)
        );
        on_tx!(tx, conn => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (key, count) in chunk {
                query = query.bind(&key.tenant_id).bind(&key.webhook_id).bind(key.hour).bind(&key.metric).bind(**count);
            }
            query.execute(conn).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Every counter of the tenant from `since` (an hour start) on.
pub async fn since(db: &Db, tenant_id: &TenantId, since: i64) -> Result<Vec<CounterRow>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT webhook_id, hour, metric, count FROM stats_hourly WHERE tenant_id = $1 AND hour >= $2")
        .bind(tenant_id.as_str()).bind(since).fetch_all(pool).await)?)
}
