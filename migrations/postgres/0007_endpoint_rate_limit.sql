-- Sends a second an endpoint accepts (server/src/delivery/pacing.rs); NULL: no limit.
ALTER TABLE webhooks ADD COLUMN rate_limit_per_second BIGINT;
