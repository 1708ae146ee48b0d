//! API keys: the token format, roles and scopes, and the lifecycle (create, rotate with a
//! grace period, revoke, delete, usage).

use app::models::{ApiKeyId, TenantId};
use serde_json::json;

use super::announce::announce;
use super::auth::{Actor, Scope};
pub use super::key_token::{parse_cidr, ApiKeyToken, KEY_ID_PREFIX, KEY_PREFIX};
use super::tenants::audit_row;
use super::{entries_within, every_page, page_cursor, page_limit, paginate, Hub};
use crate::error::{Error, Result};
use crate::store::{self, api_keys::ApiKeyRow, api_keys::KeyChange};
use crate::time;
use app::models::{
    limits, role_scopes, ApiKeyCreated, ApiKeyIn, ApiKeyOut, ApiKeyPatch, ApiKeyView, FieldError, Page, RateLimit,
    RateWindow, RotateIn, UsageBucket, UsageOut, SCOPES,
};

pub fn status(row: &ApiKeyRow, now: i64) -> &'static str {
    if row.revoked_at.is_some() {
        "revoked"
    } else if row.expires_at.is_some_and(|at| at <= now) {
        "expired"
    } else {
        "active"
    }
}

/// A key's own limit and window (`None`: the hub's default).
pub fn rate_limit_of(row: &ApiKeyRow) -> Option<RateLimit> {
    let window = row.rate_limit_window_seconds.and_then(RateWindow::from_seconds).unwrap_or_default();
    row.rate_limit_per_minute.map(|limit| RateLimit { limit, window })
}

pub fn key_out(row: ApiKeyRow) -> ApiKeyOut {
    let status = status(&row, time::now_ms()).to_string();
    let rate_limit = rate_limit_of(&row);
    ApiKeyOut {
        status,
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        name: row.name,
        prefix: row.prefix,
        role: row.role,
        scopes: serde_json::from_str(&row.scopes).unwrap_or_default(),
        expires_at: row.expires_at.map(time::rfc3339),
        revoked_at: row.revoked_at.map(time::rfc3339),
        rotated_to: row.rotated_to,
        rate_limit_per_minute: rate_limit.filter(|r| r.window == RateWindow::Minute).map(|r| r.limit),
        rate_limit,
        rotation: super::rotation::schedule_out(
            row.rotation_every_days,
            row.rotation_grace_seconds,
            row.rotation_next_at,
        ),
        allowed_ips: serde_json::from_str(&row.allowed_ips).unwrap_or_default(),
        last_used_at: row.last_used_at.map(time::rfc3339),
        created_at: time::rfc3339(row.created_at),
    }
}

struct KeySettings {
    name: String,
    role: Option<String>,
    scopes: Vec<String>,
    expires_at: Option<i64>,
    rate_limit: Option<RateLimit>,
    allowed_ips: Vec<String>,
}

/// A request's field errors, gathered to refuse them all at once.
#[derive(Default)]
struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    fn fail(&mut self, field: &str, message: String) {
        self.0.push(FieldError { field: field.into(), message });
    }

    fn or<T>(self, value: T) -> Result<T> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(Error::Validation(self.0))
        }
    }
}

fn check(input: &ApiKeyIn, now: i64) -> Result<KeySettings> {
    let mut errors = FieldErrors::default();
    let name = check_name(&input.name, &mut errors);
    let scopes = check_access(input.role.as_deref(), input.scopes.as_deref(), &mut errors);
    let expires_at = check_expiry(input.expires_at.as_deref(), now, &mut errors);
    let rate_limit = check_rate_limit(input.rate_limit_per_minute.map(Some), input.rate_limit.map(Some), &mut errors);
    let allowed_ips = input.allowed_ips.clone().unwrap_or_default();
    check_allowed_ips(&allowed_ips, &mut errors);
    errors.or(KeySettings {
        name,
        role: input.role.clone(),
        scopes,
        expires_at,
        rate_limit: rate_limit.flatten(),
        allowed_ips,
    })
}

