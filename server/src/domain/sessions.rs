//! Admin UI sessions: what signing in starts, a page load checks, and signing out ends. The UI
//! adapter calls these; only the domain touches the sessions table.

use app::models::{TenantId, SESSION_HOURS};

use super::auth::Principal;
use super::Hub;
use crate::crypto::{random_token, sha256_hex};
use crate::error::Result;
use crate::store;
pub use crate::store::sessions::SessionRow;

impl Hub {
    /// Starts a session for `principal` (already authenticated); returns its token, which only
    /// the browser's cookie keeps (the database has its hash).
    pub async fn start_session(&self, principal: &Principal) -> Result<String> {
        let token = random_token("ihs_");
        let now = crate::time::now_ms();
        let row = SessionRow {
            token_hash: sha256_hex(token.as_bytes()),
            actor: principal.actor(),
            tenant_id: principal.tenant_id().map(TenantId::to_string),
            created_at: now,
            expires_at: now + SESSION_HOURS * 3600 * 1000,
            operator_token_mark: (*principal == Principal::Operator).then(|| self.operator_session_mark()),
        };
        store::sessions::insert(&self.db, &row).await?;
        Ok(token)
    }

    /// The session of `token`, if it is live.
    pub async fn live_session(&self, token: &str) -> Result<Option<SessionRow>> {
        store::sessions::get_live(&self.db, &sha256_hex(token.as_bytes()), crate::time::now_ms()).await
    }

    pub async fn end_session(&self, token: &str) -> Result<()> {
        store::sessions::delete(&self.db, &sha256_hex(token.as_bytes())).await
    }
}
