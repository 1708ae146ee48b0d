//! The lead routes of the system the hub replaces: a lead posted as itself, published as the
//! built-in `new_lead` or `lead_update` event with the lead as its data.

use app::models::{limits, EventAccepted, EventIn, FieldError, LeadIn, LeadUpdateIn, TenantId};

use super::auth::Actor;
use super::Hub;
use crate::error::{Error, Result};

/// Every field at fault at once, as the other input checks report.
fn check(lead: &LeadIn, errors: &mut Vec<FieldError>) {
    let mut fail = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });
    match &lead.id {
        serde_json::Value::String(id) if !id.trim().is_empty() && id.chars().count() <= limits::LEAD_FIELD => {}
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => {}
        _ => fail(
            "id",
            format!("must be a non-empty string of at most {} characters, or an integer", limits::LEAD_FIELD),
        ),
    }
    let name = lead.name.trim();
    if name.is_empty() || name.chars().count() > limits::LEAD_NAME {
        fail("name", format!("must be 1 to {} characters", limits::LEAD_NAME));
    }
    if !plausible_email(lead.email.trim()) {
        fail("email", "must be an e-mail address such as ada@example.com".into());
    }
    for (field, value) in [("phone", &lead.phone), ("source", &lead.source)] {
        if value.as_ref().is_some_and(|v| v.chars().count() > limits::LEAD_FIELD) {
            fail(field, format!("must be at most {} characters", limits::LEAD_FIELD));
        }
    }
}

/// `local@domain.tld`, within the length an address may have: what can be checked without
/// sending mail. (The full grammar of RFC 5322 accepts addresses no form does.)
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else { return false };
    email.len() <= limits::LEAD_EMAIL
        && !local.is_empty()
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain.split('.').count() >= 2
        && domain.split('.').all(|label| !label.is_empty())
}

/// The lead as published: trimmed text, optional fields left out when absent.
fn normalised(lead: LeadIn) -> LeadIn {
    LeadIn {
        name: lead.name.trim().to_string(),
        email: lead.email.trim().to_string(),
        phone: lead.phone.map(|p| p.trim().to_string()),
        source: lead.source.map(|s| s.trim().to_string()),
        ..lead
    }
}

impl Hub {
    pub async fn publish_lead(&self, who: &Actor, tenant_id: &TenantId, lead: LeadIn) -> Result<EventAccepted> {
        let mut errors = Vec::new();
        check(&lead, &mut errors);
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let payload = serde_json::to_value(normalised(lead)).expect("a lead serialises");
        self.publish_event(who, tenant_id, EventIn { event_type: "new_lead".into(), payload }).await
    }

    pub async fn publish_lead_update(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        update: LeadUpdateIn,
    ) -> Result<EventAccepted> {
        let mut errors = Vec::new();
        check(&update.lead, &mut errors);
        if update.changes.is_empty() {
            errors.push(FieldError { field: "changes".into(), message: "name at least one changed field".into() });
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let update = LeadUpdateIn { lead: normalised(update.lead), changes: update.changes };
        let payload = serde_json::to_value(update).expect("a lead serialises");
        self.publish_event(who, tenant_id, EventIn { event_type: "lead_update".into(), payload }).await
    }
}

#[cfg(test)]
mod tests {
    use super::plausible_email;

    #[test]
    fn an_email_needs_a_local_part_and_a_dotted_domain() {
        assert!(plausible_email("ada@example.com"));
        assert!(plausible_email("a.b+tag@mail.example.co.uk"));
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "ada@example..com", "a da@example.com"] {
            assert!(!plausible_email(bad), "{bad:?}");
        }
    }
}
