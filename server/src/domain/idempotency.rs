//! `Idempotency-Key` on POST: the REST layer asks here to take a key for a request, to keep the
//! answer, or to free the key; the rules of what is kept and for how long live in the store
//! (`store::idempotency`) and in retention.

use super::Hub;
use crate::error::Result;
use crate::store;
pub use crate::store::idempotency::{Claim, IN_PROGRESS};

impl Hub {
    /// Takes `key` for a request (`scope`: the caller) whose method, path and body hash to `request_hash`.
    pub async fn claim_idempotency_key(&self, scope: &str, key: &str, request_hash: &str, now: i64) -> Result<Claim> {
        store::idempotency::claim(&self.db, scope, key, request_hash, now).await
    }

    /// Keeps the answer of the request that took `key` at `claimed_at`.
    pub async fn keep_idempotent_answer(
        &self,
        scope: &str,
        key: &str,
        claimed_at: i64,
        status: i64,
        body: &str,
    ) -> Result<()> {
        store::idempotency::finish(&self.db, scope, key, claimed_at, status, body).await
    }

    /// Frees `key` (its request failed): a retry may take it.
    pub async fn free_idempotency_key(&self, scope: &str, key: &str, claimed_at: i64) -> Result<()> {
        store::idempotency::abandon(&self.db, scope, key, claimed_at).await
    }
}
