//! The payload contract: event types with a description, a JSON Schema (draft 2020-12) for their
//! `data` and an example. The hub ships its own types' schemas (the built-in, operational and
//! domain events, read-only); a tenant registers its own, and may have publishing validate
//! against them (`validate`), in which case a payload that fails is a 422 naming every failing
//! path. Deleting a type archives it: it stays readable for the events that named it, and stops
//! validating.
//!
//! The publish path does not read the database for this: each instance keeps, per tenant, the
//! compiled validators of its validated types, dropped at once on this instance's changes and
//! reloaded at most [`CACHE_FOR`] after another instance's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::models::{
    valid_event_type, EventTypeIn, EventTypeOut, EventTypePatch, FieldError, TenantId, BUILTIN_EVENT_TYPES,
    OPERATIONAL_EVENT_TYPES,
};
use jsonschema::Validator;
use serde_json::{json, Value};

use super::auth::{Actor, Scope};
use super::tenants::audit_row;
use super::Hub;
use crate::error::{Error, Result};
use crate::store::event_types::EventTypeRow;
use crate::{store, time};

/// How long an instance trusts its copy of a tenant's validated types.
pub const CACHE_FOR: Duration = Duration::from_secs(5);
/// A schema or example is at most this long (as JSON).
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
const MAX_DESCRIPTION: usize = 1000;

/// Compiles a tenant's schema: it must be a valid draft 2020-12 schema (each problem named by
/// its path in `schema`), and it may not fetch anything (remote or file `$ref`s fail).
pub fn compile(schema: &Value) -> std::result::Result<Validator, Vec<FieldError>> {
    let problems: Vec<FieldError> = jsonschema::draft202012::meta::validator()
        .iter_errors(schema)
        .map(|e| FieldError { field: format!("schema{}", e.instance_path()), message: e.to_string() })
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    jsonschema::draft202012::options()
        .build(schema)
        .map_err(|e| vec![FieldError { field: format!("schema{}", e.instance_path()), message: e.to_string() }])
}

/// `data` against the schema: a 422 naming every failing path under `field`.
pub fn conform(validator: &Validator, field: &str, data: &Value) -> Result<()> {
    let failed = failures(validator, field, data);
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(failed))
    }
}

/// Every way `data` fails the schema, as `<field>/<path>` (a JSON pointer under the request's
/// field) and a sentence; at most 20.
pub fn failures(validator: &Validator, field: &str, data: &Value) -> Vec<FieldError> {
    validator
        .iter_errors(data)
        .take(20)
        .map(|e| FieldError { field: format!("{field}{}", e.instance_path()), message: e.to_string() })
        .collect()
}

