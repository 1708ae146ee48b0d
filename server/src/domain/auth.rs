//! Who is calling, and what they may touch: the operator token or a tenant's API key.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::sync::{Arc, LazyLock, RwLock};
use std::time::Duration;

use app::models::{ApiKeyId, TenantId, TypedId, WhoAmIOut};
use sha2::{Digest, Sha256};

use super::key_token::{parse_cidr, ApiKeyToken};
use super::ratelimit::Meter;
use super::Hub;
use crate::error::{Error, Result};
use crate::store;
use crate::time;

/// How long a key read from the database is trusted. Revocation is immediate on the instance
/// that revokes (its cache entry is dropped) and takes at most this long on the others.
pub const KEY_CACHE_TTL: Duration = Duration::from_millis(500);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    KeysRead,
    KeysWrite,
    WebhooksRead,
    WebhooksWrite,
    EventsPublish,
    DeliveriesRead,
    DeliveriesReplay,
    AuditRead,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::KeysRead => "keys:read",
            Scope::KeysWrite => "keys:write",
            Scope::WebhooksRead => "webhooks:read",
            Scope::WebhooksWrite => "webhooks:write",
            Scope::EventsPublish => "events:publish",
            Scope::DeliveriesRead => "deliveries:read",
            Scope::DeliveriesReplay => "deliveries:replay",
            Scope::AuditRead => "audit:read",
        }
    }
}

/// A verified, live API key.
#[derive(Debug)]
pub struct KeyPrincipal {
    pub id: String,
    pub tenant_id: TenantId,
    pub scopes: Vec<String>,
    pub rate_limit_per_minute: Option<i64>,
    allowed_ips: Vec<ipnet::IpNet>,
    expires_at: Option<i64>,
    revoked: bool,
    /// See [`Principal::identity`].
    identity: bytes::Bytes,
}

#[derive(Clone, Debug)]
pub enum Principal {
    /// The operator token: every tenant, and the only one that manages tenants.
    Operator,
    Key(Arc<KeyPrincipal>),
}

/// Who is acting and from where: what every domain operation checks (through the principal,
/// which it derefs to) and writes into the audit log. The REST layer and the UI adapter each
/// make one per request.
#[derive(Clone)]
pub struct Actor {
    pub principal: Principal,
    /// The client's address as the audit log records it (behind a trusted proxy, the forwarded one).
    pub source_ip: Option<String>,
}

impl Actor {
    pub fn new(principal: Principal, source_ip: Option<std::net::IpAddr>) -> Actor {
        Actor { principal, source_ip: source_ip.map(|ip| ip.to_string()) }
    }
}

impl std::ops::Deref for Actor {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl PartialEq for Principal {
    fn eq(&self, other: &Self) -> bool {
        self.actor() == other.actor()
    }
}

impl Principal {
    /// The actor as the audit log records it.
    pub fn actor(&self) -> String {
        match self {
            Principal::Operator => "operator".into(),
            Principal::Key(key) => key.id.clone(),
        }
    }

    /// The caller as `GET /api/v1/whoami` describes it, as JSON serialised beforehand: once per
    /// key-cache entry for a key, once per process for the operator. Integrators call that route
    /// to check a key, and it is the one the key-checking benchmark measures, where serialising
    /// it per request cost more than the key check itself.
    pub fn identity(&self) -> bytes::Bytes {
        static OPERATOR: LazyLock<bytes::Bytes> = LazyLock::new(|| {
            identity_json(&WhoAmIOut { actor: Cow::Borrowed("operator"), tenant_id: None, scopes: None })
        });
        match self {
            Principal::Operator => OPERATOR.clone(),
            Principal::Key(key) => key.identity.clone(),
        }
    }

    /// The tenant of a key; `None` for the operator.
    pub fn tenant_id(&self) -> Option<&TenantId> {
        match self {
            Principal::Operator => None,
            Principal::Key(key) => Some(&key.tenant_id),
        }
    }

    pub fn require_operator(&self) -> Result<()> {
        match self {
            Principal::Operator => Ok(()),
            Principal::Key(_) => Err(Error::Forbidden("only the operator token manages tenants".into())),
        }
    }

    /// A key acts only inside its own tenant — another tenant answers 404, so its existence
    /// is not revealed — and only with the scope the action needs (403).
    pub fn authorize(&self, tenant_id: &str, scope: Scope) -> Result<()> {
        match self {
            Principal::Operator => Ok(()),
            Principal::Key(key) if key.tenant_id != tenant_id => Err(Error::NotFound("tenant")),
            Principal::Key(key) if !key.scopes.iter().any(|s| s == scope.name()) => {
                Err(Error::Forbidden(format!("this key lacks the {} scope", scope.name())))
            }
            Principal::Key(_) => Ok(()),
        }
    }

