//! Configuration from `IH_*` environment variables. Every value is parsed up front so a bad
//! setting stops the start with one clear line instead of failing later.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use app::models::Retention;

use crate::secret::Secret;

/// The shortest `IH_ADMIN_TOKEN` accepted.
pub const MIN_ADMIN_TOKEN: usize = 24;

#[derive(Clone, Debug)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to a SQLite file in the data folder. A secret:
    /// it may carry a password.
    pub database_url: Secret,
    pub admin_token: Option<Secret>,
    pub master_key: Option<Secret>,
    pub allow_private_targets: bool,
    pub delivery: DeliveryConfig,
    pub slack_bot_token: Option<Secret>,
    /// `IH_REDIS_URL`: rate limits counted in Redis, shared by every instance.
    pub redis_url: Option<Secret>,
    /// The binary whose `transform-worker` subcommand runs transformations: this one (tests,
    /// which run the hub inside their own binary, point it at the built hub).
    pub transform_worker: PathBuf,
    pub slack_default_channel: Option<String>,
    pub slack_api_base: String,
    /// The hub's address as browsers reach it, for links in Slack messages (`IH_PUBLIC_URL`).
    pub public_url: String,
    pub log_level: String,
    /// Where cargo-leptos put the site (`pkg/`, assets).
    pub site_root: PathBuf,
    /// Largest accepted event payload, in bytes.
    pub max_payload_bytes: usize,
    /// Requests a minute for keys that set no limit of their own.
    pub default_rate_limit_per_minute: i64,
    pub operator_rate_limit_per_minute: i64,
    /// Proxies whose `X-Forwarded-For` is believed (`IH_TRUSTED_PROXIES`, CIDRs).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `IH_SQLITE_SYNCHRONOUS=full`: fsync every commit (power-loss safe, slower).
    pub sqlite_full_sync: bool,
    /// Private subnets deliveries may reach despite the SSRF guard (`IH_ALLOWED_TARGET_CIDRS`).
    pub allowed_target_cidrs: Vec<ipnet::IpNet>,
    /// How long data is kept (see `domain::retention`); the admin UI states it on its lists.
    pub retention: Retention,
    /// Origins whose browser pages may call `/api/v1/*` (`IH_CORS_ALLOWED_ORIGINS`); `None`: no
    /// CORS at all, as before.
    pub cors_allowed_origins: Option<Origins>,
}

/// Which origins may call the REST API from a browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origins {
    /// `*`: any origin (still without credentials).
    Any,
    /// The listed origins, as browsers send them (`https://app.example.com`).
    List(Vec<http::HeaderValue>),
}

/// `IH_CORS_ALLOWED_ORIGINS`: `*`, or comma-separated origins (`scheme://host[:port]`, nothing
/// after it), each written as a browser sends it in `Origin`.
fn cors_origins(text: &str) -> Result<Origins, String> {
    if text.trim() == "*" {
        return Ok(Origins::Any);
    }
    let mut list = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let url = reqwest::Url::parse(entry).map_err(|e| format!("{entry:?} is not an origin ({e})"))?;
        let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none() && !entry.ends_with('/');
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || !bare || !url.username().is_empty()
        {
            return Err(format!(
                "{entry:?} is not an origin: write scheme://host[:port], e.g. https://app.example.com"
            ));
        }
        let origin = url.origin().ascii_serialization();
        list.push(http::HeaderValue::from_str(&origin).map_err(|_| format!("{entry:?} is not an origin"))?);
    }
    if list.is_empty() {
        return Err("name at least one origin, or *".into());
    }
    Ok(Origins::List(list))
}

