//! Deliveries and their attempts: fan-out inserts, the worker's claim, and bulk recording of
//! outcomes. Claims and outcomes are batched: one statement claims many, one transaction
//! records many.

use super::{Db, Tx};
use crate::error::Result;
use crate::{on_db, on_tx};
use app::models::{DeliveryId, TenantId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub tenant_id: String,
    pub event_id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub status: String,
    pub attempt_count: i64,
    pub next_attempt_at: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub replay_of: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

const COLUMNS: &str = "id, tenant_id, event_id, webhook_id, event_type, status, attempt_count, \
    next_attempt_at, last_status_code, last_error, replay_of, created_at, delivered_at";

/// A new delivery: `pending`, due at once.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: String,
    pub tenant_id: String,
    pub event_id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub replay_of: Option<String>,
    /// Who replayed (the audit log's actor), for a replay.
    pub replayed_by: Option<String>,
    pub created_at: i64,
}

pub async fn insert_many(tx: &mut Tx, rows: &[NewDelivery]) -> Result<()> {
    for chunk in rows.chunks(1000) {
        let sql = format!(
            "INSERT INTO deliveries (id, tenant_id, event_id, webhook_id, event_type, replay_of, replayed_by, \
             created_at, updated_at, next_attempt_at, status, attempt_count) VALUES {}",
            (0..chunk.len())
                .map(|r| {
                    let b = r * 8;
                    // created_at also serves as updated_at and next_attempt_at (due at once).
                    let [id, tenant, event, webhook, kind, replay_of, replayed_by, at] =
                        std::array::from_fn(|i| b + i + 1);
                    format!("(${id}, ${tenant}, ${event}, ${webhook}, ${kind}, ${replay_of}, ${replayed_by}, ${at}, ${at}, ${at}, 'pending', 0)")
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        on_tx!(tx, conn => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for d in chunk {
                query = query.bind(&d.id).bind(&d.tenant_id).bind(&d.event_id).bind(&d.webhook_id)
                    .bind(&d.event_type).bind(&d.replay_of).bind(&d.replayed_by).bind(d.created_at);
            }
            query.execute(conn).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// A delivery this worker now holds, with what it needs to look up the rest.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: String,
    pub tenant_id: String,
    pub event_id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub attempt_count: i64,
}

const CLAIM_RETURNING: &str = "RETURNING id, tenant_id, event_id, webhook_id, event_type, attempt_count";

/// What one claim may take: at most `limit` deliveries, at most `per_endpoint` of one
/// endpoint, of an endpoint named in `room` at most its number (0: none), of the others at
/// most `unnamed`.
pub struct ClaimLimits<'a> {
    pub limit: i64,
    pub per_endpoint: i64,
    pub unnamed: i64,
    /// `{"wh_…": n}` as JSON.
    pub room: &'a str,
}

impl ClaimLimits<'static> {
    /// Up to `limit` in all, as many of one endpoint as of all.
    pub fn up_to(limit: i64) -> Self {
        ClaimLimits { limit, per_endpoint: limit, unnamed: limit, room: "{}" }
    }
}

/// The deliveries due, fairly over endpoints: the endpoints with unfinished deliveries are
/// found by skipping through an index (one seek each, however deep their backlogs), each gives
/// its oldest due deliveries up to its quota, and the batch takes the oldest of those. An
/// endpoint whose circuit is open gives nothing until its cool-down ends, then one (the probe);
/// a FIFO endpoint gives its head only, and only when the head itself is due, so nothing
/// overtakes a delivery waiting for its retry.
///
/// The endpoints are walked in a recursive CTE (a "loose index scan"), not by grouping the due
/// rows: grouping reads every due row, 100,000 of them after an outage.
const PICK: &str = "WITH RECURSIVE eps(w) AS ( \
    SELECT MIN(webhook_id) FROM deliveries WHERE status IN ('pending', 'failed', 'delivering') \
    UNION ALL \
    SELECT (SELECT MIN(webhook_id) FROM deliveries WHERE status IN ('pending', 'failed', 'delivering') \
            AND webhook_id > eps.w) FROM eps WHERE eps.w IS NOT NULL), \
  cand AS ( \
    SELECT wh.id, wh.ordering = 'fifo' AS fifo, \
      {LEAST}(CASE WHEN wh.ordering = 'fifo' OR wh.circuit_state <> 'closed' THEN 1 ELSE $5 END, {ROOM}) AS quota \
    FROM eps JOIN webhooks wh ON wh.id = eps.w \
    WHERE wh.circuit_state = 'closed' OR wh.circuit_until <= $3), \
  picked AS {MATERIALIZED} ( \
    SELECT d.id, d.next_attempt_at, cand.quota, \
      row_number() OVER (PARTITION BY cand.id ORDER BY d.id) AS n \
    FROM cand {EACH} ( \
      SELECT {COLUMNS} FROM deliveries x WHERE x.webhook_id = cand.id \
        AND x.status IN ('pending', 'failed', 'delivering') AND (cand.fifo OR x.next_attempt_at <= $3) \
      ORDER BY x.id LIMIT {LIMIT}) {EACH_END})";

/// PICK's dialects: how an endpoint's own rows are joined (PostgreSQL needs `LATERAL`; SQLite
/// has none, but looks a correlated `IN` up by index per endpoint, where PostgreSQL would
/// evaluate it once per delivery), the smaller of two numbers, and the room of an endpoint.
const PICK_POSTGRES: [(&str, &str); 7] = [
    ("{EACH}", "CROSS JOIN LATERAL"),
    // Each endpoint's own quota (PostgreSQL takes an outer column in a LATERAL's LIMIT), and
    // `picked` computed once, so the claim joins its few rows by key instead of walking every
    // due delivery in due order to test each against it (69 ms against 16 ms a claim with
    // 133,000 due deliveries over 100 endpoints).
    ("{LIMIT}", "cand.quota"),
    ("{MATERIALIZED}", "MATERIALIZED"),
    ("{COLUMNS}", "x.id, x.next_attempt_at"),
    ("{EACH_END}", "d"),
    ("{LEAST}", "LEAST"),
    ("{ROOM}", "COALESCE(($6::jsonb ->> wh.id)::bigint, $7)"),
];
const PICK_SQLITE: [(&str, &str); 7] = [
    ("{EACH}", "JOIN deliveries d ON d.id IN"),
    ("{LIMIT}", "$5"),
    ("{MATERIALIZED}", ""),
    ("{COLUMNS}", "x.id"),
    ("{EACH_END}", ""),
    ("{LEAST}", "MIN"),
    ("{ROOM}", "COALESCE(json_extract($6, '$.' || wh.id), $7)"),
];

fn pick(dialect: &[(&str, &str)]) -> String {
    dialect.iter().fold(PICK.to_string(), |sql, (from, to)| sql.replace(from, to))
}

/// Takes due deliveries for `worker` until `lease_until`, chosen by [`PICK`]. On PostgreSQL the
/// chosen rows are locked `SKIP LOCKED`, so instances claiming at once never wait for each other
/// nor take the same row, and a FIFO head another instance is claiming is skipped, not
/// overtaken; on SQLite the one statement runs under the single writer lock.
pub async fn claim(
    db: &Db,
    worker: &str,
    now: i64,
    lease_until: i64,
    limits: &ClaimLimits<'_>,
) -> Result<Vec<Claimed>> {
    const SET: &str =
        "UPDATE deliveries SET status = 'delivering', locked_by = $1, next_attempt_at = $2, updated_at = $3";
    Ok(match db {
        Db::Postgres(_) => {
            let pick = pick(&PICK_POSTGRES);
            let sql = format!(
                "{pick}, chosen AS (SELECT d.id FROM picked p JOIN deliveries d ON d.id = p.id \
                 WHERE p.n <= p.quota AND p.next_attempt_at <= $3 \
                 AND d.status IN ('pending', 'failed', 'delivering') AND d.next_attempt_at <= $3 \
                 ORDER BY d.next_attempt_at LIMIT $4 FOR UPDATE OF d SKIP LOCKED) \
                 {SET} FROM chosen WHERE deliveries.id = chosen.id \
                 RETURNING deliveries.id, tenant_id, event_id, webhook_id, event_type, attempt_count"
            );
            let mut tx = db.begin().await?;
            tx.without_flush_wait().await?;
            let Tx::Postgres(pg) = &mut tx else { unreachable!("begun on PostgreSQL") };
            let claimed = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(worker)
                .bind(lease_until)
                .bind(now)
                .bind(limits.limit)
                .bind(limits.per_endpoint)
                .bind(limits.room)
                .bind(limits.unnamed)
                .fetch_all(&mut **pg)
                .await?;
            tx.commit().await?;
            claimed
        }
        Db::Sqlite(pool) => {
            const CHOSEN: &str = "SELECT id FROM picked WHERE n <= quota AND next_attempt_at <= $3";
            let pick = pick(&PICK_SQLITE);
            let sql =
                format!("{pick} {SET} WHERE id IN ({CHOSEN} ORDER BY next_attempt_at LIMIT $4) {CLAIM_RETURNING}");
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(worker)
                .bind(lease_until)
                .bind(now)
                .bind(limits.limit)
                .bind(limits.per_endpoint)
                .bind(limits.room)
                .bind(limits.unnamed)
                .fetch_all(pool)
                .await?
        }
    })
}

/// Gives claimed deliveries back, each due again at its own time (Unix ms), for any worker:
/// at shutdown, and when their endpoint is busy or paced. One statement for the lot.
pub async fn release(db: &Db, worker: &str, due: &[(String, i64)]) -> Result<u64> {
    let mut done = 0;
    // Up to three bound values a delivery: 1000 a statement stays far below SQLite's limit.
    for chunk in due.chunks(1000) {
        // The usual case (a busy endpoint's, shutdown) gives all one time: one value, not a
        // CASE with a branch per delivery for the database to search for every row.
        let one_time = chunk.iter().all(|(_, at)| *at == chunk[0].1);
        let (next_attempt_at, first_id) = match one_time {
            true => ("$2".to_string(), 3),
            false => {
                let times: String =
                    (0..chunk.len()).map(|i| format!(" WHEN ${} THEN ${}", 2 + 2 * i, 3 + 2 * i)).collect();
                (format!("CASE id{times} END"), 2 + 2 * chunk.len())
            }
        };
        let sql = format!(
            "UPDATE deliveries SET status = 'pending', locked_by = NULL, next_attempt_at = {next_attempt_at} \
             WHERE locked_by = $1 AND status = 'delivering' AND id IN ({})",
            super::placeholders(first_id, chunk.len())
        );
        done += on_db!(db, pool => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(worker);
            if one_time {
                query = query.bind(chunk[0].1);
            } else {
                for (id, at) in chunk {
                    query = query.bind(id).bind(at);
                }
            }
            for (id, _) in chunk {
                query = query.bind(id);
            }
            query.execute(pool).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(done)
}

/// `(id, payload, created_at)` of the events behind a claimed batch.
/// What sending needs of an event.
#[derive(sqlx::FromRow)]
pub struct EventToSend {
    pub id: String,
    pub payload: String,
    pub created_at: i64,
    pub trace_context: Option<String>,
}

pub async fn payloads(db: &Db, event_ids: &[&str]) -> Result<Vec<EventToSend>> {
    if event_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, payload, created_at, trace_context FROM events WHERE id IN ({})",
        super::placeholders(1, event_ids.len())
    );
    Ok(on_db!(db, pool => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in event_ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: String,
    pub delivery_id: String,
    pub tenant_id: String,
    pub attempt_number: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    /// JSON object.
    pub response_headers: String,
    pub response_body: Option<String>,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
}

const ATTEMPT_COLUMNS: &str = "id, delivery_id, tenant_id, attempt_number, started_at, duration_ms, \
    status_code, response_headers, response_body, error_kind, error_message";

/// The state a delivery moves to after an attempt.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub delivery_id: String,
    pub status: app::models::DeliveryStatus,
    pub attempt_count: i64,
    pub next_attempt_at: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
}

/// Records a batch of attempts and the outcomes they lead to. An outcome only applies while
/// `worker` still holds the lease; the attempt is recorded either way (it did happen).
pub async fn record(tx: &mut Tx, worker: &str, attempts: &[AttemptRow], outcomes: &[Outcome], now: i64) -> Result<()> {
    for chunk in attempts.chunks(500) {
        let sql = format!("INSERT INTO attempts ({ATTEMPT_COLUMNS}) VALUES {}", super::value_rows(chunk.len(), 11));
        on_tx!(tx, conn => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for a in chunk {
                query = query.bind(&a.id).bind(&a.delivery_id).bind(&a.tenant_id).bind(a.attempt_number)
                    .bind(a.started_at).bind(a.duration_ms).bind(a.status_code).bind(&a.response_headers)
                    .bind(&a.response_body).bind(&a.error_kind).bind(&a.error_message);
            }
            query.execute(conn).await.map(|r| r.rows_affected())
        })?;
    }
    // One statement for a chunk of outcomes (a round trip each was most of a batch's time on
    // PostgreSQL): their values joined on the id, the lease still checked row by row.
    for chunk in outcomes.chunks(500) {
        let sql = format!(
            "WITH v (id, status, attempt_count, next_attempt_at, last_status_code, last_error, delivered_at) \
             AS (VALUES {}) \
             UPDATE deliveries SET status = v.status, attempt_count = v.attempt_count, \
             next_attempt_at = v.next_attempt_at, locked_by = NULL, last_status_code = v.last_status_code, \
             last_error = v.last_error, delivered_at = v.delivered_at, updated_at = $2 \
             FROM v WHERE deliveries.id = v.id AND deliveries.locked_by = $1 AND deliveries.status = 'delivering'",
            super::value_rows_from(3, chunk.len(), 7)
        );
        on_tx!(tx, conn => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(worker).bind(now);
            for o in chunk {
                query = query.bind(&o.delivery_id).bind(o.status.as_str()).bind(o.attempt_count).bind(o.next_attempt_at)
                    .bind(o.last_status_code).bind(&o.last_error).bind(o.delivered_at);
            }
            query.execute(conn).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Filters of the delivery log.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub webhook_id: Option<String>,
    pub event_type: Option<String>,
    pub event_id: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

enum Bind {
    Text(String),
    Int(i64),
}

/// Newest first; the cursor is the last id seen.
pub async fn list(
    db: &Db,
    tenant_id: &TenantId,
    filter: &Filter,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>> {
    let mut sql = format!("SELECT {COLUMNS} FROM deliveries WHERE tenant_id = $1");
    let mut binds = vec![Bind::Text(tenant_id.to_string())];
    let mut add = |clause: &str, bind: Bind| {
        binds.push(bind);
        sql.push_str(&format!(" AND {clause} ${}", binds.len()));
    };
    if let Some(v) = &filter.status {
        add("status =", Bind::Text(v.clone()));
    }
    if let Some(v) = &filter.webhook_id {
        add("webhook_id =", Bind::Text(v.clone()));
    }
    if let Some(v) = &filter.event_type {
        add("event_type =", Bind::Text(v.clone()));
    }
    if let Some(v) = &filter.event_id {
        add("event_id =", Bind::Text(v.clone()));
    }
    if let Some(v) = filter.since {
        add("created_at >=", Bind::Int(v));
    }
    if let Some(v) = filter.until {
        add("created_at <", Bind::Int(v));
    }
    if let Some(v) = cursor {
        add("id <", Bind::Text(v.to_string()));
    }
    binds.push(Bind::Int(limit));
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", binds.len()));
    Ok(on_db!(db, pool => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            query = match bind {
                Bind::Text(s) => query.bind(s),
                Bind::Int(i) => query.bind(i),
            };
        }
        query.fetch_all(pool).await
    })?)
}

pub async fn get(db: &Db, tenant_id: &TenantId, id: &DeliveryId) -> Result<Option<DeliveryRow>> {
    let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE tenant_id = $1 AND id = $2");
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.as_str()).bind(id.as_str()).fetch_optional(pool).await)?)
}

/// Every attempt of the given deliveries, oldest first.
pub async fn attempts_of(db: &Db, delivery_ids: &[String]) -> Result<Vec<AttemptRow>> {
    if delivery_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE delivery_id IN ({}) ORDER BY started_at, id",
        super::placeholders(1, delivery_ids.len())
    );
    Ok(on_db!(db, pool => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in delivery_ids {
            query = query.bind(id);
        }
        query.fetch_all(pool).await
    })?)
}

/// When the next delivery is due: a retry, a delivery given back, or a lease running out (a
/// `delivering` row's `next_attempt_at` is its lease's end). The minimum of the due index.
pub async fn next_due_at(db: &Db) -> Result<Option<i64>> {
    let row: (Option<i64>,) = on_db!(db, pool => sqlx::query_as(
        "SELECT MIN(next_attempt_at) FROM deliveries WHERE status IN ('pending', 'failed', 'delivering')")
        .fetch_one(pool).await)?;
    Ok(row.0)
}

/// `(due now, oldest due next_attempt_at)` for the metrics.
pub async fn due_stats(db: &Db, now: i64) -> Result<(i64, Option<i64>)> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT COUNT(*), MIN(next_attempt_at) FROM deliveries \
         WHERE status IN ('pending', 'failed', 'delivering') AND next_attempt_at <= $1")
        .bind(now).fetch_one(pool).await)?)
}

