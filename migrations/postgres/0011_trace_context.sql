-- The W3C traceparent of the request that published an event, when OpenTelemetry tracing is on:
-- its delivery attempts, made later and perhaps by another instance, join that trace.
ALTER TABLE events ADD COLUMN trace_context TEXT;
