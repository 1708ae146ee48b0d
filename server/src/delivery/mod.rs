//! The delivery worker. It claims due deliveries in batches under a lease, sends them
//! concurrently with no database lock held during HTTP, and records the attempts and outcomes
//! in batches. A lease that runs out (crash, kill -9) makes the delivery due again: delivery is
//! at least once, and nothing accepted is lost.

pub mod pacing;
mod recorder;
pub mod retry;
pub mod sender;
pub mod slack;
pub mod ssrf;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use app::models::{DeliveryWithAttempts, TestSendIn};

use crate::domain::auth::Principal;
use crate::domain::Hub;
use crate::error::Result;
use crate::store::deliveries::{AttemptRow, Claimed, Outcome};
use crate::store::webhooks::WebhookRow;
use crate::{ids, store, time};
use pacing::Pacer;
use recorder::{Record, Recorder};
use retry::Verdict;
use sender::{AttemptResult, Endpoint, Message, Refusal, Sender, Target};

/// Events the hub publishes about itself, to endpoints that subscribe to them by name.
pub use app::models::OPERATIONAL_EVENT_TYPES as OPERATIONAL_TYPES;

/// Why a claimed delivery cannot be sent at all; it is dead-lettered with this as its error.
#[derive(Clone, Copy)]
struct Unsendable {
    kind: &'static str,
    message: &'static str,
}

const DISABLED: Unsendable = Unsendable { kind: "endpoint_disabled", message: "the endpoint is disabled or deleted" };
const SLACK_UNCONFIGURED: Unsendable = Unsendable {
    kind: "slack_not_configured",
    message:
        "the Slack connector has no bot token or channel, and IH_SLACK_BOT_TOKEN / IH_SLACK_DEFAULT_CHANNEL give none",
};

/// The most deliveries claimed by one statement.
const MAX_BATCH: usize = 256;

/// A claimed delivery with everything needed to send it.
struct Job {
    claimed: Claimed,
    plan: Plan,
    payload: Arc<str>,
    created_at_ms: i64,
}

/// What this instance will do with an endpoint's deliveries: send them with its retry
/// settings, or dead-letter them as `Unsendable`. Shared by every delivery of a batch to the
/// same endpoint.
#[derive(Clone)]
struct Plan {
    endpoint: Result<Arc<Endpoint>, Unsendable>,
    settings: RetrySettings,
    /// The endpoint's `rate_limit_per_second`, for a sendable endpoint that has one.
    per_second: Option<i64>,
}

#[derive(Clone, Copy)]
struct RetrySettings {
    max_attempts: i64,
    backoff_base: Duration,
}

pub struct Worker {
    hub: Hub,
    sender: Sender,
    recorder: Recorder,
    permits: Arc<Semaphore>,
    capacity: usize,
    /// Per-endpoint slots (`IH_DELIVERY_CONCURRENCY_PER_ENDPOINT`), by webhook id.
    endpoint_slots: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Per-endpoint send rates (`rate_limit_per_second`).
    pacer: Pacer,
    /// Wakes the loop when deliveries finish while it waits for room.
    freed: Notify,
    /// Deliveries this worker holds, for releasing their leases at shutdown.
    in_flight: Mutex<HashSet<String>>,
    /// The earliest retry this worker scheduled (ms), so it wakes for it without polling.
    next_retry_at: AtomicI64,
    /// The last time the loop ran (ms); `/ready` reads it.
    pub heartbeat: AtomicI64,
}

impl Worker {
    pub fn new(hub: Hub) -> Arc<Self> {
        let capacity = hub.config.delivery.concurrency;
        Arc::new(Worker {
            recorder: Recorder::start(hub.clone()),
            sender: Sender::new(hub.target_policy.clone()),
            hub,
            permits: Arc::new(Semaphore::new(capacity)),
            capacity,
            endpoint_slots: Mutex::new(HashMap::new()),
            pacer: Pacer::default(),
            freed: Notify::new(),
            in_flight: Mutex::new(HashSet::new()),
            next_retry_at: AtomicI64::new(i64::MAX),
            heartbeat: AtomicI64::new(time::now_ms()),
        })
    }

