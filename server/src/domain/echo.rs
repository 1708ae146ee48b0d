//! The echo inspector: a receiver built into the hub, so "send a sample webhook and see it
//! arrive, signature checked" works with no internet and no tool of one's own.
//!
//! Its URLs are `{hub}/echo/{tenant_id}/{name}`. A request is checked against the signing
//! secrets of the tenant's endpoints whose URL has the same path, the way a receiver would check
//! it, and kept (the newest [`store::echo::KEEP`] per tenant) for the admin UI and the API.

use app::models::TenantId;
use std::collections::BTreeMap;

use app::models::EchoRequestOut;

use super::auth::{Actor, Scope};
use super::Hub;
use crate::error::Result;
use crate::store::echo::EchoRow;
use crate::{ids, signing, store, time};

/// Bodies are kept up to this size; the rest is cut.
const BODY_LIMIT: usize = 64 * 1024;

impl Hub {
    /// A fresh echo URL for a tenant, on this hub's own address.
    pub fn new_echo_url(&self, tenant_id: &str) -> String {
        let name = &crate::crypto::random_token("")[..12];
        format!("{}/echo/{tenant_id}/{name}", self.echo_base)
    }

    /// Records a request the echo inspector received; answers whether its signature verified.
    pub async fn receive_echo(
        &self,
        tenant_id: &TenantId,
        path: &str,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<bool> {
        self.ensure_tenant_exists(tenant_id).await?;
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let verified = match (
            header("webhook-id"),
            header("webhook-timestamp").and_then(|t| t.parse().ok()),
            header("webhook-signature"),
        ) {
            (Some(id), Some(ts), Some(signature)) => {
                let secrets = self.echo_secrets(tenant_id, path).await?;
                let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
                signing::verify_standard(&secrets, id, ts, body, signature)
            }
            _ => false,
        };
        let headers: BTreeMap<&str, String> =
            headers.iter().map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
        let row = EchoRow {
            id: ids::new_id(ids::ECHO),
            tenant_id: tenant_id.to_string(),
            path: path.to_string(),
            headers: serde_json::to_string(&headers).expect("a map serialises"),
            body: String::from_utf8_lossy(&body[..body.len().min(BODY_LIMIT)]).into_owned(),
            signature_verified: verified,
            received_at: time::now_ms(),
        };
        store::echo::insert(&self.db, &row).await?;
        self.changes.changed([tenant_id.as_str()]);
        Ok(verified)
    }

    /// The secrets (current, and previous during a rotation's grace) of the tenant's endpoints
    /// that point at this echo path.
    async fn echo_secrets(&self, tenant_id: &TenantId, path: &str) -> Result<Vec<String>> {
        let now = time::now_ms();
        let webhooks = store::webhooks::list(&self.db, tenant_id, None, 500).await?;
        Ok(webhooks
            .iter()
            .filter(|w| url::Url::parse(&w.url).is_ok_and(|u| u.path() == path))
            .filter_map(|w| self.signing_secrets(w, now))
            .flatten()
            .collect())
    }

    pub async fn echo_requests(&self, who: &Actor, tenant_id: &TenantId) -> Result<Vec<EchoRequestOut>> {
        who.authorize(tenant_id, Scope::WebhooksRead)?;
        let rows = store::echo::list(&self.db, tenant_id, store::echo::KEEP).await?;
        Ok(rows
            .into_iter()
            .map(|r| EchoRequestOut {
                id: r.id,
                path: r.path,
                headers: serde_json::from_str(&r.headers).unwrap_or_default(),
                body: r.body,
                signature_verified: r.signature_verified,
                received_at: time::rfc3339(r.received_at),
            })
            .collect())
    }
}
