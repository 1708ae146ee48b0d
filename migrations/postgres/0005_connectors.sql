-- Connectors (the Slack connector) are endpoints of another kind: they live in the webhooks
-- table so that deliveries, attempts, retries, dead letters, replay and roll-ups serve them
-- unchanged. The webhook routes see only kind 'webhook'; a tenant has at most one connector
-- of each kind. For 'slack', `secret` holds the sealed bot token (empty: the default token)
-- and `channel` the channel (NULL: the default channel).
ALTER TABLE webhooks ADD COLUMN kind TEXT NOT NULL DEFAULT 'webhook';
ALTER TABLE webhooks ADD COLUMN channel TEXT;
CREATE UNIQUE INDEX one_connector_per_kind ON webhooks (tenant_id, kind) WHERE kind <> 'webhook' AND deleted_at IS NULL;
