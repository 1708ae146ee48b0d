//! Prefixed, time-sortable ids (`tnt_`, `wh_`, `evt_`, `dlv_`, `att_`, `key_`): a ULID after the
//! prefix, so ordering by id is ordering by creation and a list cursor is just the last id.

pub const TENANT: &str = "tnt";
pub const WEBHOOK: &str = "wh";
pub const EVENT: &str = "evt";
pub const DELIVERY: &str = "dlv";
pub const ATTEMPT: &str = "att";
pub const AUDIT: &str = "aud";

pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", ulid::Ulid::new())
}

/// True when `id` looks like one of ours with this prefix; a cheap guard before a query.
pub fn has_prefix(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 27
        && id.starts_with(prefix)
        && id.as_bytes()[prefix.len()] == b'_'
        && id[prefix.len() + 1..].bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_sort_by_creation() {
        let a = new_id(EVENT);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id(EVENT);
        assert!(has_prefix(&a, EVENT) && has_prefix(&b, EVENT));
        assert!(!has_prefix(&a, WEBHOOK));
        assert!(a < b);
    }
}