#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    /// Runs the background worker; tests switch it off and drain deterministically.
    pub worker_enabled: bool,
    pub poll_interval: Duration,
    pub max_attempts: i64,
    pub backoff_base: Duration,
    pub timeout: Duration,
    /// Deliveries in flight at once, over all endpoints.
    pub concurrency: usize,
    /// Deliveries in flight at once to one endpoint, so one slow receiver cannot take every slot.
    pub concurrency_per_endpoint: usize,
    /// How long a claimed delivery stays ours before another worker may take it.
    pub lease: Duration,
    /// Consecutive failed attempts after which an endpoint is disabled.
    pub disable_after_failures: i64,
    /// Consecutive failed attempts at which a `webhook.failing` alert is raised, once a streak.
    pub alert_after_failures: i64,
    /// The circuit breaker (domain::health): consecutive failures that open an endpoint's
    /// circuit, its first cool-down, and the longest one (each reopening doubles it).
    pub circuit_after_failures: i64,
    pub circuit_cooldown: Duration,
    pub circuit_max_cooldown: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ConfigError {
    pub name: &'static str,
    pub message: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any lookup, so tests need not touch the process env.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str| get(name).filter(|v| !v.trim().is_empty());
        let data_dir = PathBuf::from(var("IH_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url =
            var("IH_DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}", data_dir.join("hub.db").display()));
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            return Err(err("IH_DATABASE_URL", "must start with sqlite: or postgres://"));
        }
        let seconds = |name: &'static str, default: f64| -> Result<Duration, ConfigError> {
            match var(name) {
                None => Ok(Duration::from_secs_f64(default)),
                Some(v) => v
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 86_400.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| err(name, format!("expected seconds (0 to 86400), got {v:?}"))),
            }
        };
        let integer = |name: &'static str, default: i64, min: i64, max: i64| match var(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| err(name, format!("expected a whole number {min}..={max}, got {v:?}"))),
        };
        let flag = |name: &'static str| match var(name).as_deref().map(str::trim) {
            None => Ok(false),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(v) => Err(err(name, format!("expected true or false, got {v:?}"))),
        };
        let bind = var("IH_BIND").unwrap_or_else(|| "127.0.0.1:3000".into());
        let bind = bind
            .parse()
            .map_err(|_| err("IH_BIND", format!("expected host:port such as 0.0.0.0:3000, got {bind:?}")))?;
        let log_level = var("IH_LOG_LEVEL").unwrap_or_else(|| "info".into());
        if !["error", "warn", "info", "debug", "trace"].contains(&log_level.as_str()) {
            return Err(err("IH_LOG_LEVEL", "expected error, warn, info, debug or trace"));
        }
        let cidrs = |name: &'static str| -> Result<Vec<ipnet::IpNet>, ConfigError> {
            var(name)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(|c| {
                    c.parse::<ipnet::IpNet>()
                        .or_else(|_| c.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| err(name, format!("{c:?} is not an IP address or CIDR")))
                })
                .collect()
        };
        // The operator token opens every tenant, and failed guesses are not throttled: a short
        // one could be guessed. (The message never repeats the value: it is a secret.)
        let admin_token = var("IH_ADMIN_TOKEN");
        if admin_token.as_deref().is_some_and(|t| t.len() < MIN_ADMIN_TOKEN || !t.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(err(
                "IH_ADMIN_TOKEN",
                format!(
                    "must be at least {MIN_ADMIN_TOKEN} visible ASCII characters, no spaces; \
                     leave it unset to have one generated"
                ),
            ));
        }
        let site_root = var("IH_SITE_ROOT").map(PathBuf::from).unwrap_or_else(default_site_root);
        Ok(Config {
            bind,
            database_url: Secret::from(database_url),
            admin_token: admin_token.map(Secret::from),
            master_key: var("IH_MASTER_KEY").map(Secret::from),
            allow_private_targets: flag("IH_ALLOW_PRIVATE_TARGETS")?,
            delivery: DeliveryConfig {
                worker_enabled: !flag("IH_DELIVERY_WORKER_DISABLED")?,
                poll_interval: seconds("IH_DELIVERY_POLL_INTERVAL_SECONDS", 5.0)?,
                max_attempts: integer("IH_DELIVERY_MAX_ATTEMPTS", 8, 1, 100)?,
                backoff_base: seconds("IH_DELIVERY_BACKOFF_BASE_SECONDS", 5.0)?,
                timeout: seconds("IH_DELIVERY_TIMEOUT_SECONDS", 10.0)?.max(Duration::from_millis(10)),
                concurrency: integer("IH_DELIVERY_CONCURRENCY", 128, 1, 10_000)? as usize,
                concurrency_per_endpoint: integer("IH_DELIVERY_CONCURRENCY_PER_ENDPOINT", 64, 1, 10_000)? as usize,
                lease: seconds("IH_DELIVERY_LEASE_SECONDS", 60.0)?.max(Duration::from_secs(1)),
                disable_after_failures: integer("IH_WEBHOOK_DISABLE_AFTER_FAILURES", 100, 1, 1_000_000)?,
                alert_after_failures: integer("IH_ALERT_FAILING_AFTER", 5, 1, 1_000_000)?,
                circuit_after_failures: integer("IH_CIRCUIT_OPEN_AFTER_FAILURES", 5, 1, 1_000_000)?,
                circuit_cooldown: seconds("IH_CIRCUIT_COOLDOWN_SECONDS", 30.0)?.max(Duration::from_millis(100)),
                circuit_max_cooldown: seconds("IH_CIRCUIT_MAX_COOLDOWN_SECONDS", 600.0)?
                    .max(Duration::from_millis(100)),
            },
            slack_bot_token: var("IH_SLACK_BOT_TOKEN").map(Secret::from),
            redis_url: var("IH_REDIS_URL").map(Secret::from),
            transform_worker: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("integrations-hub")),
            slack_default_channel: var("IH_SLACK_DEFAULT_CHANNEL"),
            slack_api_base: http_url(
                "IH_SLACK_API_BASE",
                var("IH_SLACK_API_BASE").unwrap_or_else(|| "https://slack.com/api".into()),
            )?,
            public_url: http_url("IH_PUBLIC_URL", var("IH_PUBLIC_URL").unwrap_or_else(|| format!("http://{bind}")))?,
            log_level,
            site_root,
            max_payload_bytes: integer("IH_MAX_PAYLOAD_BYTES", 256 * 1024, 1024, 16 << 20)? as usize,
            default_rate_limit_per_minute: integer("IH_DEFAULT_RATE_LIMIT_PER_MINUTE", 1200, 1, 100_000_000)?,
            operator_rate_limit_per_minute: integer("IH_OPERATOR_RATE_LIMIT_PER_MINUTE", 1_000_000, 1, 100_000_000)?,
            trusted_proxies: cidrs("IH_TRUSTED_PROXIES")?,
            sqlite_full_sync: match var("IH_SQLITE_SYNCHRONOUS").as_deref().map(str::trim) {
                None | Some("normal") => false,
                Some("full") => true,
                Some(v) => return Err(err("IH_SQLITE_SYNCHRONOUS", format!("expected normal or full, got {v:?}"))),
            },
            allowed_target_cidrs: cidrs("IH_ALLOWED_TARGET_CIDRS")?,
            retention: Retention {
                delivery_days: Some(integer("IH_RETENTION_DAYS", 90, 0, 36_500)?).filter(|d| *d > 0),
                audit_days: Some(integer("IH_AUDIT_RETENTION_DAYS", 365, 0, 36_500)?).filter(|d| *d > 0),
            },
            cors_allowed_origins: var("IH_CORS_ALLOWED_ORIGINS")
                .map(|text| cors_origins(&text).map_err(|m| err("IH_CORS_ALLOWED_ORIGINS", m)))
                .transpose()?,
            data_dir,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.expose().starts_with("sqlite:")
    }
}

