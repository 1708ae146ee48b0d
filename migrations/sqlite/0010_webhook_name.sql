-- An endpoint's optional display name (shown where its URL is shown).
ALTER TABLE webhooks ADD COLUMN name TEXT;
