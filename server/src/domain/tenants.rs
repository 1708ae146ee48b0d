use app::models::{limits, AuditEntryOut, AuditFilter, Page, TenantIn, TenantOut};

use super::auth::{Actor, Scope};
use super::{page_cursor, page_limit, paginate, Hub};
use crate::error::{Error, Result};
use crate::store::{self, tenants::TenantRow};
use crate::{ids, time};
use app::models::TenantId;

pub fn tenant_out(row: TenantRow) -> TenantOut {
    TenantOut { id: row.id.into(), name: row.name, created_at: time::rfc3339(row.created_at) }
}

impl Hub {
    pub async fn create_tenant(&self, who: &Actor, input: TenantIn) -> Result<TenantOut> {
        who.require_operator()?;
        let row = TenantRow { id: ids::new_id(ids::TENANT), name: tenant_name(&input)?, created_at: time::now_ms() };
        store::tenants::insert(&self.db, &row).await?;
        self.audit(who, Some(row.id.as_str()), "tenant.created", Some(&row.id)).await?;
        Ok(tenant_out(row))
    }

    /// Renames a tenant: the operator's alone, as creating one is. Audited `tenant.renamed`.
    pub async fn rename_tenant(&self, who: &Actor, id: &TenantId, input: TenantIn) -> Result<TenantOut> {
        who.require_operator()?;
        let name = tenant_name(&input)?;
        let mut tx = self.db.begin().await?;
        if !store::tenants::rename(&mut tx, id, &name).await? {
            return Err(Error::NotFound("tenant"));
        }
        store::audit::insert(&mut tx, &audit_row(who, Some(id), "tenant.renamed", Some(id))).await?;
        tx.commit().await?;
        let row = store::tenants::get(&self.db, id).await?;
        Ok(tenant_out(store::found(row, "tenant")?))
    }

    pub async fn list_tenants(
        &self,
        who: &Actor,
        cursor: Option<&str>,
        limit: Option<i64>,
        name: Option<&str>,
    ) -> Result<Page<TenantOut>> {
        who.require_operator()?;
        let limit = page_limit(limit);
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        let rows = store::tenants::list(&self.db, page_cursor(cursor, ids::TENANT)?, limit + 1, name).await?;
        Ok(paginate(rows, limit, |r| r.id.clone(), tenant_out))
    }

    pub async fn get_tenant(&self, who: &Actor, id: &TenantId) -> Result<TenantOut> {
        who.require_tenant(id)?;
        let row = store::tenants::get(&self.db, id).await?;
        Ok(tenant_out(store::found(row, "tenant")?))
    }

    pub async fn audit_log(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        filter: &AuditFilter,
        newest_first: bool,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Page<AuditEntryOut>> {
        who.authorize(tenant_id, Scope::AuditRead)?;
        let time = |field: &str, value: &Option<String>| -> Result<Option<i64>> {
            value
                .as_deref()
                .map(|v| time::parse_rfc3339(v).ok_or_else(|| Error::field(field, "must be an RFC 3339 time")))
                .transpose()
        };
        let text = |value: &Option<String>| value.as_deref().map(str::trim).unwrap_or("").to_string();
        let (actor, action, target) = (text(&filter.actor), text(&filter.action), text(&filter.target));
        let filter = store::audit::Filter {
            actor: &actor,
            action: &action,
            target: &target,
            since: time("since", &filter.since)?,
            until: time("until", &filter.until)?,
        };
        let limit = page_limit(limit);
        let rows =
            store::audit::list(&self.db, tenant_id, &filter, newest_first, page_cursor(cursor, ids::AUDIT)?, limit + 1)
                .await?;
        Ok(paginate(
            rows,
            limit,
            |r| r.id.clone(),
            |r| AuditEntryOut {
                id: r.id,
                actor: r.actor,
                action: r.action,
                target: r.target,
                source_ip: r.source_ip,
                created_at: time::rfc3339(r.created_at),
            },
        ))
    }

    /// An audit entry in its own transaction (for changes that are a single statement).
    pub async fn audit<T: AsRef<str> + ?Sized>(
        &self,
        who: &Actor,
        tenant_id: Option<&T>,
        action: &str,
        target: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        store::audit::insert(&mut tx, &audit_row(who, tenant_id, action, target)).await?;
        tx.commit().await
    }
}

/// A tenant's name from the request: trimmed, 1 to `TENANT_NAME` characters.
fn tenant_name(input: &TenantIn) -> Result<String> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > limits::TENANT_NAME {
        return Err(Error::field("name", format!("must be 1 to {} characters", limits::TENANT_NAME)));
    }
    Ok(name.to_string())
}

/// An audit entry of `who`'s action, from their address. `tenant_id`: a `TenantId`, or the text
/// of one read from a row.
pub fn audit_row<T: AsRef<str> + ?Sized>(
    who: &Actor,
    tenant_id: Option<&T>,
    action: &str,
    target: Option<&str>,
) -> store::audit::AuditRow {
    store::audit::AuditRow::now(tenant_id.map(AsRef::as_ref), who.actor(), action, target, who.source_ip.clone())
}
