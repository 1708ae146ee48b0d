-- The window an API key's own rate limit counts over, in seconds (1, 60 or 3600); NULL is a
-- minute, as every limit was before. rate_limit_per_minute holds the limit for that window.
ALTER TABLE api_keys ADD COLUMN rate_limit_window_seconds INTEGER;
