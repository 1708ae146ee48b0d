//! Prefixed, time-sortable ids (`tnt_`, `wh_`, `evt_`, `dlv_`, `att_`, `key_`): a ULID after the
//! prefix, so ordering by id is ordering by creation and a list cursor is just the last id.

pub const TENANT: &str = "tnt";
pub const WEBHOOK: &str = "wh";
pub const EVENT: &str = "evt";
pub const DELIVERY: &str = "dlv";
pub const ATTEMPT: &str = "att";
pub const AUDIT: &str = "aud";
pub const ECHO: &str = "ech";

/// Monotonic within this process: two ids made in the same millisecond still sort in the
/// order they were made (a plain ULID's random part would order them by chance).
static GENERATOR: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);

pub fn new_id(prefix: &str) -> String {
    let mut generator = GENERATOR.lock().expect("not poisoned");
    let id = generator.get_or_insert_with(ulid::Generator::new).generate().unwrap_or_else(|_| ulid::Ulid::new()); // random part overflowed within one ms: astronomically rare
    format!("{prefix}_{id}")
}

/// The smallest id with `prefix` that a clock at `ms` can make: every id made before `ms`
/// sorts before it, so `id < floor_at(…)` selects by age through the primary key.
pub fn floor_at(prefix: &str, ms: i64) -> String {
    format!("{prefix}_{}", ulid::Ulid::from_parts(ms.max(0) as u64, 0))
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
        let ids: Vec<String> = (0..1000).map(|_| new_id(EVENT)).collect();
        assert!(ids.iter().all(|id| has_prefix(id, EVENT)));
        assert!(!has_prefix(&ids[0], WEBHOOK));
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids made in the same millisecond keep their order");
    }

    #[test]
    fn an_age_floor_sorts_after_older_ids_and_not_after_newer_ones() {
        let id = new_id(EVENT);
        let made_at = id[4..].parse::<ulid::Ulid>().unwrap().timestamp_ms() as i64;
        assert!(has_prefix(&floor_at(EVENT, made_at), EVENT));
        assert!(floor_at(EVENT, made_at) <= id, "made at the floor's millisecond: not older");
        assert!(id < floor_at(EVENT, made_at + 1), "made before the next millisecond: older");
    }
}