/// The built-in catalogue: the four types the hub was made for, and the ones it raises itself.
pub fn built_in() -> Vec<EventTypeOut> {
    let string = json!({ "type": "string" });
    let url = json!({ "type": "string", "format": "uri" });
    let object = |required: &[&str], properties: Value| {
        json!({ "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                "required": required, "properties": properties })
    };
    let webhook =
        || json!({ "webhook_id": string, "tenant_id": string, "name": { "type": ["string", "null"] }, "url": url });
    let key = || json!({ "api_key_id": string, "tenant_id": string, "name": string });
    let with = |mut base: Value, extra: Value| {
        base.as_object_mut().expect("an object").extend(extra.as_object().expect("an object").clone());
        base
    };
    let entries: Vec<(&str, &str, Value)> = vec![
        (
            "request_submitted",
            "A request was submitted for approval.",
            object(
                &["request_id", "title"],
                json!({
                    "request_id": string, "title": string, "description": string, "url": url,
                    "requester": { "type": "object", "properties": { "name": string, "email": { "type": "string", "format": "email" } } }
                }),
            ),
        ),
        (
            "request_approved",
            "A request was approved.",
            object(
                &["request_id", "title"],
                json!({
                    "request_id": string, "title": string, "approved_by": string, "url": url
                }),
            ),
        ),
        (
            "new_lead",
            "A new sales lead came in.",
            object(
                &["lead_id"],
                json!({
                    "lead_id": string, "name": string, "email": { "type": "string", "format": "email" }, "company": string, "source": string
                }),
            ),
        ),
        (
            "lead_update",
            "A lead changed; `changes` holds the new values.",
            object(
                &["lead_id", "changes"],
                json!({
                    "lead_id": string, "changes": { "type": "object" }
                }),
            ),
        ),
        ("webhook.failing", "An endpoint keeps failing (operational).", object(&["webhook_id"], webhook())),
        (
            "webhook.disabled",
            "An endpoint was disabled after failing too long (operational).",
            object(&["webhook_id"], webhook()),
        ),
        (
            "delivery.dead_lettered",
            "A delivery exhausted its attempts (operational).",
            object(
                &["delivery_id", "webhook_id", "event_id", "event_type"],
                json!({ "delivery_id": string, "webhook_id": string, "event_id": string, "event_type": string,
                    "last_error": { "type": ["string", "null"] } }),
            ),
        ),
        (
            "webhook.circuit_opened",
            "An endpoint's circuit breaker opened (operational).",
            object(&["webhook_id"], webhook()),
        ),
        (
            "webhook.circuit_closed",
            "An endpoint's circuit breaker closed again (operational).",
            object(&["webhook_id"], webhook()),
        ),
        ("webhook.created", "An endpoint was created.", object(&["webhook_id", "tenant_id", "url"], webhook())),
        ("webhook.updated", "An endpoint was changed.", object(&["webhook_id", "tenant_id", "url"], webhook())),
        ("webhook.deleted", "An endpoint was deleted.", object(&["webhook_id", "tenant_id", "url"], webhook())),
        ("api_key.created", "An API key was created.", object(&["api_key_id", "tenant_id"], key())),
        (
            "api_key.revoked",
            "An API key was revoked (or deleted: `deleted`).",
            object(&["api_key_id", "tenant_id"], with(key(), json!({ "deleted": { "type": "boolean" } }))),
        ),
        (
            "api_key.rotated",
            "An API key was rotated; the old one works until `old_key_valid_until`.",
            object(
                &["api_key_id", "tenant_id", "new_api_key_id"],
                with(key(), json!({ "new_api_key_id": string, "old_key_valid_until": string })),
            ),
        ),
        (
            "webhook.secret_rotated",
            "An endpoint's signing secret was rotated on schedule.",
            object(
                &["webhook_id", "tenant_id"],
                with(webhook(), json!({ "previous_secret_valid_until": string, "next_rotation_at": string })),
            ),
        ),
        (
            "api_key.rotation_due",
            "An API key's scheduled rotation is due: its owner rotates it.",
            object(
                &["api_key_id", "tenant_id", "due_at"],
                with(key(), json!({ "prefix": string, "due_at": string, "next_reminder_at": string })),
            ),
        ),
    ];
    debug_assert_eq!(entries.len(), BUILTIN_EVENT_TYPES.len() + OPERATIONAL_EVENT_TYPES.len());
    entries
        .into_iter()
        .map(|(name, description, schema)| EventTypeOut {
            name: name.to_string(),
            description: Some(description.to_string()),
            example: Some(if BUILTIN_EVENT_TYPES.contains(&name) {
                app::models::sample_payload(name)
            } else {
                Value::Null
            })
            .filter(|e| !e.is_null()),
            schema: Some(schema),
            validate: false,
            built_in: true,
            archived: false,
            created_at: None,
            updated_at: None,
        })
        .collect()
}

fn is_built_in(name: &str) -> bool {
    BUILTIN_EVENT_TYPES.contains(&name) || OPERATIONAL_EVENT_TYPES.contains(&name)
}

fn parse_json(field: &str, text: &Option<String>) -> Option<Value> {
    text.as_deref().and_then(|t| {
        serde_json::from_str(t).map_err(|e| tracing::warn!(field, error = %e, "stored JSON unreadable")).ok()
    })
}

fn out(row: EventTypeRow) -> EventTypeOut {
    EventTypeOut {
        schema: parse_json("schema", &row.schema),
        example: parse_json("example", &row.example),
        name: row.name,
        description: row.description,
        validate: row.validate,
        built_in: false,
        archived: row.archived_at.is_some(),
        created_at: Some(time::rfc3339(row.created_at)),
        updated_at: Some(time::rfc3339(row.updated_at)),
    }
}

/// Checks a type's description, schema, example and `validate` together, as they would be
/// stored; returns the schema and example as JSON text.
fn checked(row: &mut EventTypeRow, schema: Option<&Value>, example: Option<&Value>) -> Result<()> {
    let mut problems = Vec::new();
    if row.description.as_ref().is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
        problems
            .push(FieldError { field: "description".into(), message: format!("at most {MAX_DESCRIPTION} characters") });
    }
    let too_long = |field: &str, v: &Value| {
        let text = v.to_string();
        (text.len() > MAX_DOCUMENT_BYTES)
            .then(|| FieldError { field: field.into(), message: format!("at most {MAX_DOCUMENT_BYTES} bytes as JSON") })
    };
    problems.extend(schema.and_then(|s| too_long("schema", s)));
    problems.extend(example.and_then(|e| too_long("example", e)));
    if !problems.is_empty() {
        return Err(Error::Validation(problems));
    }
    let validator = match schema {
        Some(schema) if !schema.is_object() && !schema.is_boolean() => {
            return Err(Error::field("schema", "a JSON Schema is an object (or a boolean)"))
        }
        Some(schema) => Some(compile(schema).map_err(Error::Validation)?),
        None => None,
    };
    if let (Some(validator), Some(example)) = (&validator, example) {
        conform(validator, "example", example)?;
    }
    if row.validate && validator.is_none() {
        return Err(Error::field("validate", "validating needs a schema"));
    }
    row.schema = schema.map(Value::to_string);
    row.example = example.map(Value::to_string);
    Ok(())
}

/// Per tenant: when its validated types were read, and their validators by name.
#[derive(Default)]
pub struct SchemaCache(Mutex<HashMap<String, (Instant, Arc<HashMap<String, Arc<Validator>>>)>>);

impl SchemaCache {
    fn forget(&self, tenant_id: &TenantId) {
        self.0.lock().expect("not poisoned").remove(tenant_id.as_str());
    }
}

impl Hub {
    /// The catalogue as the tenant sees it: the built-in types (with the tenant's choice of
    /// validating the four publishable ones), then its own.
    pub async fn list_event_types(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        archived: bool,
    ) -> Result<Vec<EventTypeOut>> {
        who.authorize(tenant_id, Scope::WebhooksRead)?;
        self.ensure_tenant_exists(tenant_id).await?;
        let (choices, own): (Vec<EventTypeRow>, Vec<EventTypeRow>) =
            store::event_types::list(&self.db, tenant_id).await?.into_iter().partition(|r| is_built_in(&r.name));
        let mut types = built_in();
        for t in &mut types {
            t.validate = choices.iter().any(|c| c.name == t.name && c.validate);
        }
        types.extend(own.into_iter().map(out).filter(|t| archived || !t.archived));
        Ok(types)
    }

    pub async fn get_event_type(&self, who: &Actor, tenant_id: &TenantId, name: &str) -> Result<EventTypeOut> {
        who.authorize(tenant_id, Scope::WebhooksRead)?;
        self.ensure_tenant_exists(tenant_id).await?;
        let row = store::event_types::get(&self.db, tenant_id, name).await?;
        if let Some(mut t) = built_in().into_iter().find(|t| t.name == name) {
            t.validate = row.is_some_and(|r| r.validate);
            return Ok(t);
        }
        Ok(out(store::found(row, "event type")?))
    }

    /// A built-in type keeps its schema; a tenant chooses only whether its publishes of one of
    /// the four publishable types are validated against it (a row with no schema of its own).
    async fn choose_built_in_validation(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        name: &str,
        patch: EventTypePatch,
    ) -> Result<EventTypeOut> {
        if OPERATIONAL_EVENT_TYPES.contains(&name) {
            return Err(Error::Conflict(format!("{name} is published by the hub itself: it cannot be changed")));
        }
        let only_validate = patch.description.is_none()
            && patch.schema.is_none()
            && patch.example.is_none()
            && patch.archived.is_none();
        let Some(validate) = patch.validate.filter(|_| only_validate) else {
            return Err(Error::Conflict(format!(
                "{name} is a built-in type: it keeps its schema; only validate can change"
            )));
        };
        let now = time::now_ms();
        let existing = store::event_types::get(&self.db, tenant_id, name).await?;
        let mut tx = self.db.begin().await?;
        match existing {
            Some(mut row) => {
                row.validate = validate;
                row.updated_at = now;
                store::event_types::update(&mut tx, &row).await?;
            }
            None => {
                let row = EventTypeRow {
                    tenant_id: tenant_id.to_string(),
                    name: name.to_string(),
                    validate,
                    created_at: now,
                    updated_at: now,
                    ..EventTypeRow::default()
                };
                store::event_types::insert(&mut tx, &row).await?;
            }
        }
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), "event_type.updated", Some(name))).await?;
        tx.commit().await?;
        self.schemas.forget(tenant_id);
        let mut t = built_in().into_iter().find(|t| t.name == name).expect("a built-in type");
        t.validate = validate;
        Ok(t)
    }

    pub async fn create_event_type(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        input: EventTypeIn,
    ) -> Result<EventTypeOut> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        self.ensure_tenant_exists(tenant_id).await?;
        let name = input.name.trim().to_string();
        if !valid_event_type(&name) || name.contains('*') || name.len() > 200 {
            return Err(Error::field("name", "lowercase letters, digits, '_', '.', '-' (at most 200)"));
        }
        if is_built_in(&name) {
            return Err(Error::Conflict(format!("{name} is a built-in type: it has its schema already")));
        }
        let now = time::now_ms();
        let mut row = EventTypeRow {
            tenant_id: tenant_id.to_string(),
            name,
            description: input.description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty()),
            validate: input.validate.unwrap_or(false),
            created_at: now,
            updated_at: now,
            ..EventTypeRow::default()
        };
        checked(&mut row, input.schema.as_ref(), input.example.as_ref())?;
        let mut tx = self.db.begin().await?;
        if let Err(e) = store::event_types::insert(&mut tx, &row).await {
            return Err(match e {
                Error::Database(ref db) if db.as_database_error().is_some_and(|d| d.is_unique_violation()) => {
                    Error::Conflict(format!(
                        "{} is registered already (PATCH it, or restore it with archived: false)",
                        row.name
                    ))
                }
                other => other,
            });
        }
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), "event_type.created", Some(&row.name))).await?;
        tx.commit().await?;
        self.schemas.forget(tenant_id);
        Ok(out(row))
    }

    pub async fn patch_event_type(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        name: &str,
        patch: EventTypePatch,
    ) -> Result<EventTypeOut> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        self.ensure_tenant_exists(tenant_id).await?;
        if is_built_in(name) {
            return self.choose_built_in_validation(who, tenant_id, name, patch).await;
        }
        let mut row = store::found(store::event_types::get(&self.db, tenant_id, name).await?, "event type")?;
        let mut schema = parse_json("schema", &row.schema);
        let mut example = parse_json("example", &row.example);
        if let Some(description) = patch.description {
            row.description = description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
        }
        if let Some(new) = patch.schema {
            schema = new;
        }
        if let Some(new) = patch.example {
            example = new;
        }
        if let Some(validate) = patch.validate {
            row.validate = validate;
        }
        let now = time::now_ms();
        if let Some(archived) = patch.archived {
            row.archived_at = if archived { row.archived_at.or(Some(now)) } else { None };
        }
        checked(&mut row, schema.as_ref(), example.as_ref())?;
        row.updated_at = now;
        let mut tx = self.db.begin().await?;
        store::event_types::update(&mut tx, &row).await?;
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), "event_type.updated", Some(name))).await?;
        tx.commit().await?;
        self.schemas.forget(tenant_id);
        Ok(out(row))
    }

    /// Archives the type (DELETE): kept for the events that named it, no longer validated.
    pub async fn archive_event_type(&self, who: &Actor, tenant_id: &TenantId, name: &str) -> Result<()> {
        if is_built_in(name) {
            return Err(Error::Conflict(format!("{name} is a built-in type: it cannot be archived")));
        }
        let archive = EventTypePatch { archived: Some(true), ..EventTypePatch::default() };
        self.patch_event_type(who, tenant_id, name, archive).await.map(|_| ())
    }

    /// The publish path's check: a payload of a type the tenant validates must satisfy its
    /// schema; the 422 names every failing path (`payload/amount`, ...).
    pub async fn check_payload(&self, tenant_id: &TenantId, event_type: &str, data: &Value) -> Result<()> {
        let validators = self.validators(tenant_id).await?;
        match validators.get(event_type) {
            Some(validator) => conform(validator, "payload", data),
            None => Ok(()),
        }
    }

    /// Checks `data` against the type's schema (the hub's for a built-in type, the tenant's own
    /// otherwise), whether or not publishing validates it; a type without one passes.
    pub async fn check_against_schema(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        event_type: &str,
        data: &Value,
    ) -> Result<()> {
        let t = match self.get_event_type(who, tenant_id, event_type).await {
            Ok(t) => t,
            Err(Error::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let Some(Ok(validator)) = t.schema.filter(|_| !t.archived).map(|s| compile(&s)) else { return Ok(()) };
        conform(&validator, "payload", data)
    }

    async fn validators(&self, tenant_id: &TenantId) -> Result<Arc<HashMap<String, Arc<Validator>>>> {
        if let Some((read, validators)) = self.schemas.0.lock().expect("not poisoned").get(tenant_id.as_str()) {
            if read.elapsed() < CACHE_FOR {
                return Ok(validators.clone());
            }
        }
        let mut validators = HashMap::new();
        for (name, schema) in store::event_types::validated(&self.db, tenant_id).await? {
            // A built-in type's row holds no schema: its schema is the hub's.
            let schema = match schema {
                Some(text) => serde_json::from_str(&text).ok(),
                None => built_in().into_iter().find(|t| t.name == name).and_then(|t| t.schema),
            };
            // A stored schema compiled when it was saved; one that no longer does (a newer
            // validator's rules) is logged and not enforced rather than refusing every publish.
            match schema.map(|s: Value| compile(&s)) {
                Some(Ok(v)) => {
                    validators.insert(name, Arc::new(v));
                }
                _ => {
                    tracing::warn!(tenant_id = %tenant_id, event_type = %name, "stored schema does not compile: not enforced")
                }
            }
        }
        let validators = Arc::new(validators);
        self.schemas
            .0
            .lock()
            .expect("not poisoned")
            .insert(tenant_id.to_string(), (Instant::now(), validators.clone()));
        Ok(validators)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_schema_is_a_valid_schema_and_accepts_its_example() {
        for t in built_in() {
            let validator = compile(t.schema.as_ref().unwrap()).unwrap_or_else(|e| panic!("{}: {e:?}", t.name));
            if let Some(example) = &t.example {
                assert_eq!(failures(&validator, "example", example), vec![], "{}", t.name);
            }
        }
    }

    #[test]
    fn failures_name_each_failing_path() {
        let v = compile(&json!({ "type": "object", "required": ["amount"],
            "properties": { "amount": { "type": "number" }, "items": { "type": "array", "items": { "type": "string" } } } }))
        .unwrap();
        let failed = failures(&v, "payload", &json!({ "items": ["a", 2] }));
        let fields: Vec<&str> = failed.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["payload", "payload/items/1"], "{failed:?}");
        assert!(compile(&json!({ "type": "nonsense" })).is_err());
        assert!(compile(&json!({ "$ref": "https://example.com/schema.json" })).is_err(), "nothing is fetched");
    }
}
