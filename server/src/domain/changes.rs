//! What the admin UI's live views follow: how many times each tenant's deliveries, events or
//! echo requests changed on this instance. A view of one tenant is told of that tenant's changes
//! only: it does not refetch for another tenant's traffic, nor learn how busy the others are.

use std::collections::HashMap;

use tokio::sync::watch;

/// Change counts, one per tenant, plus the changes that touch every tenant (a retention purge).
#[derive(Debug, Default)]
pub struct ChangeCounts {
    everywhere: u64,
    /// Every tenant's changes together, for a view of all tenants (the operator's).
    all_tenants: u64,
    tenants: HashMap<String, u64>,
}

impl ChangeCounts {
    /// A number that moves when, and only when, what a view of `tenant` (of every tenant when
    /// `None`) shows may have changed.
    pub fn version(&self, tenant: Option<&str>) -> u64 {
        let own = match tenant {
            Some(tenant) => self.tenants.get(tenant).copied().unwrap_or(0),
            None => self.all_tenants,
        };
        self.everywhere.wrapping_add(own)
    }

    fn count(&mut self, tenant: &str) {
        self.all_tenants = self.all_tenants.wrapping_add(1);
        // Looked up first: the key is allocated only for a tenant's first change.
        match self.tenants.get_mut(tenant) {
            Some(n) => *n = n.wrapping_add(1),
            None => {
                self.tenants.insert(tenant.to_string(), 1);
            }
        }
    }
}

/// The sender side, held by the hub; views subscribe.
#[derive(Default)]
pub struct Changes(watch::Sender<ChangeCounts>);

impl Changes {
    /// Records that these tenants' data changed (a tenant may be named more than once).
    pub fn changed<'a>(&self, tenants: impl IntoIterator<Item = &'a str>) {
        self.0.send_if_modified(|counts| {
            let mut any = false;
            for tenant in tenants {
                counts.count(tenant);
                any = true;
            }
            any
        });
    }

    /// Records a change that may touch every tenant.
    pub fn changed_everywhere(&self) {
        self.0.send_modify(|counts| counts.everywhere = counts.everywhere.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<ChangeCounts> {
        self.0.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_of_one_tenant_moves_only_with_that_tenant() {
        let changes = Changes::default();
        let mut counts = changes.subscribe();
        let version = |counts: &mut watch::Receiver<ChangeCounts>, tenant| counts.borrow_and_update().version(tenant);
        let (a, b, all) =
            (version(&mut counts, Some("a")), version(&mut counts, Some("b")), version(&mut counts, None));
        changes.changed(["b", "b"]);
        assert_eq!(version(&mut counts, Some("a")), a, "b's changes do not move a's view");
        assert_ne!(version(&mut counts, Some("b")), b);
        assert_ne!(version(&mut counts, None), all, "the view of every tenant moves");
        let (a, b) = (version(&mut counts, Some("a")), version(&mut counts, Some("b")));
        changes.changed_everywhere();
        assert_ne!(version(&mut counts, Some("a")), a, "a purge moves every view");
        assert_ne!(version(&mut counts, Some("b")), b);
        changes.changed([]);
        assert!(!counts.has_changed().unwrap(), "naming no tenant wakes no view");
    }
}
