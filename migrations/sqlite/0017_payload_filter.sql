-- An endpoint's condition on the payload, besides its event types (domain/payload_filter.rs):
-- the text as the tenant wrote it; NULL: every event of its types.
ALTER TABLE webhooks ADD COLUMN payload_filter TEXT;
