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

/// Every daily counter of the tenant from `since` (a UTC day's start) on; `hour` is the day.
pub async fn daily_since(db: &Db, tenant_id: &TenantId, since: i64) -> Result<Vec<CounterRow>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT webhook_id, day AS hour, metric, count FROM stats_daily WHERE tenant_id = $1 AND day >= $2")
        .bind(tenant_id.as_str()).bind(since).fetch_all(pool).await)?)
}

/// The days from `since` on that have been rolled up.
pub async fn rolled_days(db: &Db, since: i64) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = on_db!(db, pool => sqlx::query_as(
        "SELECT day FROM stats_rollups WHERE day >= $1 ORDER BY day").bind(since).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|(day,)| day).collect())
}

/// The days (starts, `day_ms` long) that have hourly counters before `before` and are not rolled
/// up yet, oldest first.
pub async fn days_to_roll_up(db: &Db, before: i64, day_ms: i64) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = on_db!(db, pool => sqlx::query_as(
        "SELECT DISTINCT hour - hour % $2 AS day FROM stats_hourly h WHERE hour < $1 \
         AND NOT EXISTS (SELECT 1 FROM stats_rollups r WHERE r.day = h.hour - h.hour % $2) ORDER BY day")
        .bind(before).bind(day_ms).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|(day,)| day).collect())
}

/// Adds the day's hourly counters up into daily ones, once: the day is claimed in
/// `stats_rollups` in the same transaction, so of several instances one does it (on PostgreSQL
/// the others wait for its commit, then find the day claimed). False when it was done before.
pub async fn roll_up_day(db: &Db, day: i64, day_ms: i64, now: i64) -> Result<bool> {
    let mut tx = db.begin().await?;
    let claimed = on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO stats_rollups (day, rolled_at) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING")
        .bind(day).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    if claimed == 0 {
        return Ok(false);
    }
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO stats_daily (tenant_id, webhook_id, day, metric, count) \
         SELECT tenant_id, webhook_id, $1, metric, CAST(SUM(count) AS BIGINT) FROM stats_hourly \
         WHERE hour >= $1 AND hour < $2 GROUP BY tenant_id, webhook_id, metric")
        .bind(day).bind(day + day_ms).execute(conn).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(true)
}