    /// Tenant-only check for reading the tenant itself.
    pub fn require_tenant(&self, tenant_id: &str) -> Result<()> {
        match self {
            Principal::Key(key) if key.tenant_id != tenant_id => Err(Error::NotFound("tenant")),
            _ => Ok(()),
        }
    }
}

/// Why a credential was refused, with the meter of the key it named (for its usage counts).
pub struct Refusal {
    pub error: Error,
    pub meter: Option<Arc<Meter>>,
}

/// A verified caller and the meter that limits and counts it.
pub struct Authenticated {
    pub principal: Principal,
    pub meter: Arc<Meter>,
}

struct CachedKey {
    /// Unix ms: the request path already reads the wall clock once, so the freshness check
    /// costs no clock read of its own (an `Instant` did).
    fetched: i64,
    key: Option<(Arc<KeyPrincipal>, Arc<Meter>)>,
}

/// Keys by the SHA-256 of their plaintext (raw bytes: no hex string per request).
#[derive(Default)]
pub struct KeyCache(RwLock<HashMap<[u8; 32], CachedKey, BuildHasherDefault<DigestHasher>>>);

/// The cache's keys are SHA-256 digests, already uniform and beyond a caller's control, so
/// their first eight bytes serve as the hash: hashing them again (SipHash) would only cost time
/// on every request.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        if let Some(first) = bytes.first_chunk::<8>() {
            self.0 = u64::from_ne_bytes(*first);
        }
    }

    fn write_usize(&mut self, _length_prefix: usize) {}
}

impl Hub {
    /// Resolves a bearer credential for a client at `ip`. One SHA-256 identifies the operator
    /// token or finds the key in a short-lived cache; the checksum and the database are only
    /// consulted when the cache has no fresh answer.
    /// `now` is Unix ms, read once by the caller for the whole request.
    pub async fn authenticate_from(
        &self,
        credential: &[u8],
        ip: Option<IpAddr>,
        now: i64,
    ) -> std::result::Result<Authenticated, Refusal> {
        let hash: [u8; 32] = Sha256::digest(credential).into();
        if let Some(answer) = self.known(&hash, ip, now) {
            return answer;
        }
        let key = self.fetch_key(credential, &hash, now).await.map_err(|error| Refusal { error, meter: None })?;
        admit(key, ip, now)
    }

    /// The answer for a credential that needs no database: the operator token, or a key with a
    /// fresh cache entry. `None` means the key must be fetched. The request path uses this to
    /// answer most requests without an allocation or a future of its own.
    pub fn authenticate_known(
        &self,
        credential: &[u8],
        ip: Option<IpAddr>,
        now: i64,
    ) -> Option<std::result::Result<Authenticated, Refusal>> {
        self.known(&Sha256::digest(credential).into(), ip, now)
    }

    /// [`Hub::authenticate_known`] by the credential's SHA-256, which a cache miss reuses for the
    /// database look-up instead of hashing again.
    fn known(
        &self,
        hash: &[u8; 32],
        ip: Option<IpAddr>,
        now: i64,
    ) -> Option<std::result::Result<Authenticated, Refusal>> {
        if *hash == self.operator_token_hash {
            return Some(Ok(Authenticated { principal: Principal::Operator, meter: self.operator_meter.clone() }));
        }
        let cache = self.key_cache.0.read().expect("not poisoned");
        // A clock stepped backwards makes an entry stale, not fresh for as long as the step.
        let fresh = |cached: &&CachedKey| (0..KEY_CACHE_TTL.as_millis() as i64).contains(&(now - cached.fetched));
        let cached = cache.get(hash).filter(fresh)?;
        Some(admit(cached.key.clone(), ip, now))
    }

    /// The same without a client address (the UI's sign-in, tests).
    pub async fn authenticate(&self, credential: &str) -> Result<Principal> {
        self.authenticate_from(credential.as_bytes(), None, time::now_ms())
            .await
            .map(|a| a.principal)
            .map_err(|r| r.error)
    }

    /// Reads a key from the database into the cache (also when it does not exist, so that a
    /// well-formed unknown key costs one look-up per TTL, not one per request).
    async fn fetch_key(
        &self,
        credential: &[u8],
        hash: &[u8; 32],
        now: i64,
    ) -> Result<Option<(Arc<KeyPrincipal>, Arc<Meter>)>> {
        // A malformed key is refused without a database look-up (and is not cached, so random
        // garbage cannot fill the cache).
        if std::str::from_utf8(credential).ok().and_then(ApiKeyToken::parse).is_none() {
            return Ok(None);
        }
        let key = store::api_keys::by_hash(&self.db, &hex::encode(hash)).await?.map(|row| {
            let (limit, window) = match super::keys::rate_limit_of(&row) {
                Some(own) => (own.limit, own.window),
                None => (self.config.default_rate_limit_per_minute, app::models::RateWindow::Minute),
            };
            let meter = self.meters.for_key(&row.id, limit, window);
            (key_principal(row), meter)
        });
        let mut cache = self.key_cache.0.write().expect("not poisoned");
        if cache.len() > 100_000 {
            cache.clear(); // many distinct well-formed keys must not grow memory forever
        }
        cache.insert(*hash, CachedKey { fetched: now, key: key.clone() });
        Ok(key)
    }

