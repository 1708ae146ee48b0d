//! Per-key request counts by hour and outcome, and `last_used_at`. The request path only
//! bumps counters in memory; a background task writes them in one transaction every few
//! seconds, so authentication costs no database write.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::Result;
use crate::store::{self, Db};

#[derive(Default)]
pub struct Usage {
    counts: Mutex<HashMap<(String, i64, &'static str), i64>>,
    last_used: Mutex<HashMap<String, i64>>,
}

impl Usage {
    pub fn count(&self, key_id: &str, outcome: &'static str, now_ms: i64) {
        let hour = now_ms / 3_600_000;
        *self.counts.lock().expect("not poisoned").entry((key_id.to_string(), hour, outcome)).or_insert(0) += 1;
        if outcome == "ok" {
            self.last_used.lock().expect("not poisoned").insert(key_id.to_string(), now_ms);
        }
    }

    /// Writes what was counted since the last flush.
    pub async fn flush(&self, db: &Db) -> Result<()> {
        let counts: Vec<_> = std::mem::take(&mut *self.counts.lock().expect("not poisoned"))
            .into_iter()
            .map(|((key, hour, outcome), n)| (key, hour, outcome, n))
            .collect();
        let last_used: Vec<_> = std::mem::take(&mut *self.last_used.lock().expect("not poisoned")).into_iter().collect();
        if counts.is_empty() && last_used.is_empty() {
            return Ok(());
        }
        let mut tx = db.begin().await?;
        store::api_keys::add_usage(&mut tx, &counts, &last_used).await?;
        tx.commit().await
    }
}
