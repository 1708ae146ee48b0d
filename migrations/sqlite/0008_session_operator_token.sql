-- A keyed mark of the operator token an operator session was signed in with (HMAC under a key
-- derived from the master key, so nothing here helps to guess the token): the session lasts
-- only while that token is the operator token, so a new IH_ADMIN_TOKEN ends the old token's
-- sessions. NULL for key sessions (a key session checks its key), and for operator sessions
-- begun before this column: they end, and the operator signs in again once.
ALTER TABLE sessions ADD COLUMN operator_token_mark TEXT;