/// The fields a patch gives, each checked as on a create; the others stay as they are.
fn check_patch(patch: &ApiKeyPatch, now: i64) -> Result<KeyChange> {
    let mut errors = FieldErrors::default();
    let name = patch.name.as_deref().map(|name| check_name(name, &mut errors));
    let access = (patch.role.is_some() || patch.scopes.is_some()).then(|| {
        let scopes = check_access(patch.role.as_deref(), patch.scopes.as_deref(), &mut errors);
        (patch.role.clone(), serde_json::to_string(&scopes).expect("strings serialise"))
    });
    let expires_at = patch.expires_at.as_ref().map(|at| check_expiry(at.as_deref(), now, &mut errors));
    let rate_limit = check_rate_limit(patch.rate_limit_per_minute, patch.rate_limit, &mut errors);
    let allowed_ips = patch.allowed_ips.as_ref().map(|ips| {
        let ips = ips.clone().unwrap_or_default();
        check_allowed_ips(&ips, &mut errors);
        serde_json::to_string(&ips).expect("strings serialise")
    });
    let rate_limit = rate_limit.map(|r| r.map(|r| (r.limit, r.window.seconds())));
    errors.or(KeyChange { name, access, expires_at, rate_limit, allowed_ips })
}

fn check_name(name: &str, errors: &mut FieldErrors) -> String {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > limits::KEY_NAME {
        errors.fail("name", format!("must be 1 to {} characters", limits::KEY_NAME));
    }
    name.to_string()
}

/// The scopes of a role or of a list (sorted, each once); a key needs one or the other.
fn check_access(role: Option<&str>, scopes: Option<&[String]>, errors: &mut FieldErrors) -> Vec<String> {
    let mut granted: Vec<String> = match (role, scopes) {
        (Some(role), _) => match role_scopes(role) {
            Some(scopes) => scopes.into_iter().map(str::to_string).collect(),
            None => {
                errors.fail("role", "must be admin, read_write or read_only".into());
                Vec::new()
            }
        },
        (None, Some(scopes)) => scopes.to_vec(),
        (None, None) => {
            errors.fail("role", "choose a role or a list of scopes".into());
            Vec::new()
        }
    };
    if role.is_some() && scopes.is_some() {
        errors.fail("scopes", "give a role or scopes, not both".into());
    }
    let entries = entries_within(&granted, SCOPES.len(), || {
        errors.fail("scopes", format!("at most {} scopes, each once: {SCOPES:?}", SCOPES.len()))
    });
    for scope in entries {
        if !SCOPES.contains(&scope.as_str()) {
            errors.fail("scopes", format!("{scope:?} is not a scope; scopes are {SCOPES:?}"));
        }
    }
    if role.is_none() && scopes.is_some_and(<[String]>::is_empty) {
        errors.fail("scopes", "give at least one scope".into());
    }
    granted.sort();
    granted.dedup();
    granted
}

fn check_expiry(text: Option<&str>, now: i64, errors: &mut FieldErrors) -> Option<i64> {
    parse_expiry(text, now).map_err(|message| errors.fail("expires_at", message)).ok().flatten()
}

/// The limit that `rate_limit_per_minute` or `rate_limit` gives (one of them; `Some(None)`: back
/// to the default), each within range.
fn check_rate_limit(
    per_minute: Option<Option<i64>>,
    rate_limit: Option<Option<RateLimit>>,
    errors: &mut FieldErrors,
) -> Option<Option<RateLimit>> {
    let in_range = |n: i64| (1..=limits::RATE_LIMIT_PER_MINUTE).contains(&n);
    let range = format!("must be between 1 and {}", limits::RATE_LIMIT_PER_MINUTE);
    if per_minute.flatten().is_some_and(|n| !in_range(n)) {
        errors.fail("rate_limit_per_minute", range.clone());
    }
    if rate_limit.flatten().is_some_and(|r| !in_range(r.limit)) {
        errors.fail("rate_limit.limit", range);
    }
    match (per_minute, rate_limit) {
        (Some(_), Some(_)) => {
            errors.fail("rate_limit", "give rate_limit or rate_limit_per_minute, not both".into());
            None
        }
        (Some(per_minute), None) => Some(per_minute.map(|limit| RateLimit { limit, window: RateWindow::Minute })),
        (None, rate_limit) => rate_limit,
    }
}

