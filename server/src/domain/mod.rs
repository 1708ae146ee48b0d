//! The domain service: every rule of the product lives here, called alike by the REST handlers
//! and (through the UI port) by the admin UI's server functions.

pub mod announce;
pub mod auth;
pub mod changes;
pub mod connectors;
pub mod deliveries;
pub mod echo;
pub mod event_types;
pub mod events;
pub mod health;
pub mod idempotency;
pub mod ingest;
pub mod key_token;
pub mod keys;
pub mod leads;
pub mod maintenance;
pub mod payload_filter;
pub mod ratelimit;
pub mod retention;
pub mod rotation;
pub mod sessions;
pub mod stats;
pub mod subscriptions;
pub mod tenants;
pub mod transformations;
pub mod webhooks;

use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Config;
use crate::crypto::MasterKey;
use crate::metrics::Metrics;
use crate::store::Db;

#[derive(Clone)]
pub struct Hub(Arc<HubInner>);

pub struct HubInner {
    pub db: Db,
    pub config: Config,
    pub master_key: MasterKey,
    /// SHA-256 of the operator token.
    pub operator_token_hash: [u8; 32],
    /// Wakes this instance's delivery worker when new work was committed.
    pub wake: Arc<Notify>,
    pub ingest: ingest::Ingest,
    pub metrics: Arc<Metrics>,
    /// Names this instance in leases (`locked_by`).
    pub instance_id: String,
    /// Tenants known to exist (they are never deleted), to spare the publish path a query.
    pub known_tenants: std::sync::Mutex<std::collections::HashSet<String>>,
    pub key_cache: auth::KeyCache,
    /// Rate limits and usage counts of the keys this instance has seen.
    pub meters: ratelimit::Meters,
    pub operator_meter: std::sync::Arc<ratelimit::Meter>,
    /// With `IH_REDIS_URL`: the rate limits every instance counts together.
    pub shared_limit: Option<crate::shared_limit::SharedLimiter>,
    /// Where deliveries may go (the SSRF guard): the worker's sender and endpoint validation
    /// share it.
    pub target_policy: Arc<crate::ssrf::TargetPolicy>,
    /// `http://{this hub's address}`, where its echo inspector listens.
    pub echo_base: String,
    /// Counts, per tenant, commits that change what the delivery log or the echo inspector
    /// shows; the admin UI's live stream follows it.
    pub changes: changes::Changes,
    /// Compiled schemas of the event types publishing validates, per tenant.
    pub schemas: event_types::SchemaCache,
    /// Runs endpoints' transformations in worker processes.
    pub transformer: Arc<crate::transform::Transformer>,
}

impl Deref for Hub {
    type Target = HubInner;
    fn deref(&self) -> &HubInner {
        &self.0
    }
}

impl Hub {
    pub fn new(inner: HubInner) -> Self {
        Hub(Arc::new(inner))
    }
}

/// A rotation's grace period in seconds (`default` when not given), within 0 to 30 days.
pub fn grace_period(seconds: Option<i64>, default: i64) -> crate::error::Result<i64> {
    use app::models::limits::GRACE_PERIOD_SECONDS as MAX;
    let grace = seconds.unwrap_or(default);
    if !(0..=MAX).contains(&grace) {
        return Err(crate::error::Error::field(
            "grace_period_seconds",
            format!("must be between 0 and {MAX} (30 days)"),
        ));
    }
    Ok(grace)
}

/// The entries of a list to check one by one, or none when there are more than `max`: then
/// `too_many` is called instead, one error rather than one per entry of a list that may be very
/// long.
pub fn entries_within<T>(list: &[T], max: usize, too_many: impl FnOnce()) -> &[T] {
    if list.len() <= max {
        return list;
    }
    too_many();
    &[]
}

/// `limit` as the API defines it: default 50, at most 500.
pub fn page_limit(limit: Option<i64>) -> i64 {
    limit.unwrap_or(50).clamp(1, 500)
}

/// `cursor` as the API defines it: opaque, and only a `next_cursor` of the same list (the last id
/// of a page, so of this `prefix`) is one. Anything else is a 422 rather than a position: an id
/// from another list would silently start the page somewhere arbitrary. Empty is the first page.
pub fn page_cursor<'a>(cursor: Option<&'a str>, prefix: &str) -> crate::error::Result<Option<&'a str>> {
    match cursor.filter(|c| !c.is_empty()) {
        Some(c) if !crate::ids::has_prefix(c, prefix) => {
            Err(crate::error::Error::field("cursor", "is not a next_cursor of this list; start without one"))
        }
        cursor => Ok(cursor),
    }
}

/// Every item of a paged list, following its cursors from the first page to the last: for the
/// admin UI's management pages (keys, endpoints), which show a tenant's whole list.
pub async fn every_page<T, Fut>(mut page: impl FnMut(Option<String>) -> Fut) -> crate::error::Result<Vec<T>>
where
    Fut: std::future::Future<Output = crate::error::Result<app::models::Page<T>>>,
{
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let next = page(cursor.take()).await?;
        all.extend(next.data);
        match next.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}

/// Turns a fetched `limit + 1` rows into a page and its cursor.
pub fn paginate<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    id: impl Fn(&R) -> String,
    out: impl Fn(R) -> T,
) -> app::models::Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(&id) } else { None };
    app::models::Page { data: rows.into_iter().map(out).collect(), next_cursor }
}
