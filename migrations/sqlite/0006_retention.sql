-- Retention (server/src/domain/retention.rs) deletes by age. These indexes let it find old
-- rows without scanning whole tables. The two roll-up indexes cost only when a new hour's row
-- is inserted: the counts that are added to later are not indexed.
CREATE INDEX stats_hourly_by_hour ON stats_hourly (hour);
CREATE INDEX api_key_usage_by_hour ON api_key_usage (hour);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
