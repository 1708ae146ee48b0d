-- Fair delivery (WEBHOOKS.md, "Isolation"): each endpoint's circuit breaker and ordering.
-- circuit_state: 'closed' (sending), 'open' (its due deliveries wait, parked until
-- circuit_until, when one probe may go) or 'half_open' (the probe is out; circuit_until is
-- its lease: past it, another probe may go). circuit_opens counts the openings since it last
-- closed: each cool-down is twice the one before.
ALTER TABLE webhooks ADD COLUMN circuit_state TEXT NOT NULL DEFAULT 'closed';
ALTER TABLE webhooks ADD COLUMN circuit_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN circuit_opens BIGINT NOT NULL DEFAULT 0;
-- 'parallel' (up to the endpoint's concurrency at once) or 'fifo' (one at a time, in publish order).
ALTER TABLE webhooks ADD COLUMN ordering TEXT NOT NULL DEFAULT 'parallel';
-- The claim walks endpoints, not one queue: this finds the endpoints with work and, per
-- endpoint, its oldest unfinished deliveries in publish (id) order.
CREATE INDEX deliveries_open_by_webhook ON deliveries (webhook_id, id) WHERE status IN ('pending', 'failed', 'delivering');
