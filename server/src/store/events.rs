use super::{Db, Tx};
use crate::error::Result;
use crate::{on_db, on_tx};
use app::models::{EventId, TenantId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    pub tenant_id: String,
    pub event_type: String,
    /// The payload exactly as accepted (compact JSON).
    pub payload: String,
    pub created_at: i64,
    /// The W3C `traceparent` of the span that published it, when tracing was on: its deliveries'
    /// attempts join that trace (see `telemetry`).
    #[sqlx(default)]
    pub trace_context: Option<String>,
}

impl EventRow {
    /// A new event with a fresh id; `payload` is compact JSON, stored as given.
    pub fn new(tenant_id: &str, event_type: &str, payload: String, created_at: i64) -> Self {
        EventRow {
            id: crate::ids::new_id(crate::ids::EVENT),
            tenant_id: tenant_id.to_string(),
            event_type: event_type.to_string(),
            payload,
            created_at,
            trace_context: crate::telemetry::current_traceparent(),
        }
    }
}

/// Inserts several events in one statement (a publish batch).
pub async fn insert_many(tx: &mut Tx, rows: &[EventRow]) -> Result<()> {
    // SQLite allows 32766 bound values; 6 columns × 1000 rows stays far below.
    for chunk in rows.chunks(1000) {
        let sql = format!(
            "INSERT INTO events (id, tenant_id, event_type, payload, created_at, trace_context) VALUES {}",
            super::value_rows(chunk.len(), 6)
        );
        on_tx!(tx, conn => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for e in chunk {
                query = query.bind(&e.id).bind(&e.tenant_id).bind(&e.event_type).bind(&e.payload).bind(e.created_at)
                    .bind(&e.trace_context);
            }
            query.execute(conn).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

pub async fn get(db: &Db, tenant_id: &TenantId, id: &EventId) -> Result<Option<EventRow>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT id, tenant_id, event_type, payload, created_at FROM events WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id.as_str()).bind(id.as_str()).fetch_optional(pool).await)?)
}

/// The event types a tenant has published.
pub async fn types_used(db: &Db, tenant_id: &TenantId) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = on_db!(db, pool => sqlx::query_as(
        "SELECT DISTINCT event_type FROM events WHERE tenant_id = $1 ORDER BY event_type LIMIT 200")
        .bind(tenant_id.as_str()).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The tenant's latest events, newest first, of one type when given (the ids sort by time).
pub async fn latest(db: &Db, tenant_id: &TenantId, event_type: Option<&str>, limit: i64) -> Result<Vec<EventRow>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT id, tenant_id, event_type, payload, created_at FROM events \
         WHERE tenant_id = $1 AND ($2 IS NULL OR event_type = $2) ORDER BY id DESC LIMIT $3")
        .bind(tenant_id.as_str()).bind(event_type).bind(limit).fetch_all(pool).await)?)
}
