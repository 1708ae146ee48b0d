//! The delivery worker. It claims due deliveries in batches under a lease, sends them
//! concurrently with no database lock held during HTTP, and records the attempts and outcomes
//! in batches. A lease that runs out (crash, kill -9) makes the delivery due again: delivery is
//! at least once, and nothing accepted is lost.

mod admission;
pub mod pacing;
mod recorder;
pub mod retry;
pub mod sender;
pub mod slack;
mod trace;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use app::models::{
    CircuitState, DeliveryOrdering, DeliveryStatus, DeliveryWithAttempts, TenantId, TestSendIn, WebhookId,
};

use crate::domain::auth::Actor;
use crate::domain::Hub;
use crate::error::Result;
use crate::store::deliveries::{AttemptRow, ClaimLimits, Claimed, Outcome};
use crate::store::webhooks::WebhookRow;
use crate::{ids, store, time};
use admission::{Admission, Ticket};
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

/// How long the loop naps when deliveries are due that no endpoint can take yet (ms).
const BUSY_NAP_MS: i64 = 100;

/// How long the loop waits, after a delivery finished, for others to finish before it claims.
const FREED_GATHER: Duration = Duration::from_millis(3);

/// A circuit's probe may take its attempt's timeout and this much more before another
/// instance may probe instead (it crashed, say).
const PROBE_MARGIN_MS: i64 = 5_000;

/// A claimed delivery with everything needed to send it.
struct Job {
    claimed: Claimed,
    plan: Plan,
    payload: Arc<str>,
    created_at_ms: i64,
    /// The publish's `traceparent` (tracing on when it was published).
    trace_context: Option<Arc<str>>,
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
    fifo: bool,
    /// Not closed: this delivery may only go as the circuit's probe.
    probe: bool,
    /// How long one attempt may take, for the probe's turn.
    timeout: Duration,
    /// Paused (by hand or in a maintenance window): its deliveries wait until then (Unix ms).
    paused_until: Option<i64>,
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
    /// Which deliveries may start, per endpoint and over the instance.
    admission: Arc<Admission>,
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
        let delivery = &hub.config.delivery;
        Arc::new(Worker {
            recorder: Recorder::start(hub.clone()),
            sender: Sender::new(hub.target_policy.clone(), hub.transformer.clone(), hub.config.max_payload_bytes * 4),
            admission: Admission::new(delivery.concurrency, delivery.concurrency_per_endpoint),
            hub,
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
        while !shutdown.is_cancelled() {
            self.heartbeat.store(time::now_ms(), Ordering::Relaxed);
            // A wake-up time that has come is used up by this claim; a later one is kept (it was
            // reset unconditionally before, so a retry scheduled before a claim that found
            // nothing due waited for the poll interval instead of its own time).
            let now = time::now_ms();
            let _ = self
                .next_retry_at
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| (t <= now).then_some(i64::MAX));
            let room = self.admission.room();
            match self.claim(&room).await {
                Ok(jobs) => {
                    let full = jobs.len() == MAX_BATCH;
                    self.start(jobs).await;
                    if full {
                        continue;
                    }
                }
                Err(e) => tracing::warn!(error = ?e, "claiming deliveries failed; retrying"),
            }
            // Everything claimable was claimed: sleep until the next delivery is due, as the
            // database says, or until a delivery finishes (its endpoint may take another). A
            // due time already past belongs to an endpoint that cannot take more now: a short
            // nap then, so a retry of another endpoint is not held for the poll interval.
            match store::deliveries::next_due_at(&self.hub.db).await {
                Ok(Some(at)) => {
                    self.next_retry_at.fetch_min(at.max(time::now_ms() + BUSY_NAP_MS), Ordering::Relaxed);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = ?e, "reading the next due time failed; polling"),
            }
            let next_retry = self.next_retry_at.load(Ordering::Relaxed);
            let until_retry = Duration::from_millis((next_retry - time::now_ms()).max(0) as u64);
            tokio::select! {
                _ = self.hub.wake.notified() => {}
                _ = self.freed.notified() => {
                    // Gather the deliveries finishing about now into one claim: a claim per
                    // finished delivery would be a statement per delivery for a busy endpoint.
                    tokio::time::sleep(FREED_GATHER).await;
                }
                _ = tokio::time::sleep(poll.min(until_retry)) => {}
                _ = shutdown.cancelled() => break,
            }
        }
        self.release_on_shutdown().await;
    }