/// Claims one delivery by id (a test send), whatever its due time, if nobody holds it.
pub async fn claim_one(db: &Db, worker: &str, id: &str, now: i64, lease_until: i64) -> Result<Option<Claimed>> {
    let sql = format!(
        "UPDATE deliveries SET status = 'delivering', locked_by = $1, next_attempt_at = $2, updated_at = $3 \
         WHERE id = $4 AND status IN ('pending', 'failed') {CLAIM_RETURNING}"
    );
    Ok(on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(worker).bind(lease_until).bind(now).bind(id).fetch_optional(pool).await)?)
}

/// Makes a waiting delivery (pending, or failed and waiting for its retry) due now; false when
/// it is in no such state, a worker having claimed it meanwhile, say.
pub async fn make_due(tx: &mut Tx, tenant_id: &TenantId, id: &str, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE deliveries SET next_attempt_at = $3, updated_at = $3 \
         WHERE tenant_id = $1 AND id = $2 AND status IN ('pending', 'failed')")
        .bind(tenant_id.as_str()).bind(id).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Makes the endpoint's waiting deliveries that were put off (`pending`, due later) due now: when
/// it is resumed or its maintenance windows change, they need not wait for the end of a pause
/// that no longer holds. Returns how many.
pub async fn due_now_for_webhook(tx: &mut Tx, webhook_id: &str, now: i64) -> Result<u64> {
    Ok(on_tx!(tx, conn => sqlx::query(
        "UPDATE deliveries SET next_attempt_at = $2 \
         WHERE webhook_id = $1 AND status = 'pending' AND next_attempt_at > $2")
        .bind(webhook_id).bind(now).execute(conn).await.map(|r| r.rows_affected()))?)
}

/// The ids of the deliveries that replay `id`.
pub async fn replays_of(db: &Db, id: &str) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = on_db!(db, pool => sqlx::query_as(
        "SELECT id FROM deliveries WHERE replay_of = $1 ORDER BY id").bind(id).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Replays of the tenant made from `since` on, counted by who made them and where they are now.
pub async fn replay_counts(db: &Db, tenant_id: &TenantId, since: i64) -> Result<Vec<(Option<String>, String, i64)>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT replayed_by, status, COUNT(*) FROM deliveries \
         WHERE tenant_id = $1 AND replay_of IS NOT NULL AND created_at >= $2 GROUP BY replayed_by, status")
        .bind(tenant_id.as_str()).bind(since).fetch_all(pool).await)?)
}
