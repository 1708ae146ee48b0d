//! Which claimed deliveries may start now, on this instance (WEBHOOKS.md, "Isolation").
//!
//! Two rules keep one endpoint's trouble from becoming another's latency:
//! - **Each endpoint has a concurrency limit that adapts** (additive increase, multiplicative
//!   decrease): it starts at [`START`], grows by one with each success up to
//!   `IH_DELIVERY_CONCURRENCY_PER_ENDPOINT`, and halves with each failure or timeout down to
//!   one. An endpoint that times out holds one slot, not sixty-four. A FIFO endpoint's limit is one.
//! - **A fair share per endpoint**: when the instance's shared slots (`IH_DELIVERY_CONCURRENCY`)
//!   are all taken, an endpoint below its fair share (the slots over the endpoints sending, at
//!   least one) may still start a delivery, from a reserve of the same size. However many
//!   endpoints hang, every other endpoint keeps its share moving; at most twice the configured
//!   slots are in flight.
//!
//! The claim asks [`Admission::room`] first, so an endpoint that cannot start more is not
//! claimed for; a delivery claimed but refused anyway (a race with a finishing one) is given back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The concurrency an endpoint starts with, before it has shown how it copes.
pub const START: usize = 8;

pub struct Admission {
    shared: usize,
    max_per_endpoint: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Deliveries in flight on shared slots, and on reserved lanes.
    shared: usize,
    reserved: usize,
    endpoints: HashMap<String, Lane>,
}

struct Lane {
    in_flight: usize,
    limit: usize,
    fifo: bool,
}

/// What a claim may take of each endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// At most this many of any one endpoint.
    pub cap: i64,
    /// At most this many of an endpoint not in `named`.
    pub unnamed: i64,
    /// A JSON object: endpoint id → how many more it may start here.
    pub named: String,
}

/// A delivery's place in flight; dropping it frees the place.
pub struct Ticket {
    admission: Arc<Admission>,
    webhook_id: String,
    reserved: bool,
    /// Set by [`Ticket::finished`]: `Some(true)` for a success, `Some(false)` for a failure.
    healthy: Option<bool>,
}

impl Admission {
    pub fn new(shared: usize, max_per_endpoint: usize) -> Arc<Self> {
        Arc::new(Admission { shared, max_per_endpoint: max_per_endpoint.max(1), state: Mutex::default() })
    }

    fn start_limit(&self) -> usize {
        START.min(self.max_per_endpoint)
    }

    /// What the next claim may take of each endpoint.
    pub fn room(&self) -> Room {
        let state = self.state.lock().expect("not poisoned");
        let pool_full = state.shared >= self.shared;
        let share = self.fair_share(&state);
        let mut room = String::from("{");
        let mut most = 0;
        for (id, lane) in
            state.endpoints.iter().filter(|(_, lane)| lane.in_flight > 0 || lane.limit != self.start_limit())
        {
            let limit = if lane.fifo { 1 } else { lane.limit };
            // With the shared slots taken, an endpoint below its fair share may still start one.
            let free = match pool_full {
                true => share.min(limit).saturating_sub(lane.in_flight),
                false => limit.saturating_sub(lane.in_flight),
            };
            most = most.max(free);
            if room.len() > 1 {
                room.push(',');
            }
            room.push_str(&format!("\"{id}\":{free}"));
        }
        room.push('}');
        let unnamed = if pool_full { share.min(self.start_limit()) } else { self.start_limit() };
        // The claim reads at most this many of one endpoint: no more than any may start.
        let cap = most.max(unnamed);
        Room { cap: cap as i64, unnamed: unnamed as i64, named: room }
    }

    /// A place for one delivery to `webhook_id`, or `None` when it must wait.
    pub fn admit(self: &Arc<Self>, webhook_id: &str, fifo: bool) -> Option<Ticket> {
        let mut state = self.state.lock().expect("not poisoned");
        let start = self.start_limit();
        let pool_full = state.shared >= self.shared;
        let reserve_full = state.reserved >= self.shared;
        let share = self.fair_share(&state);
        let lane = state.endpoints.entry(webhook_id.to_string()).or_insert(Lane { in_flight: 0, limit: start, fifo });
        lane.fifo = fifo;
        let limit = if fifo { 1 } else { lane.limit };
        if lane.in_flight >= limit {
            return None;
        }
        let below_share = lane.in_flight < share;
        let reserved = match pool_full {
            false => false,
            true if below_share && !reserve_full => true,
            true => return None,
        };
        lane.in_flight += 1;
        if reserved {
            state.reserved += 1;
        } else {
            state.shared += 1;
        }
        Some(Ticket { admission: self.clone(), webhook_id: webhook_id.to_string(), reserved, healthy: None })
    }

    /// With the shared slots all taken, how many deliveries each endpoint may have in flight
    /// from the reserve: the instance's slots over the endpoints sending (one more for a
    /// newcomer), at least one. Endpoints holding more (those that hang) get nothing more, so
    /// the others keep moving, each with its share.
    fn fair_share(&self, state: &State) -> usize {
        let sending = state.endpoints.values().filter(|lane| lane.in_flight > 0).count();
        (self.shared / (sending + 1)).max(1)
    }

