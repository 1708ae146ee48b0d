-- Timestamps are Unix milliseconds (BIGINT); JSON is TEXT.
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    actor       TEXT NOT NULL,
    tenant_id   TEXT REFERENCES tenants(id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE webhooks (
    id                     TEXT PRIMARY KEY,
    tenant_id              TEXT NOT NULL REFERENCES tenants(id),
    url                    TEXT NOT NULL,
    description            TEXT,
    events                 TEXT NOT NULL,
    enabled                BOOLEAN NOT NULL,
    secret                 BYTEA NOT NULL,
    previous_secret        BYTEA,
    previous_secret_until  BIGINT,
    headers                TEXT NOT NULL,
    max_attempts           BIGINT,
    backoff_base_seconds   BIGINT,
    timeout_seconds        BIGINT,
    disabled_reason        TEXT,
    consecutive_failures   BIGINT NOT NULL DEFAULT 0,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    deleted_at             BIGINT
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id, id);

CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    event_type  TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX events_by_tenant ON events (tenant_id, id);

-- For a delivery that is `delivering`, next_attempt_at is the end of its lease: when it passes,
-- the delivery is due again, so a crashed worker loses nothing.
CREATE TABLE deliveries (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants(id),
    event_id          TEXT NOT NULL REFERENCES events(id),
    webhook_id        TEXT NOT NULL REFERENCES webhooks(id),
    event_type        TEXT NOT NULL,
    status            TEXT NOT NULL,
    attempt_count     BIGINT NOT NULL DEFAULT 0,
    next_attempt_at   BIGINT NOT NULL,
    locked_by         TEXT,
    last_status_code  BIGINT,
    last_error        TEXT,
    replay_of         TEXT REFERENCES deliveries(id),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    delivered_at      BIGINT
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'failed', 'delivering');
CREATE INDEX deliveries_by_tenant ON deliveries (tenant_id, id);
CREATE INDEX deliveries_by_event ON deliveries (event_id);
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, id);

CREATE TABLE attempts (
    id                TEXT PRIMARY KEY,
    delivery_id       TEXT NOT NULL REFERENCES deliveries(id),
    tenant_id         TEXT NOT NULL,
    attempt_number    BIGINT NOT NULL,
    started_at        BIGINT NOT NULL,
    duration_ms       BIGINT NOT NULL,
    status_code       BIGINT,
    response_headers  TEXT NOT NULL,
    response_body     TEXT,
    error_kind        TEXT,
    error_message     TEXT
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT,
    source_ip   TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX audit_by_tenant ON audit_log (tenant_id, id);