    /// The background loop, until `shutdown`; then it waits briefly for deliveries in flight
    /// and gives back the leases of those that did not finish.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let poll = self.hub.config.delivery.poll_interval;
        let low_water = (self.capacity / 4).max(1);
        while !shutdown.is_cancelled() {
            self.heartbeat.store(time::now_ms(), Ordering::Relaxed);
            let room = self.permits.available_permits();
            if room < low_water {
                // Claim in worthwhile batches: wait until a quarter of the slots are free.
                tokio::select! {
                    _ = self.freed.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.cancelled() => break,
                }
                continue;
            }
            let limit = room.min(MAX_BATCH);
            // A wake-up time that has come is used up by this claim; a later one is kept (it was
            // reset unconditionally before, so a retry scheduled before a claim that found
            // nothing due waited for the poll interval instead of its own time).
            let now = time::now_ms();
            let _ = self
                .next_retry_at
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| (t <= now).then_some(i64::MAX));
            match self.claim(limit).await {
                Ok(jobs) => {
                    let full = jobs.len() == limit;
                    let now = time::now_ms();
                    let mut busy = Vec::new();
                    // Paced deliveries of this batch waiting, per endpoint: each comes back one
                    // interval after the one before it.
                    let mut paced: HashMap<String, i64> = HashMap::new();
                    for job in jobs {
                        let webhook_id = &job.claimed.webhook_id;
                        let Ok(slot) = self.endpoint_slot(webhook_id).try_acquire_owned() else {
                            busy.push((job.claimed.id, now + 100));
                            continue;
                        };
                        if let Some(per_second) = job.plan.per_second {
                            if let Err(free_at_us) = self.pacer.take(webhook_id, per_second, now * 1000) {
                                let waiting = paced.entry(webhook_id.clone()).or_default();
                                let at_us = free_at_us + *waiting * Pacer::interval_us(per_second);
                                *waiting += 1;
                                busy.push((job.claimed.id, (at_us + 999) / 1000));
                                continue;
                            }
                        }
                        let permit = self.permits.clone().acquire_owned().await.expect("never closed");
                        tokio::spawn(self.clone().deliver(job, Some((permit, slot))));
                    }
                    self.defer(busy).await;
                    if full {
                        continue;
                    }
                }
                Err(e) => tracing::warn!(error = ?e, "claiming deliveries failed; retrying"),
            }
            // Everything due was claimed: sleep until the next delivery is due, as the database
            // says. `next_retry_at` alone held only the earliest time this worker had scheduled;
            // once that passed, later retries and give-backs waited for the poll (5 s by
            // default): the delivery benchmark's last deliveries came 5 s after the rest in
            // about half of its runs (2,350 instead of ~6,000 deliveries/s).
            match store::deliveries::next_due_at(&self.hub.db).await {
                Ok(Some(at)) => {
                    self.next_retry_at.fetch_min(at, Ordering::Relaxed);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = ?e, "reading the next due time failed; polling"),
            }
            let next_retry = self.next_retry_at.load(Ordering::Relaxed);
            let until_retry = Duration::from_millis((next_retry - time::now_ms()).max(0) as u64);
            tokio::select! {
                _ = self.hub.wake.notified() => {}
                _ = tokio::time::sleep(poll.min(until_retry)) => {}
                _ = shutdown.cancelled() => break,
            }
        }
        self.release_on_shutdown().await;
    }

    fn endpoint_slot(&self, webhook_id: &str) -> Arc<Semaphore> {
        let mut slots = self.endpoint_slots.lock().expect("not poisoned");
        if let Some(slot) = slots.get(webhook_id) {
            return slot.clone();
        }
        let slot = Arc::new(Semaphore::new(self.hub.config.delivery.concurrency_per_endpoint));
        slots.insert(webhook_id.to_string(), slot.clone());
        slot
    }

    /// Gives back, in one statement, the claimed deliveries whose endpoint has no free slot or
    /// is sending at its rate limit: each is due again at its time, with no attempt counted.
    async fn defer(&self, due: Vec<(String, i64)>) {
        let Some(first_again) = due.iter().map(|(_, at)| *at).min() else { return };
        {
            let mut in_flight = self.in_flight.lock().expect("not poisoned");
            for (id, _) in &due {
                in_flight.remove(id);
            }
        }
        match store::deliveries::release(&self.hub.db, &self.hub.instance_id, &due).await {
            Ok(_) => {
                self.next_retry_at.fetch_min(first_again, Ordering::Relaxed);
                for _ in &due {
                    self.hub.metrics.deferred.inc();
                }
            }
            Err(e) => {
                tracing::warn!(error = ?e, "could not give back deliveries of a busy endpoint; their leases will expire")
            }
        }
    }

    async fn release_on_shutdown(&self) {
        let all = self.capacity as u32;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.permits.acquire_many(all)).await;
        let now = time::now_ms();
        let held: Vec<(String, i64)> =
            self.in_flight.lock().expect("not poisoned").iter().map(|id| (id.clone(), now)).collect();
        match store::deliveries::release(&self.hub.db, &self.hub.instance_id, &held).await {
            Ok(n) if n > 0 => tracing::info!(released = n, "gave back leases of unfinished deliveries"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "could not release leases; they will expire"),
        }
    }

    /// Delivers everything due now, batch after batch, and returns how many attempts were made.
    /// Tests call this instead of waiting for the background loop.
    pub async fn drain(self: &Arc<Self>) -> Result<usize> {
        let mut total = 0;
        loop {
            let jobs = self.claim(MAX_BATCH).await?;
            if jobs.is_empty() {
                return Ok(total);
            }
            total += jobs.len();
            futures::future::join_all(jobs.into_iter().map(|job| self.clone().deliver(job, None))).await;
        }
    }

    /// Sends one delivery now (a test send), whatever its due time; false if it was not
    /// waiting to be sent.
    pub async fn deliver_one(self: &Arc<Self>, id: &str) -> Result<bool> {
        let hub = &self.hub;
        let now = time::now_ms();
        let lease_until = now + hub.config.delivery.lease.as_millis() as i64;
        let Some(claimed) = store::deliveries::claim_one(&hub.db, &hub.instance_id, id, now, lease_until).await? else {
            return Ok(false);
        };
        for job in self.load(vec![claimed], now).await? {
            self.clone().deliver(job, None).await;
        }
        Ok(true)
    }

    /// A test send: stores a sample event for this endpoint only, sends it at once, and
    /// answers with the delivery and its attempt.
    pub async fn test_send(
        self: &Arc<Self>,
        who: &Principal,
        tenant_id: &str,
        webhook_id: &str,
        input: TestSendIn,
    ) -> Result<DeliveryWithAttempts> {
        let delivery_id = self.hub.prepare_test_send(who, tenant_id, webhook_id, input).await?;
        self.deliver_one(&delivery_id).await?;
        self.hub.get_delivery(who, tenant_id, &delivery_id).await
    }

    /// A test message through the tenant's Slack connector, sent at once.
    pub async fn slack_test(
        self: &Arc<Self>,
        who: &Principal,
        tenant_id: &str,
        input: TestSendIn,
    ) -> Result<DeliveryWithAttempts> {
        let delivery_id = self.hub.prepare_slack_test(who, tenant_id, input).await?;
        self.deliver_one(&delivery_id).await?;
        self.hub.get_delivery(who, tenant_id, &delivery_id).await
    }

    /// Claims a batch and loads what sending needs.
    async fn claim(&self, limit: usize) -> Result<Vec<Job>> {
        let hub = &self.hub;
        let now = time::now_ms();
        let lease_until = now + hub.config.delivery.lease.as_millis() as i64;
        let claimed = store::deliveries::claim(&hub.db, &hub.instance_id, now, lease_until, limit as i64).await?;
        self.load(claimed, now).await
    }

    /// The endpoints and payloads of claimed deliveries: two queries for the whole batch.
    async fn load(&self, claimed: Vec<Claimed>, now: i64) -> Result<Vec<Job>> {
        let hub = &self.hub;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let mut webhook_ids: Vec<&str> = claimed.iter().map(|c| c.webhook_id.as_str()).collect();
        webhook_ids.sort_unstable();
        webhook_ids.dedup();
        let event_ids: Vec<&str> = claimed.iter().map(|c| c.event_id.as_str()).collect();
        let webhooks = store::webhooks::by_ids(&hub.db, &webhook_ids).await?;
        let payloads = store::deliveries::payloads(&hub.db, &event_ids).await?;
        let mut unreadable = HashSet::new();
        let plans: HashMap<String, Plan> = webhooks
            .into_iter()
            .filter_map(|w| match self.plan(&w, now) {
                Some(plan) => Some((w.id, plan)),
                None => {
                    unreadable.insert(w.id);
                    None
                }
            })
            .collect();
        if !unreadable.is_empty() {
            // This instance cannot read the signing secret (a different IH_MASTER_KEY): leave
            // those deliveries for an instance that can, instead of failing them.
            let again_at = now + hub.config.delivery.lease.as_millis() as i64;
            let due: Vec<(String, i64)> = claimed
                .iter()
                .filter(|c| unreadable.contains(&c.webhook_id))
                .map(|c| (c.id.clone(), again_at))
                .collect();
            store::deliveries::release(&hub.db, &hub.instance_id, &due).await?;
        }
        let payloads: HashMap<String, (Arc<str>, i64)> =
            payloads.into_iter().map(|(id, payload, at)| (id, (Arc::from(payload), at))).collect();
        let mut in_flight = self.in_flight.lock().expect("not poisoned");
        Ok(claimed
            .into_iter()
            .filter_map(|claimed| {
                let plan = plans.get(&claimed.webhook_id)?.clone();
                let (payload, created_at_ms) = payloads.get(&claimed.event_id)?.clone();
                in_flight.insert(claimed.id.clone());
                Some(Job { claimed, plan, payload, created_at_ms })
            })
            .collect())
    }

    /// The plan for an endpoint's deliveries: `Unsendable` when it may not be sent to (disabled,
    /// deleted, a connector with nothing to post as), so they are dead-lettered with the reason;
    /// `None` when this instance cannot decrypt its secret or custom headers, so they are left to one
    /// that can.
    fn plan(&self, w: &WebhookRow, now: i64) -> Option<Plan> {
        let defaults = &self.hub.config.delivery;
        let settings = RetrySettings {
            max_attempts: w.max_attempts.unwrap_or(defaults.max_attempts),
            backoff_base: w.backoff_base_seconds.map_or(defaults.backoff_base, |s| Duration::from_secs(s as u64)),
        };
        if !w.enabled {
            return Some(Plan { endpoint: Err(DISABLED), settings, per_second: None });
        }
        let timeout = w.timeout_seconds.map_or(defaults.timeout, |s| Duration::from_secs(s as u64));
        if w.kind == store::webhooks::SLACK {
            let Ok(token) = self.hub.master_key.open_string(&w.secret) else {
                tracing::error!(webhook_id = %w.id, "Slack token does not decrypt: this instance's IH_MASTER_KEY differs from the one that sealed it");
                return None;
            };
            let config = &self.hub.config;
            let token = Some(token).filter(|t| !t.is_empty()).or_else(|| config.slack_bot_token.clone());
            let channel = w.channel.clone().or_else(|| config.slack_default_channel.clone());
            let (Some(token), Some(channel), Ok(url)) =
                (token, channel, reqwest::Url::parse(&slack::post_message_url(&config.slack_api_base)))
            else {
                return Some(Plan { endpoint: Err(SLACK_UNCONFIGURED), settings, per_second: None });
            };
            let tenant_url = format!("{}/tenants/{}", config.public_url, w.tenant_id);
            let target = Target::Slack(slack::Destination { token, channel, tenant_url });
            return Some(Plan {
                endpoint: Ok(Arc::new(Endpoint { url, headers: Vec::new(), timeout, target })),
                settings,
                per_second: w.rate_limit_per_second,
            });
        }
        let Some(secrets) = self.hub.signing_secrets(w, now) else {
            tracing::error!(webhook_id = %w.id, "signing secret does not decrypt: this instance's IH_MASTER_KEY differs from the one that sealed it");
            return None;
        };
        let Ok(headers) = self.hub.open_headers(&w.headers) else {
            tracing::error!(webhook_id = %w.id, "custom headers do not decrypt: this instance's IH_MASTER_KEY differs from the one that sealed them");
            return None;
        };
        let headers = headers
            .into_iter()
            .filter_map(|(k, v)| Some((HeaderName::from_bytes(k.as_bytes()).ok()?, HeaderValue::from_str(&v).ok()?)))
            .collect();
        let Ok(url) = reqwest::Url::parse(&w.url) else {
            return Some(Plan { endpoint: Err(DISABLED), settings, per_second: None });
        };
        Some(Plan {
            endpoint: Ok(Arc::new(Endpoint { url, headers, timeout, target: Target::Webhook { secrets } })),
            settings,
            per_second: w.rate_limit_per_second,
        })
    }

    /// Sends one claimed delivery and records the attempt. `slots` (the worker's and the
    /// endpoint's) are held until the record is committed.
    async fn deliver(self: Arc<Self>, job: Job, slots: Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)>) {
        let c = &job.claimed;
        let attempt_number = c.attempt_count + 1;
        let result = match &job.plan.endpoint {
            Ok(endpoint) => {
                let message = Message {
                    event_id: &c.event_id,
                    event_type: &c.event_type,
                    created_at_ms: job.created_at_ms,
                    payload: &job.payload,
                };
                self.sender.send(endpoint, &message).await
            }
            Err(why) => AttemptResult {
                error_kind: Some(why.kind),
                error_message: Some(why.message.into()),
                started_at_ms: time::now_ms(),
                ..Default::default()
            },
        };
        let verdict = match (&job.plan.endpoint, result.refusal) {
            (Err(_), _) | (Ok(_), Some(Refusal::Final)) => Verdict::Rejected,
            (Ok(_), Some(Refusal::Retryable)) => {
                Verdict::Retry(retry::delay(attempt_number, job.plan.settings.backoff_base, result.retry_after))
            }
            (Ok(_), None) => {
                retry::verdict(result.status, result.retry_after, attempt_number, job.plan.settings.backoff_base)
            }
        };
        let now = time::now_ms();
        let (status, next_attempt_at) = match &verdict {
            Verdict::Delivered => ("delivered", now),
            Verdict::Retry(_) if attempt_number >= job.plan.settings.max_attempts => ("dead_letter", now),
            Verdict::Retry(after) => ("failed", now + after.as_millis() as i64),
            Verdict::Rejected | Verdict::Gone => ("dead_letter", now),
        };
        let earlier_retry =
            status == "failed" && self.next_retry_at.fetch_min(next_attempt_at, Ordering::Relaxed) > next_attempt_at;
        self.hub.metrics.record_attempt(status, result.duration_ms);
        let last_error = result
            .error_message
            .clone()
            .or_else(|| result.status.filter(|s| !(200..300).contains(s)).map(|s| format!("HTTP {s}")));
        let record = Record {
            attempt: AttemptRow {
                id: ids::new_id(ids::ATTEMPT),
                delivery_id: c.id.clone(),
                tenant_id: c.tenant_id.clone(),
                attempt_number,
                started_at: result.started_at_ms,
                duration_ms: result.duration_ms,
                status_code: result.status.map(i64::from),
                response_headers: serde_json::to_string(&result.headers).unwrap_or_else(|_| "{}".into()),
                response_body: result.body,
                error_kind: result.error_kind.map(str::to_string),
                error_message: result.error_message,
            },
            outcome: Outcome {
                delivery_id: c.id.clone(),
                status,
                attempt_count: attempt_number,
                next_attempt_at,
                last_status_code: result.status.map(i64::from),
                last_error: (status != "delivered").then_some(last_error).flatten(),
                delivered_at: (status == "delivered").then_some(now),
            },
            disable_webhook: (verdict == Verdict::Gone).then(|| c.webhook_id.clone()),
            webhook_id: c.webhook_id.clone(),
            event_id: c.event_id.clone(),
            event_type: c.event_type.clone(),
        };
        self.recorder.record(record).await;
        if earlier_retry {
            // The loop may be asleep until the poll interval: have it re-time its sleep.
            self.hub.wake.notify_one();
        }
        self.in_flight.lock().expect("not poisoned").remove(&c.id);
        drop(slots);
        self.freed.notify_one();
    }
}

/// Wakes this instance's worker when another instance commits new deliveries (PostgreSQL
/// `LISTEN/NOTIFY`); the poll remains the safety net if the connection drops.
pub async fn listen_for_wakeups(pool: sqlx::PgPool, wake: Arc<Notify>, shutdown: CancellationToken) {
    use sqlx::postgres::PgListener;
    while !shutdown.is_cancelled() {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = ?e, "LISTEN connection failed; polling meanwhile");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(crate::domain::ingest::WAKE_CHANNEL).await {
            tracing::warn!(error = ?e, "LISTEN failed; polling meanwhile");
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        }
        loop {
            tokio::select! {
                received = listener.recv() => match received {
                    Ok(_) => wake.notify_one(),
                    Err(e) => {
                        tracing::warn!(error = ?e, "LISTEN connection lost; reconnecting");
                        break;
                    }
                },
                _ = shutdown.cancelled() => return,
            }
        }
    }
}
