-- Daily roll-ups of stats_hourly, read by the 30- and 90-day windows. Each finished UTC day is
-- added up once (stats_rollups records which, so instances sharing a database roll a day up
-- once); a rolled-up day's hourly rows may then go (they are kept 8 days).
CREATE TABLE stats_daily (
    tenant_id   TEXT NOT NULL,
    webhook_id  TEXT NOT NULL,
    day         BIGINT NOT NULL,
    metric      TEXT NOT NULL,
    count       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day, webhook_id, metric)
);
CREATE INDEX stats_daily_by_day ON stats_daily (day);
CREATE TABLE stats_rollups (
    day         BIGINT PRIMARY KEY,
    rolled_at   BIGINT NOT NULL
);

-- Replay analytics: who replayed a delivery (the audit log's actor: an API key's id or
-- `operator`), and a tenant's replays found by time without reading its other deliveries.
ALTER TABLE deliveries ADD COLUMN replayed_by TEXT;
CREATE INDEX deliveries_replays ON deliveries (tenant_id, created_at) WHERE replay_of IS NOT NULL;
