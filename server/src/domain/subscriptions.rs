//! Which endpoints an event goes to: an endpoint's `events` filters against an event type.

use app::models::filter_covers;

/// `*` and families (`invoice.*`) cover every event the tenant publishes under them; the hub's
/// own operational events (`webhook.disabled`, `delivery.dead_lettered`) reach only endpoints
/// that name them, so a catch-all receiver is not surprised by them (and cannot loop on them).
pub fn subscribes(filters: &[String], event_type: &str) -> bool {
    filters.iter().any(|f| f == event_type || (!is_operational(event_type) && filter_covers(f, event_type)))
}

pub fn is_operational(event_type: &str) -> bool {
    app::models::OPERATIONAL_EVENT_TYPES.contains(&event_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_subscribes_to_everything_but_operational_events() {
        assert!(subscribes(&["*".into()], "new_lead"));
        assert!(!subscribes(&["*".into()], "webhook.disabled"));
        assert!(subscribes(&["webhook.disabled".into()], "webhook.disabled"));
        assert!(subscribes(&["new_lead".into()], "new_lead"));
        assert!(!subscribes(&["lead_update".into()], "new_lead"));
    }

    #[test]
    fn a_family_subscribes_to_its_types_but_not_to_operational_events() {
        assert!(subscribes(&["invoice.*".into()], "invoice.paid"));
        assert!(!subscribes(&["invoice.*".into()], "invoices.paid"));
        assert!(!subscribes(&["webhook.*".into()], "webhook.disabled"), "operational events are named, not covered");
        assert!(subscribes(&["webhook.*".into()], "webhook.archived"), "a tenant's own webhook.* type is covered");
    }
}
