//! Persistence on SQLite (the embedded default) and PostgreSQL (for several instances). Both
//! run the same SQL text: `$N` placeholders work in both, timestamps are integer milliseconds,
//! and only the few statements that must differ (the delivery claim) are spelt twice.

pub mod api_keys;
pub mod audit;
pub mod deliveries;
pub mod echo;
pub mod event_types;
pub mod events;
pub mod idempotency;
pub mod retention;
pub mod rotation;
pub mod sessions;
pub mod stats;
pub mod tenants;
pub mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs one expression against whichever pool is configured. The expression is compiled once
/// per backend, so it must type-check for both (row types derive `FromRow` generically).
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}

/// The same as [`on_db!`] inside a transaction: `$conn` is the transaction's connection.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::store::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

impl Db {
    /// Connects and applies this backend's migrations.
    /// `full_sync`: SQLite's `synchronous=FULL` (an fsync per commit: survives power loss)
    /// instead of `NORMAL` (the commit is in the WAL file before we answer: survives a crash of
    /// the hub, not of the machine). See docs/PERFORMANCE.md for what each costs.
    pub async fn connect(url: &str, full_sync: bool) -> Result<Db, String> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| format!("IH_DATABASE_URL: {e}"))?
                .create_if_missing(true)
                // So that retention can give deleted rows' space back to the disk
                // (`store::retention::give_back_free_space`). Takes effect on a new file only.
                .auto_vacuum(SqliteAutoVacuum::Incremental)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(if full_sync { SqliteSynchronous::Full } else { SqliteSynchronous::Normal })
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            if let Some(parent) = options.get_filename().parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            // One connection: SQLite has one writer anyway, and when several connections
            // contend for it, SQLite's busy handler *sleeps* (in steps up to 100 ms), which
            // showed as a 280 ms p99 in the delivery benchmark. Queued in the pool instead,
            // writers wait only as long as the writer before them.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .map_err(|e| format!("cannot open the SQLite database: {e}"))?;
            sqlx::migrate!("../migrations/sqlite")
                .run(&pool)
                .await
                .map_err(|e| format!("SQLite migrations failed: {e}"))?;
            if !retention::can_give_back_space(&pool).await.map_err(|e| format!("reading SQLite's auto_vacuum: {e}"))? {
                tracing::info!(
                    "this SQLite file was created without auto_vacuum=INCREMENTAL, so it never shrinks when \
                     retention deletes rows; see DEPLOYMENT.md (Retention) to switch it on once"
                );
            }
            Ok(Db::Sqlite(pool))
        } else {
            let options = PgConnectOptions::from_str(url).map_err(|e| format!("IH_DATABASE_URL: {e}"))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
            sqlx::migrate!("../migrations/postgres")
                .run(&pool)
                .await
                .map_err(|e| format!("PostgreSQL migrations failed: {e}"))?;
            Ok(Db::Postgres(pool))
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub async fn ping(&self) -> Result<()> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await)
    }
}

impl Tx {
    /// For the worker's own bookkeeping (claims, attempt records) only: on PostgreSQL the
    /// commit then does not wait for the WAL flush. If the database crashed right after, such a
    /// commit could be lost — which only means a delivery is claimed or sent again, as at-least-
    /// once allows. Publishes never use this: an accepted event is flushed before the 202.
    pub async fn without_flush_wait(&mut self) -> Result<()> {
        if let Tx::Postgres(tx) = self {
            sqlx::query("SET LOCAL synchronous_commit TO OFF").execute(&mut **tx).await?;
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// `$first, $first+1, …` for `count` values: the body of an `IN (…)` list.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// `($1, $2, $3), ($4, $5, $6)` for a multi-row `VALUES`.
pub fn value_rows(rows: usize, columns: usize) -> String {
    value_rows_from(1, rows, columns)
}

/// The same, numbered from `$first` (for a statement that binds other values first).
pub fn value_rows_from(first: usize, rows: usize, columns: usize) -> String {
    (0..rows).map(|r| format!("({})", placeholders(first + r * columns, columns))).collect::<Vec<_>>().join(", ")
}

/// Rows that were not found, for `fetch_optional` results.
pub fn found<T>(row: Option<T>, what: &'static str) -> Result<T> {
    row.ok_or(Error::NotFound(what))
}

#[cfg(test)]
mod tests {
    #[test]
    fn value_rows_number_placeholders_across_rows() {
        assert_eq!(super::value_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::placeholders(3, 2), "$3, $4");
        assert_eq!(super::value_rows_from(3, 2, 2), "($3, $4), ($5, $6)");
    }
}
