//! Kept answers of POSTs sent with an `Idempotency-Key`. A request claims its key before it
//! runs (a row with status [`IN_PROGRESS`]), so that a retry arriving meanwhile is told to wait
//! instead of running the request a second time.

use super::Db;
use crate::error::Result;
use crate::on_db;

/// How long a kept answer is replayed; retention deletes it after that.
pub const TTL_MS: i64 = 24 * 3600 * 1000;

/// The status of a key whose first request is still being answered.
pub const IN_PROGRESS: i64 = 0;

/// How long a key may stay in progress before a retry may take it over. Requests run to the end
/// even when their client leaves, so only a hub stopped mid-request leaves a key in progress;
/// no POST takes near this long.
pub const TAKE_OVER_AFTER_MS: i64 = 60_000;

/// What a request finds when it claims its key.
#[derive(Debug, PartialEq)]
pub enum Claim {
    /// The key is this request's: [`finish`] keeps its answer, [`abandon`] frees the key.
    Ours,
    /// Another request has the key: its kept answer, or [`IN_PROGRESS`] with an empty body.
    Taken { request_hash: String, status: i64, body: String },
}

/// Claims `key` for a request at `now` (Unix ms), which also identifies the claim to [`finish`]
/// and [`abandon`]. An answer older than [`TTL_MS`], or a claim left in progress longer than
/// [`TAKE_OVER_AFTER_MS`], is taken over.
pub async fn claim(db: &Db, scope: &str, key: &str, request_hash: &str, now: i64) -> Result<Claim> {
    // A few rounds: the row can change between the statements (retention deletes it, another
    // request takes it over); each round either settles or saw such a change.
    for _ in 0..3 {
        let inserted = on_db!(db, pool => sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at) \
             VALUES ($1, $2, $3, $4, '', $5) ON CONFLICT (scope, key) DO NOTHING")
            .bind(scope).bind(key).bind(request_hash).bind(IN_PROGRESS).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        if inserted == 1 {
            return Ok(Claim::Ours);
        }
        let found: Option<(String, i64, String, i64)> = on_db!(db, pool => sqlx::query_as(
            "SELECT request_hash, status, body, created_at FROM idempotency_keys WHERE scope = $1 AND key = $2")
            .bind(scope).bind(key).fetch_optional(pool).await)?;
        let Some((found_hash, status, body, created_at)) = found else { continue };
        let expired = created_at <= now - TTL_MS;
        let stalled = status == IN_PROGRESS && created_at <= now - TAKE_OVER_AFTER_MS;
        if !expired && !stalled {
            return Ok(Claim::Taken { request_hash: found_hash, status, body });
        }
        // Only one of several retries taking it over at once succeeds: the row must still be
        // the one read.
        let taken = on_db!(db, pool => sqlx::query(
            "UPDATE idempotency_keys SET request_hash = $3, status = $4, body = '', created_at = $5 \
             WHERE scope = $1 AND key = $2 AND created_at = $6 AND status = $7")
            .bind(scope).bind(key).bind(request_hash).bind(IN_PROGRESS).bind(now).bind(created_at).bind(status)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        if taken == 1 {
            return Ok(Claim::Ours);
        }
    }
    // It kept changing under us: as busy as can be, so the caller is asked to retry.
    Ok(Claim::Taken { request_hash: request_hash.to_string(), status: IN_PROGRESS, body: String::new() })
}

/// Keeps the answer of the request that claimed `key` at `claimed_at`.
pub async fn finish(db: &Db, scope: &str, key: &str, claimed_at: i64, status: i64, body: &str) -> Result<()> {
    on_db!(db, pool => sqlx::query(
        "UPDATE idempotency_keys SET status = $4, body = $5 \
         WHERE scope = $1 AND key = $2 AND created_at = $3 AND status = $6")
        .bind(scope).bind(key).bind(claimed_at).bind(status).bind(body).bind(IN_PROGRESS)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Frees `key` when its request has no answer worth keeping (a server error): a retry runs it.
pub async fn abandon(db: &Db, scope: &str, key: &str, claimed_at: i64) -> Result<()> {
    on_db!(db, pool => sqlx::query(
        "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at = $3 AND status = $4")
        .bind(scope).bind(key).bind(claimed_at).bind(IN_PROGRESS)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}
