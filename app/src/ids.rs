//! Typed ids: a tenant's id cannot be passed where an endpoint's is expected. Each is the
//! prefixed string the API has always shown (`tnt_…`, `wh_…`), serialised as that string, and
//! checked for its prefix where it enters from outside (a path): an id of another kind is then
//! "not found" before any query runs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What every typed id can do; the REST layer parses path segments through it.
pub trait TypedId: Sized + Clone + fmt::Display {
    /// The prefix before `_`, e.g. `wh`.
    const PREFIX: &'static str;
    /// What the id names, for "not found" problems ("webhook", "event").
    const NAMES: &'static str;
    /// Wraps an id that is known to be one (from the store, or just made).
    fn new_unchecked(id: String) -> Self;
    fn as_str(&self) -> &str;

    /// The id when `text` has this kind's shape: the prefix, `_`, and a 26-character ULID.
    fn parse(text: &str) -> Option<Self> {
        has_prefix(text, Self::PREFIX).then(|| Self::new_unchecked(text.to_string()))
    }
}

/// True when `id` looks like one of ours with this prefix; a cheap guard before a query.
pub fn has_prefix(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 27
        && id.starts_with(prefix)
        && id.as_bytes()[prefix.len()] == b'_'
        && id[prefix.len() + 1..].bytes().all(|b| b.is_ascii_alphanumeric())
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $names:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl TypedId for $name {
            const PREFIX: &'static str = $prefix;
            const NAMES: &'static str = $names;
            fn new_unchecked(id: String) -> Self {
                $name(id)
            }
            fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        /// From what the hub itself stored or made; text from outside goes through `parse`.
        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// The store binds ids as text: `&id` goes where a `&str` is taken.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        /// Shown in pages and attributes as its text.
        impl leptos::prelude::IntoAttributeValue for $name {
            type Output = String;
            fn into_attribute_value(self) -> String {
                self.0
            }
        }

        impl leptos::prelude::IntoRender for $name {
            type Output = String;
            fn into_render(self) -> String {
                self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == &other.0
            }
        }

        /// Documented as the plain string it is, inline, so the OpenAPI document shows
        /// `"type": "string"` where it always did.
        #[cfg(feature = "ssr")]
        impl schemars::JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> std::borrow::Cow<'static, str> {
                String::schema_name()
            }
            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                String::json_schema(generator)
            }
        }
    };
}

typed_id!(
    /// A tenant: `tnt_…`.
    TenantId, "tnt", "tenant"
);
typed_id!(
    /// An endpoint (webhook): `wh_…`.
    WebhookId, "wh", "webhook"
);
typed_id!(
    /// An API key's id (never the key itself): `key_…`.
    ApiKeyId, "key", "api key"
);
typed_id!(
    /// An event: `evt_…`.
    EventId, "evt", "event"
);
typed_id!(
    /// A delivery of an event to one endpoint: `dlv_…`.
    DeliveryId, "dlv", "delivery"
);
typed_id!(
    /// One attempt of a delivery: `att_…`.
    AttemptId, "att", "attempt"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_parsed_only_with_its_own_prefix() {
        let id = "wh_01JD0000000000000000000000";
        assert_eq!(WebhookId::parse(id).map(|w| w.to_string()).as_deref(), Some(id));
        assert!(TenantId::parse(id).is_none(), "a webhook id is not a tenant id");
        assert!(WebhookId::parse("wh_short").is_none());
        assert!(WebhookId::parse("wh_01JD00000000000000000000/0").is_none());
    }

    #[test]
    fn an_id_serialises_as_its_string() {
        let id = EventId::new_unchecked("evt_01JD0000000000000000000000".into());
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"evt_01JD0000000000000000000000\"");
    }
}
