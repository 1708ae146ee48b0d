-- Rotation schedules: every N days (the next turn in Unix ms), with a grace period in seconds.
-- An endpoint's secret is rotated by the hub; an API key's owner is told (api_key.rotation_due).
ALTER TABLE webhooks ADD COLUMN rotation_every_days BIGINT;
ALTER TABLE webhooks ADD COLUMN rotation_grace_seconds BIGINT;
ALTER TABLE webhooks ADD COLUMN rotation_next_at BIGINT;
ALTER TABLE api_keys ADD COLUMN rotation_every_days BIGINT;
ALTER TABLE api_keys ADD COLUMN rotation_grace_seconds BIGINT;
ALTER TABLE api_keys ADD COLUMN rotation_next_at BIGINT;