    /// The principal behind an admin UI session: the operator, or the key used to sign in,
    /// read afresh so that a revoked key ends its sessions too. An operator session lasts only
    /// while the token it was signed in with is still the operator token, so that setting a new
    /// `IH_ADMIN_TOKEN` (after a leak, say) also ends the sessions of the old one.
    pub async fn session_principal(&self, session: &store::sessions::SessionRow) -> Result<Principal> {
        let Some(tenant_id) = session.tenant_id.as_deref() else {
            let current = self.operator_session_mark();
            return match &session.operator_token_mark {
                Some(signed_in_with) if *signed_in_with == current => Ok(Principal::Operator),
                _ => Err(Error::Unauthorized),
            };
        };
        let (tenant_id, key_id) = (TenantId::from(tenant_id.to_string()), ApiKeyId::from(session.actor.clone()));
        let row = store::api_keys::get(&self.db, &tenant_id, &key_id).await?.ok_or(Error::Unauthorized)?;
        let key = key_principal(row);
        if key.revoked || key.expires_at.is_some_and(|at| at <= time::now_ms()) {
            return Err(Error::Unauthorized);
        }
        Ok(Principal::Key(key))
    }

    /// What an operator session records of the token it was signed in with: a keyed mark, not
    /// the token's hash, since a token chosen by hand may be guessable offline from a plain hash.
    pub fn operator_session_mark(&self) -> String {
        self.master_key.mark(&self.operator_token_hash)
    }

    /// Drops a key (by its stored hex hash) from this instance's cache: used after revoke,
    /// rotate and delete, so they take effect here at once.
    pub fn forget_key_hash(&self, hex_hash: &str) {
        if let Ok(hash) = hex::decode(hex_hash).map(|b| <[u8; 32]>::try_from(b.as_slice()).unwrap_or([0; 32])) {
            self.key_cache.0.write().expect("not poisoned").remove(&hash);
        }
    }
}

/// Whether a key, as found (or not), may make a request from `ip` now.
fn admit(
    key: Option<(Arc<KeyPrincipal>, Arc<Meter>)>,
    ip: Option<IpAddr>,
    now: i64,
) -> std::result::Result<Authenticated, Refusal> {
    let Some((key, meter)) = key else {
        return Err(Refusal { error: Error::Unauthorized, meter: None });
    };
    if key.revoked || key.expires_at.is_some_and(|at| at <= now) {
        return Err(Refusal { error: Error::Unauthorized, meter: Some(meter) });
    }
    if !key.allowed_ips.is_empty() && !ip.is_some_and(|ip| key.allowed_ips.iter().any(|net| net.contains(&ip))) {
        return Err(Refusal {
            error: Error::Forbidden("this key may not be used from this IP address".into()),
            meter: Some(meter),
        });
    }
    Ok(Authenticated { principal: Principal::Key(key), meter })
}

fn identity_json(identity: &WhoAmIOut) -> bytes::Bytes {
    serde_json::to_vec(identity).expect("strings serialise").into()
}

fn key_principal(row: store::api_keys::ApiKeyRow) -> Arc<KeyPrincipal> {
    let scopes: Vec<String> = serde_json::from_str(&row.scopes).unwrap_or_default();
    let identity = identity_json(&WhoAmIOut {
        actor: Cow::Borrowed(&row.id),
        tenant_id: Some(Cow::Borrowed(&row.tenant_id)),
        scopes: Some(Cow::Borrowed(&scopes)),
    });
    Arc::new(KeyPrincipal {
        identity,
        id: row.id,
        tenant_id: TenantId::new_unchecked(row.tenant_id),
        scopes,
        rate_limit_per_minute: row.rate_limit_per_minute,
        allowed_ips: serde_json::from_str::<Vec<String>>(&row.allowed_ips)
            .unwrap_or_default()
            .iter()
            .filter_map(|c| parse_cidr(c))
            .collect(),
        expires_at: row.expires_at,
        revoked: row.revoked_at.is_some(),
    })
}

impl Principal {
    /// May sign in to the admin UI: the operator, or a key holding every scope (role admin).
    pub fn is_admin(&self) -> bool {
        match self {
            Principal::Operator => true,
            Principal::Key(key) => app::models::SCOPES.iter().all(|s| key.scopes.iter().any(|k| k == s)),
        }
    }
}
