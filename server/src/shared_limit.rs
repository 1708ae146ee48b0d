//! Rate limits shared by every instance (`IH_REDIS_URL`): each request is counted in Redis with
//! one script call that reads both windows of the sliding estimate, decides, and counts an
//! allowed request, atomically (`SCRIPT` below; the same arithmetic as
//! [`ratelimit::sliding`](crate::domain::ratelimit::sliding)). N instances then allow a key its
//! limit, not N times it.
//!
//! While Redis is unreachable (an error, or no answer within [`TIMEOUT`]), requests are judged on
//! the instance's own counters — served, not refused: a limiter outage must not become an API
//! outage — and the hub says so: a warning in the log when it starts and when it ends, `/ready`'s
//! detail, and `ih_rate_limit_shared` / `ih_rate_limit_redis_errors_total` in `/metrics`. While it
//! lasts, Redis is tried again at most once a second, so requests do not each wait for a timeout.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;

use crate::domain::ratelimit::{sliding, Meter, RateState};
use crate::secret::Secret;

/// How long a request waits for Redis before it is judged locally.
pub const TIMEOUT: Duration = Duration::from_millis(250);

/// While Redis is unreachable, how often a request tries it again.
const RETRY_MS: i64 = 1_000;

/// KEYS: the current window's counter, the previous window's. ARGV: limit, window (ms), time
/// into the window (ms), expiry (ms). Returns {allowed (0/1), current count, previous count}.
const SCRIPT: &str = r"
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local limit, window, elapsed = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if previous * (window - elapsed) + (current + 1) * window > limit * window then
  return {0, current, previous}
end
current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return {1, current, previous}
";

pub struct SharedLimiter {
    client: redis::Client,
    script: redis::Script,
    /// Made when Redis first answers, then kept (it reconnects by itself).
    connection: OnceCell<ConnectionManager>,
    shared: AtomicBool,
    retry_at: AtomicI64,
    errors: AtomicU64,
}

impl SharedLimiter {
    pub fn new(url: &Secret) -> Result<SharedLimiter, String> {
        let client =
            redis::Client::open(url.expose()).map_err(|e| format!("IH_REDIS_URL: not a Redis URL ({:?})", e.kind()))?;
        Ok(SharedLimiter {
            client,
            script: redis::Script::new(SCRIPT),
            connection: OnceCell::new(),
            shared: AtomicBool::new(false),
            retry_at: AtomicI64::new(0),
            errors: AtomicU64::new(0),
        })
    }

    /// Connects at start, so that `/ready` and `/metrics` tell the truth before the first request.
    pub async fn probe(&self) {
        let answered = tokio::time::timeout(TIMEOUT * 4, async {
            let mut connection = self.connection().await?;
            redis::cmd("PING").query_async::<String>(&mut connection).await
        })
        .await;
        match answered {
            Ok(Ok(_)) => {
                self.shared.store(true, Relaxed);
                tracing::info!("rate limits are counted in Redis, shared by every instance");
            }
            _ => {
                self.errors.fetch_add(1, Relaxed);
                self.retry_at.store(crate::time::now_ms() + RETRY_MS, Relaxed);
                tracing::warn!("Redis is unreachable: rate limits are counted per instance until it is back");
            }
        }
    }

    /// Whether the last request was counted in Redis.
    pub fn is_shared(&self) -> bool {
        self.shared.load(Relaxed)
    }

    /// Requests that could not be counted in Redis since the start.
    pub fn errors(&self) -> u64 {
        self.errors.load(Relaxed)
    }

    /// Counts a request against `meter`'s limit in Redis, or, while Redis is unreachable, on the
    /// meter's own counters.
    pub async fn check(&self, meter: &Meter, now_ms: i64) -> RateState {
        if !self.is_shared() && now_ms < self.retry_at.load(Relaxed) {
            return meter.check(now_ms);
        }
        match tokio::time::timeout(TIMEOUT, self.count(meter, now_ms)).await {
            Ok(Ok(state)) => {
                if !self.shared.swap(true, Relaxed) {
                    tracing::info!("rate limits are counted in Redis, shared by every instance");
                }
                state
            }
            failed => {
                self.errors.fetch_add(1, Relaxed);
                self.retry_at.store(now_ms + RETRY_MS, Relaxed);
                if self.shared.swap(false, Relaxed) {
                    let error = match failed {
                        Ok(Err(e)) => e.to_string(),
                        _ => format!("no answer within {} ms", TIMEOUT.as_millis()),
                    };
                    tracing::warn!(%error, "Redis is unreachable: rate limits are counted per instance until it is back");
                }
                meter.check(now_ms)
            }
        }
    }

    async fn count(&self, meter: &Meter, now_ms: i64) -> redis::RedisResult<RateState> {
        let mut connection = self.connection().await?;
        let window_ms = meter.window_ms();
        let index = now_ms / window_ms;
        // The braces make both counters of a key one hash slot (Redis Cluster).
        let key = |index: i64| format!("ih:rl:{{{}}}:{window_ms}:{index}", meter.name);
        let (allowed, current, previous): (i64, i64, i64) = self
            .script
            .key(key(index))
            .key(key(index - 1))
            .arg(meter.limit)
            .arg(window_ms)
            .arg(now_ms.rem_euclid(window_ms))
            .arg(2 * window_ms + 1_000)
            .invoke_async(&mut connection)
            .await?;
        // The same verdict, with the figures for the headers.
        let mut state = sliding(meter.limit, window_ms, now_ms, previous, current + 1 - allowed);
        state.allowed = allowed == 1;
        Ok(state)
    }

    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        let made = self.connection.get_or_try_init(|| ConnectionManager::new(self.client.clone())).await?;
        Ok(made.clone())
    }
}
