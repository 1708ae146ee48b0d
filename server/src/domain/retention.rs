//! Retention: what is deleted, and when, so that the database does not grow for ever.
//!
//! - An **event** goes, with its deliveries and their attempts, once every delivery of it has
//!   finished (delivered or dead-lettered) more than `IH_RETENTION_DAYS` ago. A delivery still
//!   pending, failing or being sent keeps its event however old it is, so nothing in flight is
//!   lost; a dead letter can be replayed for the whole period after it was dead-lettered.
//! - The daily **statistics** and API key **usage** go after the same number of days, but never
//!   sooner than 7 days; the hourly statistics, once added up into daily ones (which the pass
//!   does first, see `domain::stats`), after 8 days, whatever the retention.
//! - **Audit entries** go after `IH_AUDIT_RETENTION_DAYS`.
//! - Kept **Idempotency-Key** answers go after their 24 hours, **sessions** once expired.
//!
//! Every instance runs a pass an hour; deleting is idempotent, so instances sharing a
//! PostgreSQL need no coordination (a second pass finds nothing left).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Hub;
use crate::error::Result;
use crate::store::retention::{self as sql, Aged, Before};
use crate::{ids, store, time};

const DAY_MS: i64 = 24 * 3600 * 1000;
const HOUR_MS: i64 = 3600 * 1000;
/// Statistics and usage are kept at least this long, whatever the retention.
pub const MIN_STATS_DAYS: i64 = 7;
/// The first pass waits a minute so that a start is not slowed by it; later passes are hourly.
const FIRST_PASS_AFTER: Duration = Duration::from_secs(60);
const EVERY: Duration = Duration::from_secs(3600);

/// Rows one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub events: u64,
    pub deliveries: u64,
    pub attempts: u64,
    pub audit_entries: u64,
    pub stats_rows: u64,
    pub usage_rows: u64,
    pub idempotency_keys: u64,
    pub sessions: u64,
}

impl Purged {
    /// Each count with the `kind` label it has in `/metrics`.
    pub fn by_kind(&self) -> [(&'static str, u64); 8] {
        [
            ("events", self.events),
            ("deliveries", self.deliveries),
            ("attempts", self.attempts),
            ("audit_entries", self.audit_entries),
            ("stats_rows", self.stats_rows),
            ("usage_rows", self.usage_rows),
            ("idempotency_keys", self.idempotency_keys),
            ("sessions", self.sessions),
        ]
    }

    pub fn total(&self) -> u64 {
        self.by_kind().iter().map(|(_, n)| n).sum()
    }
}

impl Hub {
    /// Deletes everything past its retention as of `now` (Unix ms). Tests pass a `now` in the
    /// future instead of waiting for data to age.
    pub async fn purge_expired(&self, now: i64) -> Result<Purged> {
        let retention = self.config.retention;
        let mut purged = Purged::default();
        // Hourly counters go only once their day is in the daily ones: an error here ends the
        // pass before anything is deleted.
        let rolled = self.roll_up_stats(now).await?;
        if rolled > 0 {
            tracing::debug!(days = rolled, "rolled up hourly statistics into daily ones");
        }
        let hourly_before = now - super::stats::HOURLY_KEPT_DAYS * DAY_MS;
        purged.stats_rows = self.delete_older(sql::STATS, Before::Value(hourly_before)).await?;
        if let Some(days) = retention.delivery_days {
            let finished_before = now - days * DAY_MS;
            let before_id = ids::floor_at(ids::EVENT, finished_before);
            let mut after = String::new();
            loop {
                let chunk = sql::expired_events(&self.db, &after, &before_id, finished_before).await?;
                let deleted = sql::delete_events(&self.db, &chunk, finished_before).await?;
                purged.events += deleted.events;
                purged.deliveries += deleted.deliveries;
                purged.attempts += deleted.attempts;
                match chunk.last() {
                    Some(last) if chunk.len() as i64 == sql::CHUNK => after.clone_from(last),
                    _ => break,
                }
                // Lets the worker and the API have the connection between chunks.
                tokio::task::yield_now().await;
            }
            let stats_before = now - days.max(MIN_STATS_DAYS) * DAY_MS;
            purged.stats_rows += self.delete_older(sql::STATS_DAILY, Before::Value(stats_before)).await?;
            // A day's roll-up record outlives its hourly counters, or the next pass would add
            // the day up again.
            self.delete_older(sql::STATS_ROLLUPS, Before::Value(stats_before.min(hourly_before))).await?;
            purged.usage_rows = self.delete_older(sql::KEY_USAGE, Before::Value(stats_before / HOUR_MS)).await?;
        }
        if let Some(days) = retention.audit_days {
            let before = ids::floor_at(ids::AUDIT, now - days * DAY_MS);
            purged.audit_entries = self.delete_older(sql::AUDIT_LOG, Before::Id(before)).await?;
        }
        let answered_before = now - store::idempotency::TTL_MS;
        purged.idempotency_keys = self.delete_older(sql::IDEMPOTENCY_KEYS, Before::Value(answered_before)).await?;
        purged.sessions = self.delete_older(sql::SESSIONS, Before::Value(now)).await?;
        self.metrics.record_purge(&purged, now);
        if purged.deliveries > 0 {
            self.changes.changed_everywhere();
        }
        if purged.total() > 0 {
            let pages = sql::give_back_free_space(&self.db).await?;
            tracing::debug!(pages, "gave the space of deleted rows back to the disk");
        }
        Ok(purged)
    }

    async fn delete_older(&self, aged: Aged, before: Before) -> Result<u64> {
        let mut total = 0;
        loop {
            let deleted = sql::delete_chunk(&self.db, aged, &before).await?;
            total += deleted;
            if (deleted as i64) < sql::CHUNK {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}

/// Runs a pass a minute after the start and then every hour until `shutdown`. A failed pass is
/// logged and tried again at the next hour; what it did delete stays deleted.
pub async fn run(hub: Hub, shutdown: CancellationToken) {
    let mut wait = FIRST_PASS_AFTER;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.cancelled() => return,
        }
        wait = EVERY;
        match hub.purge_expired(time::now_ms()).await {
            Ok(purged) if purged.total() > 0 => tracing::info!(?purged, "deleted data past its retention"),
            Ok(_) => tracing::debug!("nothing past its retention"),
            Err(e) => tracing::warn!(error = ?e, "retention pass failed; the next hour's pass tries again"),
        }
    }
}
