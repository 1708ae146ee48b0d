-- API keys are stored only as SHA-256 hashes; `prefix` is what the UI shows.
CREATE TABLE api_keys (
    id                     TEXT PRIMARY KEY,
    tenant_id              TEXT NOT NULL REFERENCES tenants(id),
    name                   TEXT NOT NULL,
    prefix                 TEXT NOT NULL,
    key_hash               TEXT NOT NULL UNIQUE,
    role                   TEXT,
    scopes                 TEXT NOT NULL,
    expires_at             INTEGER,
    revoked_at             INTEGER,
    deleted_at             INTEGER,
    rotated_to             TEXT,
    rate_limit_per_minute  INTEGER,
    allowed_ips            TEXT NOT NULL,
    last_used_at           INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id);

-- Request counts per key, hour and outcome, flushed in batches from memory.
CREATE TABLE api_key_usage (
    key_id   TEXT NOT NULL,
    hour     INTEGER NOT NULL,
    outcome  TEXT NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (key_id, hour, outcome)
);

-- Replays of POST responses for 24 hours, per caller.
CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