fn check_allowed_ips(allowed_ips: &[String], errors: &mut FieldErrors) {
    let entries = entries_within(allowed_ips, limits::ALLOWED_IPS, || {
        errors.fail("allowed_ips", format!("at most {} addresses or CIDRs", limits::ALLOWED_IPS))
    });
    for cidr in entries {
        if parse_cidr(cidr).is_none() {
            errors.fail("allowed_ips", format!("{cidr:?} is not an IPv4 or IPv6 address or CIDR"));
        }
    }
}

pub(super) fn parse_expiry(text: Option<&str>, now: i64) -> Result<Option<i64>, String> {
    let Some(text) = text else { return Ok(None) };
    let at = time::parse_rfc3339(text).ok_or("must be an RFC 3339 time")?;
    if at <= now {
        return Err("must be in the future".into());
    }
    Ok(Some(at))
}

/// What the domain events about a key say: its id, tenant and name, never the key or its hash.
fn key_event(row: &ApiKeyRow, extra: serde_json::Value) -> serde_json::Value {
    let mut data = json!({ "api_key_id": row.id, "tenant_id": row.tenant_id, "name": row.name });
    if let (Some(data), serde_json::Value::Object(extra)) = (data.as_object_mut(), extra) {
        data.extend(extra);
    }
    data
}