    /// Starts each claimed delivery its endpoint has room for; gives the others back, due
    /// when they can go (a paced endpoint's next turn) or at once (a busy endpoint: the claim
    /// skips it until it has room).
    async fn start(self: &Arc<Self>, jobs: Vec<Job>) {
        let now = time::now_ms();
        let (jobs, held) = hold_paused(jobs);
        let (jobs, mut busy) = self.settle_probes(jobs, now).await;
        busy.extend(held);
        // Paced deliveries of this batch waiting, per endpoint: each comes back one interval
        // after the one before it.
        let mut paced: HashMap<String, i64> = HashMap::new();
        for job in jobs {
            let webhook_id = &job.claimed.webhook_id;
            let Some(ticket) = self.admission.admit(webhook_id, job.plan.fifo) else {
                busy.push((job.claimed.id, now));
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
            tokio::spawn(self.clone().deliver(job, Some(ticket)));
        }
        self.defer(busy).await;
    }

    /// Keeps the jobs that may go as far as the circuit breaker is concerned: those of closed
    /// circuits, and of an open one whose cool-down is over, one as its probe (over every
    /// instance). The others are returned to give back, due when the probe's turn ends.
    async fn settle_probes(&self, jobs: Vec<Job>, now: i64) -> (Vec<Job>, Vec<(String, i64)>) {
        let mut go = Vec::with_capacity(jobs.len());
        let mut wait = Vec::new();
        let mut probed: HashSet<String> = HashSet::new();
        for job in jobs {
            if !job.plan.probe {
                go.push(job);
                continue;
            }
            let probe_until = now + job.plan.timeout.as_millis() as i64 + PROBE_MARGIN_MS;
            let webhook_id = job.claimed.webhook_id.clone();
            if probed.insert(webhook_id.clone()) && self.take_probe(&webhook_id, now, probe_until).await {
                go.push(job);
            } else {
                wait.push((job.claimed.id, probe_until));
            }
        }
        (go, wait)
    }

    /// Takes the probe of `webhook_id`'s open circuit; false when another instance (or an
    /// earlier claim) has it.
    async fn take_probe(&self, webhook_id: &str, now: i64, probe_until: i64) -> bool {
        match store::webhooks::take_probe(&self.hub.db, webhook_id, now, probe_until).await {
            Ok(won) => won,
            Err(e) => {
                tracing::warn!(error = ?e, webhook_id, "taking a circuit's probe failed; it waits");
                false
            }
        }
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
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while self.admission.in_flight() != (0, 0) && tokio::time::Instant::now() < deadline {
            let _ = tokio::time::timeout_at(deadline, self.freed.notified()).await;
        }
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
        let room = admission::Room { cap: MAX_BATCH as i64, unnamed: MAX_BATCH as i64, named: "{}".into() };
        loop {
            let jobs = self.claim(&room).await?;
            if jobs.is_empty() {
                return Ok(total);
            }
            let (jobs, held) = hold_paused(jobs);
            total += jobs.len();
            let (jobs, mut wait) = self.settle_probes(jobs, time::now_ms()).await;
            wait.extend(held);
            self.defer(wait).await;
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
        who: &Actor,
        tenant_id: &TenantId,
        webhook_id: &WebhookId,
        input: TestSendIn,
    ) -> Result<DeliveryWithAttempts> {
        let delivery_id = self.hub.prepare_test_send(who, tenant_id, webhook_id, input).await?;
        self.deliver_one(&delivery_id).await?;
        self.hub.get_delivery(who, tenant_id, &delivery_id).await
    }

    /// A test message through the tenant's Slack connector, sent at once.
    pub async fn slack_test(
        self: &Arc<Self>,
        who: &Actor,
        tenant_id: &TenantId,
        input: TestSendIn,
    ) -> Result<DeliveryWithAttempts> {
        let delivery_id = self.hub.prepare_slack_test(who, tenant_id, input).await?;
        self.deliver_one(&delivery_id).await?;
        self.hub.get_delivery(who, tenant_id, &delivery_id).await
    }

    /// Claims a batch, as much of each endpoint as `room` allows, and loads what sending needs.
    async fn claim(&self, room: &admission::Room) -> Result<Vec<Job>> {
        let hub = &self.hub;
        let now = time::now_ms();
        let lease_until = now + hub.config.delivery.lease.as_millis() as i64;
        let limits =
            ClaimLimits { limit: MAX_BATCH as i64, per_endpoint: room.cap, unnamed: room.unnamed, room: &room.named };
        let claimed = store::deliveries::claim(&hub.db, &hub.instance_id, now, lease_until, &limits).await?;
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
        type Sendable = (Arc<str>, i64, Option<Arc<str>>);
        let payloads: HashMap<String, Sendable> = payloads
            .into_iter()
            .map(|e| (e.id, (Arc::from(e.payload), e.created_at, e.trace_context.map(Arc::from))))
            .collect();
        let mut in_flight = self.in_flight.lock().expect("not poisoned");
        Ok(claimed
            .into_iter()
            .filter_map(|claimed| {
                let plan = plans.get(&claimed.webhook_id)?.clone();
                let (payload, created_at_ms, trace_context) = payloads.get(&claimed.event_id)?.clone();
                in_flight.insert(claimed.id.clone());
                Some(Job { claimed, plan, payload, created_at_ms, trace_context })
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
        let timeout = w.timeout_seconds.map_or(defaults.timeout, |s| Duration::from_secs(s as u64));
        let fifo = DeliveryOrdering::parse(&w.ordering) == DeliveryOrdering::Fifo;
        let probe = CircuitState::parse(&w.circuit_state) != CircuitState::Closed;
        let paused_until = crate::domain::maintenance::paused(w, now)
            .map(|(_, until)| until.min(now + crate::domain::maintenance::LONGEST_DEFERRAL_MS));
        let plan =
            |endpoint, per_second| Some(Plan { endpoint, settings, per_second, fifo, probe, timeout, paused_until });
        if !w.enabled {
            return plan(Err(DISABLED), None);
        }
        if w.kind == store::webhooks::SLACK {
            let Ok(token) = self.hub.master_key.open_string(&w.secret) else {
                tracing::error!(webhook_id = %w.id, "Slack token does not decrypt: this instance's IH_MASTER_KEY differs from the one that sealed it");
                return None;
            };
            let config = &self.hub.config;
            let token = Some(token)
                .filter(|t| !t.is_empty())
                .or_else(|| config.slack_bot_token.as_ref().map(|t| t.expose().to_string()));
            let channel = w.channel.clone().or_else(|| config.slack_default_channel.clone());
            let (Some(token), Some(channel), Ok(url)) =
                (token, channel, reqwest::Url::parse(&slack::post_message_url(&config.slack_api_base)))
            else {
                return plan(Err(SLACK_UNCONFIGURED), None);
            };
            let tenant_url = format!("{}/tenants/{}", config.public_url, w.tenant_id);
            let target = Target::Slack(slack::Destination { token, channel, tenant_url });
            return plan(Ok(Arc::new(Endpoint { url, headers: Vec::new(), timeout, target })), w.rate_limit_per_second);
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
            .filter_map(|(k, v)| {
                // Custom headers often carry the receiver's credential: never shown by `{:?}`.
                let mut value = HeaderValue::from_str(&v).ok()?;
                value.set_sensitive(true);
                Some((HeaderName::from_bytes(k.as_bytes()).ok()?, value))
            })
            .collect();
        let Ok(url) = reqwest::Url::parse(&w.url) else {
            return plan(Err(DISABLED), None);
        };
        plan(
            Ok(Arc::new(Endpoint {
                url,
                headers,
                timeout,
                target: Target::Webhook { secrets, transformation: w.transformation.as_deref().map(Arc::from) },
            })),
            w.rate_limit_per_second,
        )
    }

    /// Sends one claimed delivery and records the attempt. Its `ticket` (its place in flight)
    /// is held until the record is committed, and tells the endpoint's limit how it went.
    async fn deliver(self: Arc<Self>, job: Job, mut ticket: Option<Ticket>) {
        let c = &job.claimed;
        let attempt_number = c.attempt_count + 1;
        let mut span = None;
        let result = match &job.plan.endpoint {
            Ok(endpoint) => {
                span = trace::attempt_span(c, &endpoint.url, attempt_number, job.trace_context.as_deref());
                let traceparent = span.as_ref().and_then(crate::telemetry::traceparent);
                let message = Message {
                    event_id: &c.event_id,
                    event_type: &c.event_type,
                    created_at_ms: job.created_at_ms,
                    payload: &job.payload,
                    traceparent: traceparent.as_deref(),
                };
                match &span {
                    Some(span) => self.sender.send(endpoint, &message).instrument(span.clone()).await,
                    None => self.sender.send(endpoint, &message).await,
                }
            }
            Err(why) => AttemptResult {
                error_kind: Some(why.kind),
                error_message: Some(why.message.into()),
                started_at_ms: time::now_ms(),
                ..Default::default()
            },
        };
        let verdict = match (&job.plan.endpoint, result.refusal) {
            // The transformation sent nothing, on purpose: the delivery is done.
            _ if result.dropped => Verdict::Delivered,
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
            Verdict::Delivered => (DeliveryStatus::Delivered, now),
            Verdict::Retry(_) if attempt_number >= job.plan.settings.max_attempts => (DeliveryStatus::DeadLetter, now),
            Verdict::Retry(after) => (DeliveryStatus::Failed, now + after.as_millis() as i64),
            Verdict::Rejected | Verdict::Gone => (DeliveryStatus::DeadLetter, now),
        };
        let earlier_retry = status == DeliveryStatus::Failed
            && self.next_retry_at.fetch_min(next_attempt_at, Ordering::Relaxed) > next_attempt_at;
        self.hub.metrics.record_attempt(status, result.duration_ms);
        if let Some(span) = &span {
            trace::finish(span, result.status, status, result.error_kind);
        }
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
                last_error: (status != DeliveryStatus::Delivered).then_some(last_error).flatten(),
                delivered_at: (status == DeliveryStatus::Delivered).then_some(now),
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
        if let Some(ticket) = &mut ticket {
            ticket.finished(status == DeliveryStatus::Delivered);
        }
        drop(ticket);
        self.freed.notify_one();
    }
}

/// Splits off the deliveries of paused endpoints, each to be given back due when its pause ends:
/// no attempt, no failure counted, no probe taken.
fn hold_paused(jobs: Vec<Job>) -> (Vec<Job>, Vec<(String, i64)>) {
    let (paused, go): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|job| job.plan.paused_until.is_some());
    (go, paused.into_iter().filter_map(|job| Some((job.claimed.id, job.plan.paused_until?))).collect())
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
