use super::{Db, Tx};
use crate::error::Result;
use crate::{on_db, on_tx};
use app::models::TenantId;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TenantRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

pub async fn insert(db: &Db, row: &TenantRow) -> Result<()> {
    on_db!(db, pool => sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&row.id).bind(&row.name).bind(row.created_at).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Whether the tenant was there to rename.
pub async fn rename(tx: &mut Tx, id: &str, name: &str) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query("UPDATE tenants SET name = $2 WHERE id = $1")
        .bind(id).bind(name).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn get(db: &Db, id: &TenantId) -> Result<Option<TenantRow>> {
    Ok(on_db!(db, pool => sqlx::query_as("SELECT id, name, created_at FROM tenants WHERE id = $1")
        .bind(id.as_str()).fetch_optional(pool).await)?)
}

/// A page in id order, after `cursor`; with `name`, only the tenants whose name contains it,
/// ignoring case (ASCII letters on SQLite, whose `lower` knows no others; all on PostgreSQL).
pub async fn list(db: &Db, cursor: Option<&str>, limit: i64, name: Option<&str>) -> Result<Vec<TenantRow>> {
    // `%` and `_` in the text are matched as themselves, not as LIKE's wildcards. Both sides are
    // lowered by the database's own `lower`: lowering the text in Rust (Unicode) while SQLite
    // lowers only ASCII made a name with a capital Ö unfindable even by its exact spelling.
    let pattern = name.map(|n| format!("%{}%", n.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT id, name, created_at FROM tenants WHERE id > $1 \
         AND ($3 IS NULL OR lower(name) LIKE lower($3) ESCAPE '\\') ORDER BY id LIMIT $2")
        .bind(cursor.unwrap_or("")).bind(limit).bind(pattern.as_deref()).fetch_all(pool).await)?)
}