impl Hub {
    pub async fn create_key(&self, who: &Actor, tenant_id: &TenantId, input: ApiKeyIn) -> Result<ApiKeyCreated> {
        who.authorize(tenant_id, Scope::KeysWrite)?;
        store::found(store::tenants::get(&self.db, tenant_id).await?, "tenant")?;
        let now = time::now_ms();
        let settings = check(&input, now)?;
        let (row, token) = new_key_row(tenant_id, settings, now);
        let mut tx = self.db.begin().await?;
        store::api_keys::insert(&mut tx, &row).await?;
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), "api_key.created", Some(&row.id))).await?;
        let announced = announce(&mut tx, tenant_id, "api_key.created", key_event(&row, json!({}))).await?;
        tx.commit().await?;
        self.announced(tenant_id, announced);
        Ok(ApiKeyCreated { api_key: key_out(row), key: token.as_str().to_string() })
    }

    pub async fn list_keys(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Page<ApiKeyOut>> {
        who.authorize(tenant_id, Scope::KeysRead)?;
        let limit = page_limit(limit);
        let rows = store::api_keys::list(&self.db, tenant_id, page_cursor(cursor, KEY_ID_PREFIX)?, limit + 1).await?;
        Ok(paginate(rows, limit, |r| r.id.clone(), key_out))
    }

    pub async fn get_key(&self, who: &Actor, tenant_id: &TenantId, id: &ApiKeyId) -> Result<ApiKeyOut> {
        who.authorize(tenant_id, Scope::KeysRead)?;
        Ok(key_out(self.key_row(tenant_id, id).await?))
    }

    async fn key_row(&self, tenant_id: &TenantId, id: &ApiKeyId) -> Result<ApiKeyRow> {
        store::found(store::api_keys::get(&self.db, tenant_id, id).await?, "api key")
    }

    /// Changes the settings a patch gives (never the key itself), at once on this instance and
    /// within `KEY_CACHE_TTL` on the others, like a revoke: new scopes, limit and addresses hold
    /// from the key's next request. A revoked or expired key is not changed, nor the expiry of a
    /// rotated one (the end of its grace period).
    pub async fn update_key(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        id: &ApiKeyId,
        patch: ApiKeyPatch,
    ) -> Result<ApiKeyOut> {
        who.authorize(tenant_id, Scope::KeysWrite)?;
        let now = time::now_ms();
        let change = check_patch(&patch, now)?;
        let mut tx = self.db.begin().await?;
        // Checked as it is written, so a revoke or rotation that commits meanwhile is kept.
        let Some(row) = store::api_keys::change(&mut tx, tenant_id, id, &change, now).await? else {
            drop(tx);
            return Err(self.unchangeable(tenant_id, id, &change, now).await);
        };
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), "api_key.updated", Some(id))).await?;
        tx.commit().await?;
        self.forget_key_hash(&row.key_hash);
        Ok(key_out(row))
    }

    /// Why a change was not written: the key is gone, revoked, expired, or rotated (when the
    /// change moves its expiry).
    async fn unchangeable(&self, tenant_id: &TenantId, id: &ApiKeyId, change: &KeyChange, now: i64) -> Error {
        let row = match self.key_row(tenant_id, id).await {
            Ok(row) => row,
            Err(error) => return error,
        };
        match (status(&row, now), &row.rotated_to) {
            ("active", Some(successor)) if change.expires_at.is_some() => Error::Conflict(format!(
                "the key was rotated to {successor}: its expiry is the end of its grace period and cannot be \
                 changed (revoke it to stop it now)"
            )),
            ("active", _) => Error::Conflict("the key changed while this request ran; nothing was changed".into()),
            ("expired", _) => Error::Conflict("the key has expired: an expired key cannot be changed".into()),
            _ => Error::Conflict("the key is revoked: a revoked key cannot be changed".into()),
        }
    }

    /// A new key with the old one's settings; the old one works until the grace period ends.
    pub async fn rotate_key(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        id: &ApiKeyId,
        input: RotateIn,
    ) -> Result<ApiKeyCreated> {
        who.authorize(tenant_id, Scope::KeysWrite)?;
        let now = time::now_ms();
        let old = self.key_row(tenant_id, id).await?;
        if status(&old, now) != "active" {
            return Err(Error::Conflict(format!(
                "the key is {}; only an active key can be rotated",
                status(&old, now)
            )));
        }
        if let Some(successor) = &old.rotated_to {
            return Err(Error::Conflict(format!(
                "the key was already rotated to {successor}; rotate that one instead"
            )));
        }
        let grace = super::grace_period(input.grace_period_seconds, 0)?;
        let expires_at = parse_expiry(input.expires_at.as_deref(), now).map_err(|m| Error::field("expires_at", m))?;
        let settings = KeySettings {
            name: old.name.clone(),
            role: old.role.clone(),
            scopes: serde_json::from_str(&old.scopes).unwrap_or_default(),
            expires_at: expires_at.or(old.expires_at),
            rate_limit: rate_limit_of(&old),
            allowed_ips: serde_json::from_str(&old.allowed_ips).unwrap_or_default(),
        };
        let (mut new, token) = new_key_row(tenant_id, settings, now);
        // The successor keeps the schedule, its first reminder a full period from now.
        if let Some(every) = old.rotation_every_days {
            new.rotation_every_days = Some(every);
            new.rotation_grace_seconds = old.rotation_grace_seconds;
            new.rotation_next_at = Some(now + every * 86_400_000);
        }
        let mut tx = self.db.begin().await?;
        store::api_keys::insert(&mut tx, &new).await?;
        // Checked again as it is written: a revoke or rotation since the read above wins, and
        // this one is rolled back with its new key.
        if !store::api_keys::mark_rotated(&mut tx, tenant_id, id, now + grace * 1000, &new.id, now).await? {
            return Err(Error::Conflict(
                "the key was revoked, deleted or rotated while this rotation ran; nothing was changed".into(),
            ));
        }
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), "api_key.rotated", Some(&old.id))).await?;
        let data = key_event(
            &old,
            json!({ "new_api_key_id": new.id, "old_key_valid_until": time::rfc3339(now + grace * 1000) }),
        );
        let announced = announce(&mut tx, tenant_id, "api_key.rotated", data).await?;
        tx.commit().await?;
        self.announced(tenant_id, announced);
        self.forget_key_hash(&old.key_hash);
        Ok(ApiKeyCreated { api_key: key_out(new), key: token.as_str().to_string() })
    }

    pub async fn revoke_key(&self, who: &Actor, tenant_id: &TenantId, id: &ApiKeyId) -> Result<ApiKeyOut> {
        self.end_key(who, tenant_id, id, "api_key.revoked").await
    }

    pub async fn delete_key(&self, who: &Actor, tenant_id: &TenantId, id: &ApiKeyId) -> Result<()> {
        self.end_key(who, tenant_id, id, "api_key.deleted").await.map(|_| ())
    }

    async fn end_key(&self, who: &Actor, tenant_id: &TenantId, id: &ApiKeyId, action: &str) -> Result<ApiKeyOut> {
        who.authorize(tenant_id, Scope::KeysWrite)?;
        let now = time::now_ms();
        let mut tx = self.db.begin().await?;
        let row = store::api_keys::end(&mut tx, tenant_id, id, action == "api_key.deleted", now).await?;
        let row = store::found(row, "api key")?;
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), action, Some(id))).await?;
        // Deleting a key also ends it: subscribers hear of both as a revocation.
        let data = key_event(&row, json!({ "deleted": action == "api_key.deleted" }));
        let announced = announce(&mut tx, tenant_id, "api_key.revoked", data).await?;
        tx.commit().await?;
        self.announced(tenant_id, announced);
        // Effective at once here; other instances re-read keys at least every KEY_CACHE_TTL.
        self.forget_key_hash(&row.key_hash);
        Ok(key_out(row))
    }

    /// Every key of the tenant with its request totals over 7 days: the admin UI's whole list
    /// (it read only the first page of 500, so the 501st key was not on the API Keys page at all),
    /// with one totals query per 500 keys.
    pub async fn key_views(&self, who: &Actor, tenant_id: &TenantId) -> Result<Vec<ApiKeyView>> {
        // Flushed first, so that each key's last use agrees with its counts below (read before
        // the flush, a key used in the last 5 seconds showed "never" beside its requests).
        self.meters.flush(&self.db, time::now_ms()).await?;
        let keys =
            every_page(|cursor| async move { self.list_keys(who, tenant_id, cursor.as_deref(), Some(500)).await })
                .await?;
        let since = time::now_ms() / 3_600_000 - 7 * 24;
        let mut totals = std::collections::HashMap::new();
        for some in keys.chunks(500) {
            let ids: Vec<String> = some.iter().map(|k| k.id.to_string()).collect();
            totals.extend(store::api_keys::request_totals(&self.db, &ids, since).await?);
        }
        Ok(keys
            .into_iter()
            .map(|key| ApiKeyView { requests_7d: totals.get(key.id.as_str()).copied().unwrap_or(0), key })
            .collect())
    }

    /// Requests per hour and outcome over the last 7 days.
    pub async fn key_usage(&self, who: &Actor, tenant_id: &TenantId, id: &ApiKeyId) -> Result<UsageOut> {
        who.authorize(tenant_id, Scope::KeysRead)?;
        self.key_row(tenant_id, id).await?;
        self.meters.flush(&self.db, time::now_ms()).await?;
        let since = time::now_ms() / 3_600_000 - 7 * 24;
        let mut data: Vec<UsageBucket> = Vec::new();
        for (hour, outcome, count) in store::api_keys::usage(&self.db, id, since).await? {
            let at = time::rfc3339(hour * 3_600_000);
            if data.last().is_none_or(|b| b.hour != at) {
                data.push(UsageBucket { hour: at, ok: 0, unauthorized: 0, forbidden: 0, rate_limited: 0 });
            }
            let bucket = data.last_mut().expect("pushed");
            match outcome.as_str() {
                "ok" => bucket.ok += count,
                "unauthorized" => bucket.unauthorized += count,
                "forbidden" => bucket.forbidden += count,
                _ => bucket.rate_limited += count,
            }
        }
        Ok(UsageOut { key_id: id.clone(), data })
    }
}

