-- An endpoint's transformation: a jq program mapping the event to the body it receives
-- (server/src/transform.rs); NULL: the standard body.
ALTER TABLE webhooks ADD COLUMN transformation TEXT;
