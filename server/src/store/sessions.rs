//! Admin UI sessions (only the token's hash is stored) and the small settings table that keeps
//! the hash of the generated operator token.

use super::Db;
use crate::error::Result;
use crate::on_db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub actor: String,
    pub tenant_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// See [`crate::domain::Hub::session_principal`].
    pub operator_token_mark: Option<String>,
}

pub async fn insert(db: &Db, row: &SessionRow) -> Result<()> {
    on_db!(db, pool => sqlx::query(
        "INSERT INTO sessions (token_hash, actor, tenant_id, created_at, expires_at, operator_token_mark)
         VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&row.token_hash).bind(&row.actor).bind(&row.tenant_id).bind(row.created_at).bind(row.expires_at)
        .bind(&row.operator_token_mark)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get_live(db: &Db, token_hash: &str, now: i64) -> Result<Option<SessionRow>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT token_hash, actor, tenant_id, created_at, expires_at, operator_token_mark
         FROM sessions WHERE token_hash = $1 AND expires_at > $2")
        .bind(token_hash).bind(now).fetch_optional(pool).await)?)
}

pub async fn delete(db: &Db, token_hash: &str) -> Result<()> {
    on_db!(db, pool => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get_setting(db: &Db, key: &str) -> Result<Option<String>> {
    let row: Option<(String,)> = on_db!(db, pool => sqlx::query_as("SELECT value FROM settings WHERE key = $1")
        .bind(key).fetch_optional(pool).await)?;
    Ok(row.map(|r| r.0))
}

/// Sets a value only if none is there yet; returns whether this call set it. Two instances
/// starting at once therefore agree on one value.
pub async fn set_setting_once(db: &Db, key: &str, value: &str) -> Result<bool> {
    let done = on_db!(db, pool => sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key).bind(value).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}