/// `target/release/integrations-hub` serves `target/site`: cargo-leptos puts it beside the
/// profile folder. Falls back to `./target/site` when run from elsewhere (cargo test).
fn default_site_root() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(|dir| dir.join("site")))
        .filter(|dir| dir.exists())
        .unwrap_or_else(|| PathBuf::from("target/site"))
}

/// An absolute http(s) URL, kept without its trailing slash so paths can be appended.
fn http_url(name: &'static str, value: String) -> Result<String, ConfigError> {
    match url::Url::parse(value.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
            Ok(value.trim().trim_end_matches('/').to_string())
        }
        _ => Err(err(name, format!("expected an http(s) URL, got {value:?}"))),
    }
}

fn err(name: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { name, message: message.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_put_a_sqlite_file_in_the_data_folder() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url.expose(), "sqlite://data/hub.db");
        assert_eq!(c.bind.to_string(), "127.0.0.1:3000");
        assert!(!c.allow_private_targets);
        assert_eq!(c.delivery.max_attempts, 8);
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert_eq!(c.slack_api_base, "https://slack.com/api");
        assert_eq!(c.retention, Retention { delivery_days: Some(90), audit_days: Some(365) });
    }

    #[test]
    fn cors_origins_are_bare_origins_or_a_star() {
        assert_eq!(config(&[]).unwrap().cors_allowed_origins, None);
        let c = config(&[("IH_CORS_ALLOWED_ORIGINS", "https://app.example.com, http://localhost:5173")]).unwrap();
        let expected = ["https://app.example.com", "http://localhost:5173"].map(http::HeaderValue::from_static);
        assert_eq!(c.cors_allowed_origins, Some(Origins::List(expected.to_vec())));
        assert_eq!(config(&[("IH_CORS_ALLOWED_ORIGINS", "*")]).unwrap().cors_allowed_origins, Some(Origins::Any));
        for bad in ["app.example.com", "https://app.example.com/path", "https://app.example.com/", "ftp://x.y", ","] {
            let e = config(&[("IH_CORS_ALLOWED_ORIGINS", bad)]).unwrap_err();
            assert_eq!(e.name, "IH_CORS_ALLOWED_ORIGINS", "{bad:?}");
        }
    }

    #[test]
    fn zero_days_keeps_data_forever() {
        let c = config(&[("IH_RETENTION_DAYS", "0"), ("IH_AUDIT_RETENTION_DAYS", "30")]).unwrap();
        assert_eq!(c.retention, Retention { delivery_days: None, audit_days: Some(30) });
        assert_eq!(config(&[("IH_RETENTION_DAYS", "-1")]).unwrap_err().name, "IH_RETENTION_DAYS");
    }

    #[test]
    fn a_bad_value_names_the_variable_that_holds_it() {
        let e = config(&[("IH_DELIVERY_MAX_ATTEMPTS", "lots")]).unwrap_err();
        assert_eq!(e.name, "IH_DELIVERY_MAX_ATTEMPTS");
        let e = config(&[("IH_BIND", "nowhere")]).unwrap_err();
        assert_eq!(e.name, "IH_BIND");
        let e = config(&[("IH_DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(e.name, "IH_DATABASE_URL");
        let e = config(&[("IH_ALLOW_PRIVATE_TARGETS", "maybe")]).unwrap_err();
        assert_eq!(e.name, "IH_ALLOW_PRIVATE_TARGETS");
        let e = config(&[("IH_SLACK_API_BASE", "slack.com/api")]).unwrap_err();
        assert_eq!(e.name, "IH_SLACK_API_BASE");
    }

    #[test]
    fn a_short_or_spaced_operator_token_is_refused_without_being_repeated() {
        for weak in ["admin", "twenty-three-characters", "has a space in the middle of it"] {
            let e = config(&[("IH_ADMIN_TOKEN", weak)]).unwrap_err();
            assert_eq!(e.name, "IH_ADMIN_TOKEN");
            assert!(!e.to_string().contains(weak), "{e}");
        }
        let strong = "twenty-four-characters!!";
        assert_eq!(
            config(&[("IH_ADMIN_TOKEN", strong)]).unwrap().admin_token.as_ref().map(Secret::expose),
            Some(strong)
        );
    }

    #[test]
    fn fractional_seconds_are_accepted() {
        let c = config(&[("IH_DELIVERY_BACKOFF_BASE_SECONDS", "0.25")]).unwrap();
        assert_eq!(c.delivery.backoff_base, Duration::from_millis(250));
    }
}
