-- Pausing an endpoint: by hand until a time (Unix ms; the largest value: until resumed), and its
-- maintenance windows (a JSON array). While paused, its deliveries wait without attempts.
ALTER TABLE webhooks ADD COLUMN paused_until BIGINT;
ALTER TABLE webhooks ADD COLUMN maintenance_windows TEXT;
