-- The event-type catalogue a tenant registers: a description, a JSON Schema (draft 2020-12) for
-- `data` and an example, both as JSON text, and whether publishing validates against the schema.
-- Deleting archives (archived_at): an archived type stays readable for the events it named.
CREATE TABLE event_types (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    name         TEXT NOT NULL,
    description  TEXT,
    schema       TEXT,
    example      TEXT,
    validate     BOOLEAN NOT NULL,
    archived_at  BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
