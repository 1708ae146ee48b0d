-- What the built-in echo inspector received: the last requests per tenant, with whether the
-- signature verified against one of the tenant's endpoints that point at the same echo path.
CREATE TABLE echo_requests (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants(id),
    path                TEXT NOT NULL,
    headers             TEXT NOT NULL,
    body                TEXT NOT NULL,
    signature_verified  BOOLEAN NOT NULL,
    received_at         INTEGER NOT NULL
);
CREATE INDEX echo_requests_by_tenant ON echo_requests (tenant_id, id);