    fn release(&self, ticket: &Ticket) {
        let mut state = self.state.lock().expect("not poisoned");
        if ticket.reserved {
            state.reserved -= 1;
        } else {
            state.shared -= 1;
        }
        let start = self.start_limit();
        let max = self.max_per_endpoint;
        let Some(lane) = state.endpoints.get_mut(&ticket.webhook_id) else { return };
        lane.in_flight -= 1;
        match ticket.healthy {
            Some(true) => lane.limit = (lane.limit + 1).min(max),
            Some(false) => lane.limit = (lane.limit / 2).max(1),
            None => {}
        }
        // An idle endpoint at its starting limit is forgotten: the map holds the endpoints that
        // are busy or have a history worth keeping, not every endpoint ever sent to.
        if lane.in_flight == 0 && lane.limit == start {
            state.endpoints.remove(&ticket.webhook_id);
        }
    }

    /// In flight on this instance: `(shared, reserved)`.
    pub fn in_flight(&self) -> (usize, usize) {
        let state = self.state.lock().expect("not poisoned");
        (state.shared, state.reserved)
    }

    #[cfg(test)]
    fn limit_of(&self, webhook_id: &str) -> usize {
        let state = self.state.lock().expect("not poisoned");
        state.endpoints.get(webhook_id).map_or(self.start_limit(), |lane| lane.limit)
    }
}

impl Ticket {
    /// Records how the delivery went, for the endpoint's limit: a success raises it, a failure
    /// (an error status, a timeout, a refused connection) halves it.
    pub fn finished(&mut self, healthy: bool) {
        self.healthy = Some(healthy);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.release(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_endpoint_shrinks_to_one_and_a_healthy_one_grows() {
        let admission = Admission::new(128, 64);
        let mut tickets: Vec<Ticket> = (0..START).map(|_| admission.admit("wh_bad", false).unwrap()).collect();
        assert!(admission.admit("wh_bad", false).is_none(), "the starting limit holds");
        for t in &mut tickets {
            t.finished(false);
        }
        drop(tickets);
        assert_eq!(admission.limit_of("wh_bad"), 1, "halved per failure, never below one");
        let one = admission.admit("wh_bad", false).unwrap();
        assert!(admission.admit("wh_bad", false).is_none());
        drop(one);
        for _ in 0..100 {
            let mut t = admission.admit("wh_good", false).unwrap();
            t.finished(true);
        }
        assert_eq!(admission.limit_of("wh_good"), 64, "grows by one a success up to the maximum");
    }

    #[test]
    fn with_every_shared_slot_taken_an_idle_endpoint_still_gets_its_lane() {
        let admission = Admission::new(4, 64);
        let held: Vec<Ticket> = (0..4).map(|i| admission.admit(&format!("wh_dead{i}"), false).unwrap()).collect();
        assert_eq!(admission.in_flight(), (4, 0));
        assert!(admission.admit("wh_dead0", false).is_none(), "a busy endpoint waits for a shared slot");
        let lane = admission.admit("wh_healthy", false).expect("its own lane");
        assert!(admission.admit("wh_healthy", false).is_none(), "one delivery on the lane");
        assert_eq!(admission.in_flight(), (4, 1));
        let room = admission.room();
        assert_eq!((room.cap, room.unnamed), (1, 1), "only lanes: one each");
        assert!(room.named.contains("\"wh_healthy\":0") && room.named.contains("\"wh_dead0\":0"), "{room:?}");
        drop(lane);
        drop(held);
        assert_eq!(admission.in_flight(), (0, 0));
    }

    #[test]
    fn with_every_shared_slot_taken_a_healthy_endpoint_gets_its_fair_share() {
        let admission = Admission::new(8, 64);
        let held: Vec<Ticket> = (0..8).map(|i| admission.admit(&format!("wh_dead{}", i % 2), false).unwrap()).collect();
        assert_eq!(admission.in_flight(), (8, 0));
        // Two endpoints hang with four each; a third may have 8 / 3 = 2 in flight from the reserve.
        let first = admission.admit("wh_healthy", false).expect("below its share");
        let second = admission.admit("wh_healthy", false).expect("still below its share");
        assert!(admission.admit("wh_healthy", false).is_none(), "its share is two");
        assert!(admission.admit("wh_dead0", false).is_none(), "those over their share wait");
        assert_eq!(admission.in_flight(), (8, 2));
        drop((first, second, held));
    }

    #[test]
    fn a_fifo_endpoint_has_one_in_flight() {
        let admission = Admission::new(128, 64);
        let head = admission.admit("wh_fifo", true).unwrap();
        assert!(admission.admit("wh_fifo", true).is_none());
        assert_eq!(admission.room().named, "{\"wh_fifo\":0}");
        drop(head);
        assert!(admission.admit("wh_fifo", true).is_some());
    }
}
