-- Hourly roll-ups of delivery attempts, added to as attempts are recorded (see
-- server/src/domain/stats.rs for the metrics). The dashboard and /stats read only these.
CREATE TABLE stats_hourly (
    tenant_id   TEXT NOT NULL,
    webhook_id  TEXT NOT NULL,
    hour        BIGINT NOT NULL,
    metric      TEXT NOT NULL,
    count       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, hour, webhook_id, metric)
);

-- The audit log page filters by actor and lists newest first.
CREATE INDEX audit_by_tenant_actor ON audit_log (tenant_id, actor, id);
