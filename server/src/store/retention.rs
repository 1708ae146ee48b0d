//! Deleting data past its retention, a bounded chunk per statement so that no transaction holds
//! SQLite's one writer (or PostgreSQL's row locks) for long. The rules of what may go are in
//! `domain::retention`; this is only the SQL.

use super::{placeholders, Db, Tx};
use crate::error::Result;
use crate::{on_db, on_tx};

/// Rows per statement: small enough that a chunk's transaction is a few milliseconds.
pub const CHUNK: i64 = 500;

/// An event is kept while one of its deliveries is still going somewhere or finished at or
/// after the placeholder `finished_before` names.
fn still_needed(finished_before: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id \
         AND (d.status NOT IN ('delivered', 'dead_letter') OR d.updated_at >= {finished_before}))"
    )
}

/// Up to [`CHUNK`] ids of events made before `before_id` (an `ids::floor_at`) after `after`,
/// none of whose deliveries is unfinished or finished at or after `finished_before`.
pub async fn expired_events(db: &Db, after: &str, before_id: &str, finished_before: i64) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT id FROM events WHERE id > $1 AND id < $3 AND NOT {} ORDER BY id LIMIT {CHUNK}",
        still_needed("$2")
    );
    let rows: Vec<(String,)> = on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(after).bind(finished_before).bind(before_id).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// What deleting a chunk of events removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EventsDeleted {
    pub events: u64,
    pub deliveries: u64,
    pub attempts: u64,
}

/// Deletes the events of `ids` that still qualify, with their deliveries and attempts, in one
/// transaction. The check is made again inside it because a replay may have given an event a
/// new delivery since `expired_events` read it; on PostgreSQL the events are locked first,
/// which waits for such a replay to commit (its insert holds a key-share lock on the event) and
/// keeps new ones out until this commits. SQLite has one connection, so nothing runs between.
pub async fn delete_events(db: &Db, ids: &[String], finished_before: i64) -> Result<EventsDeleted> {
    if ids.is_empty() {
        return Ok(EventsDeleted::default());
    }
    let mut tx = db.begin().await?;
    if let Tx::Postgres(conn) = &mut tx {
        let sql = format!("SELECT id FROM events WHERE id IN ({}) FOR UPDATE", placeholders(1, ids.len()));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id);
        }
        query.execute(&mut **conn).await?;
    }
    let sql =
        format!("SELECT id FROM events WHERE id IN ({}) AND NOT {}", placeholders(2, ids.len()), still_needed("$1"));
    let rows: Vec<(String,)> = on_tx!(&mut tx, conn => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(finished_before);
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(conn).await
    })?;
    let ids: Vec<String> = rows.into_iter().map(|r| r.0).collect();
    if ids.is_empty() {
        return Ok(EventsDeleted::default());
    }
    let list = placeholders(1, ids.len());
    let mut deleted = EventsDeleted::default();
    for (sql, count) in [
        (
            format!("DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id IN ({list}))"),
            &mut deleted.attempts,
        ),
        (format!("DELETE FROM deliveries WHERE event_id IN ({list})"), &mut deleted.deliveries),
        (format!("DELETE FROM events WHERE id IN ({list})"), &mut deleted.events),
    ] {
        *count = on_tx!(&mut tx, conn => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in &ids {
                query = query.bind(id);
            }
            query.execute(conn).await.map(|r| r.rows_affected())
        })?;
    }
    tx.commit().await?;
    Ok(deleted)
}

/// A table whose rows expire by one column's value.
#[derive(Debug, Clone, Copy)]
pub struct Aged {
    pub table: &'static str,
    /// The primary key's columns.
    pub key: &'static str,
    /// The indexed column compared with the cut-off.
    pub column: &'static str,
}

pub const AUDIT_LOG: Aged = Aged { table: "audit_log", key: "id", column: "id" };
/// `hour` here is Unix milliseconds at the start of the hour.
pub const STATS: Aged = Aged { table: "stats_hourly", key: "tenant_id, hour, webhook_id, metric", column: "hour" };
/// `day` here is Unix milliseconds at the start of the UTC day.
pub const STATS_DAILY: Aged = Aged { table: "stats_daily", key: "tenant_id, day, webhook_id, metric", column: "day" };
pub const STATS_ROLLUPS: Aged = Aged { table: "stats_rollups", key: "day", column: "day" };
/// `hour` here is hours since the epoch.
pub const KEY_USAGE: Aged = Aged { table: "api_key_usage", key: "key_id, hour, outcome", column: "hour" };
pub const IDEMPOTENCY_KEYS: Aged = Aged { table: "idempotency_keys", key: "scope, key", column: "created_at" };
pub const SESSIONS: Aged = Aged { table: "sessions", key: "token_hash", column: "expires_at" };

/// A cut-off: an id (`ids::floor_at`) or a number in the column's own unit.
#[derive(Debug, Clone)]
pub enum Before {
    Id(String),
    Value(i64),
}

/// Deletes up to [`CHUNK`] rows of `aged` whose column is below `before`; returns how many. The
/// caller repeats it until fewer than a chunk go.
pub async fn delete_chunk(db: &Db, aged: Aged, before: &Before) -> Result<u64> {
    let Aged { table, key, column } = aged;
    let sql = format!(
        "DELETE FROM {table} WHERE ({key}) IN \
         (SELECT {key} FROM {table} WHERE {column} < $1 ORDER BY {column} LIMIT {CHUNK})"
    );
    let deleted = match before {
        Before::Id(id) => on_db!(db, pool => sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(id)
            .execute(pool).await.map(|r| r.rows_affected())),
        Before::Value(value) => on_db!(db, pool => sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(value)
            .execute(pool).await.map(|r| r.rows_affected())),
    };
    Ok(deleted?)
}

/// Pages one `incremental_vacuum` statement gives back (4 MiB of 4 KiB pages): like the chunks
/// above, a few milliseconds of the writer at a time.
const VACUUM_PAGES: i64 = 1024;

/// Gives the space of deleted rows back to the disk: SQLite's file otherwise keeps its largest
/// size for ever (the space is reused for new rows, never returned). Needs a database created
/// with `auto_vacuum=INCREMENTAL`, as the hub creates them; one made before keeps its size until
/// `VACUUM`ed once (DEPLOYMENT.md). Returns the pages given back; PostgreSQL's autovacuum does
/// its own work, so there it does nothing.
pub async fn give_back_free_space(db: &Db) -> Result<i64> {
    let Db::Sqlite(pool) = db else { return Ok(0) };
    if !can_give_back_space(pool).await? {
        return Ok(0);
    }
    let free = || sqlx::query_as::<_, (i64,)>("PRAGMA freelist_count").fetch_one(pool);
    let (before,) = free().await?;
    let mut left = before;
    while left > 0 {
        sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA incremental_vacuum({VACUUM_PAGES})"))).execute(pool).await?;
        let (now,) = free().await?;
        if now >= left {
            break; // nothing more to give back (another writer freed pages meanwhile)
        }
        left = now;
        tokio::task::yield_now().await;
    }
    // The file shrinks when the write-ahead log is written back; TRUNCATE also empties the log.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
    Ok(before - left)
}

/// Whether this SQLite file was created with `auto_vacuum=INCREMENTAL` (2), without which
/// [`give_back_free_space`] can do nothing.
pub async fn can_give_back_space(pool: &sqlx::SqlitePool) -> Result<bool> {
    let (mode,): (i64,) = sqlx::query_as("PRAGMA auto_vacuum").fetch_one(pool).await?;
    Ok(mode == 2)
}
