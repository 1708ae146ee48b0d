//! Kept answers of POSTs sent with an `Idempotency-Key`.

use super::Db;
use crate::error::Result;
use crate::on_db;

/// How long a kept answer is replayed; retention deletes it after that.
pub const TTL_MS: i64 = 24 * 3600 * 1000;

/// `(request_hash, status, body)` of a kept answer newer than `since`.
pub async fn get(db: &Db, scope: &str, key: &str, since: i64) -> Result<Option<(String, i64, String)>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT request_hash, status, body FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at > $3")
        .bind(scope).bind(key).bind(since).fetch_optional(pool).await)?)
}

pub async fn put(db: &Db, scope: &str, key: &str, request_hash: &str, status: i64, body: &str, now: i64) -> Result<()> {
    on_db!(db, pool => sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, status = excluded.status, \
         body = excluded.body, created_at = excluded.created_at")
        .bind(scope).bind(key).bind(request_hash).bind(status).bind(body).bind(now)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}