fn new_key_row(tenant_id: &str, s: KeySettings, now: i64) -> (ApiKeyRow, ApiKeyToken) {
    let token = ApiKeyToken::generate();
    let row = ApiKeyRow {
        id: crate::ids::new_id(KEY_ID_PREFIX),
        tenant_id: tenant_id.to_string(),
        name: s.name,
        prefix: token.display_prefix(),
        key_hash: token.hash(),
        role: s.role,
        scopes: serde_json::to_string(&s.scopes).expect("strings serialise"),
        expires_at: s.expires_at,
        revoked_at: None,
        deleted_at: None,
        rotated_to: None,
        rate_limit_per_minute: s.rate_limit.map(|r| r.limit),
        rate_limit_window_seconds: s.rate_limit.map(|r| r.window.seconds()),
        rotation_every_days: None,
        rotation_grace_seconds: None,
        rotation_next_at: None,
        allowed_ips: serde_json::to_string(&s.allowed_ips).expect("strings serialise"),
        last_used_at: None,
        created_at: now,
        updated_at: now,
    };
    (row, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_a_changed_character_does_not() {
        let token = ApiKeyToken::generate();
        assert!(token.as_str().starts_with("sk_"));
        assert_eq!(token.as_str().len(), 3 + 43 + 6);
        assert_eq!(ApiKeyToken::parse(token.as_str()), Some(token.clone()));
        let mut typo = token.as_str().to_string().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        assert_eq!(ApiKeyToken::parse(std::str::from_utf8(&typo).unwrap()), None);
        assert_eq!(ApiKeyToken::parse(&token.as_str()[..40]), None);
        assert!(!format!("{token:?}").contains(&token.as_str()[12..]), "Debug hides the key");
    }

    #[test]
    fn roles_map_to_scopes_and_unknown_scopes_are_refused() {
        let now = 0;
        let admin =
            check(&ApiKeyIn { name: "a".into(), role: Some("admin".into()), ..Default::default() }, now).unwrap();
        assert_eq!(admin.scopes.len(), SCOPES.len());
        let bad = check(&ApiKeyIn { name: "a".into(), scopes: Some(vec!["root".into()]), ..Default::default() }, now);
        assert!(matches!(bad, Err(Error::Validation(_))));
        let ips = check(
            &ApiKeyIn {
                name: "a".into(),
                role: Some("read_only".into()),
                allowed_ips: Some(vec!["10.0.0.0/8".into(), "2001:db8::1".into(), "nope".into()]),
                ..Default::default()
            },
            now,
        );
        let Err(Error::Validation(errors)) = ips else { panic!() };
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn a_patch_checks_and_changes_only_the_fields_it_gives() {
        let none = check_patch(&ApiKeyPatch::default(), 0).unwrap();
        assert!(none.name.is_none() && none.access.is_none() && none.expires_at.is_none());
        assert!(none.rate_limit.is_none() && none.allowed_ips.is_none());
        let patch = ApiKeyPatch {
            scopes: Some(vec!["webhooks:read".into(), "keys:read".into(), "keys:read".into()]),
            expires_at: Some(None),
            allowed_ips: Some(None),
            ..Default::default()
        };
        let change = check_patch(&patch, 0).unwrap();
        assert_eq!(change.access, Some((None, r#"["keys:read","webhooks:read"]"#.to_string())));
        assert_eq!((change.expires_at, change.allowed_ips.as_deref()), (Some(None), Some("[]")));
        let both =
            ApiKeyPatch { role: Some("admin".into()), scopes: Some(vec!["keys:read".into()]), ..Default::default() };
        let Err(Error::Validation(errors)) = check_patch(&both, 0) else { panic!() };
        assert_eq!(errors[0].field, "scopes");
        let blank = ApiKeyPatch { name: Some(" ".into()), rate_limit_per_minute: Some(Some(0)), ..Default::default() };
        let Err(Error::Validation(errors)) = check_patch(&blank, 0) else { panic!() };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "rate_limit_per_minute"]);
        let hourly = ApiKeyPatch {
            rate_limit: Some(Some(RateLimit { limit: 500, window: RateWindow::Hour })),
            ..Default::default()
        };
        assert_eq!(check_patch(&hourly, 0).unwrap().rate_limit, Some(Some((500, 3600))));
        let per_minute = ApiKeyPatch { rate_limit_per_minute: Some(Some(30)), ..Default::default() };
        assert_eq!(check_patch(&per_minute, 0).unwrap().rate_limit, Some(Some((30, 60))));
        let default = ApiKeyPatch { rate_limit: Some(None), ..Default::default() };
        assert_eq!(check_patch(&default, 0).unwrap().rate_limit, Some(None));
        let twice = ApiKeyPatch { rate_limit_per_minute: Some(Some(30)), ..hourly };
        let Err(Error::Validation(errors)) = check_patch(&twice, 0) else { panic!() };
        assert_eq!(errors[0].field, "rate_limit");
    }
}
