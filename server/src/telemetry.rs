//! JSON logs on stdout, one object a line, at `IH_LOG_LEVEL`; and, when an OTLP endpoint is
//! configured, OpenTelemetry traces.
//!
//! Tracing is off unless `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is
//! set; the exporter, resource and batch processor then read the standard `OTEL_*` variables
//! themselves (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER[_ARG]`,
//! `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_*HEADERS`/`TIMEOUT`). One trace follows an event:
//!
//! - `POST /api/v1/…` — the request's server span (continuing the caller's `traceparent`);
//! - `ingest.commit` — its wait for the group commit that stores the event;
//! - `webhook.attempt` — each delivery attempt, a client span whose parent is the publish's span,
//!   whenever and on whichever instance it is made: the event row keeps the publish's trace
//!   context (`events.trace_context`, a W3C `traceparent`), and the outgoing request carries a
//!   `traceparent` of the attempt's span so a receiver can continue the trace.
//!
//! Only spans of [`TARGET`] are exported (not sqlx's or hyper's), and none carries a secret, a key,
//! a URL's path or query, or a payload. Export is batched on the SDK's own thread: a slow or
//! unreachable collector costs dropped spans, never delivery time. With tracing off, the hot
//! paths test one flag and create no span at all.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The target of the spans that are exported; other spans and events stay in the logs.
pub const TARGET: &str = "ih::trace";

const SERVICE_NAME: &str = "integrations-hub";

static TRACING: AtomicBool = AtomicBool::new(false);
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether traces are exported: the one check the hot paths make.
#[inline]
pub fn tracing() -> bool {
    TRACING.load(Ordering::Relaxed)
}

/// Whether the environment asks for traces.
pub fn otlp_configured() -> bool {
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()))
        && !std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Installs the logger and, when configured, the trace exporter. Returns a description of a
/// tracing set-up that failed (the hub then runs without traces and logs why).
pub fn init(level: &str) {
    let filter =
        tracing_subscriber::EnvFilter::new(format!("{level},sqlx=warn,hyper=warn,leptos=warn,tower_http=warn"));
    let logs = tracing_subscriber::fmt::layer().json().with_current_span(false).with_span_list(false);
    let (traces, problem) = match otlp_configured().then(provider) {
        Some(Ok(provider)) => {
            let tracer = provider.tracer(SERVICE_NAME);
            let _ = PROVIDER.set(provider);
            let only_ours = tracing_subscriber::filter::filter_fn(|meta| meta.target() == TARGET);
            (Some(tracing_opentelemetry::layer().with_tracer(tracer).with_filter(only_ours)), None)
        }
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let enabled = traces.is_some();
    let _ = tracing_subscriber::registry().with(logs.with_filter(filter)).with(traces).try_init();
    TRACING.store(enabled, Ordering::Relaxed);
    match problem {
        Some(problem) => tracing::error!(%problem, "OpenTelemetry: traces are off"),
        None if enabled => tracing::info!("OpenTelemetry: exporting traces over OTLP/HTTP"),
        None => {}
    }
}

fn provider() -> Result<SdkTracerProvider, String> {
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    // Only OTLP/HTTP with protobuf is built in (no gRPC stack in the binary); say so rather than
    // send protobuf to a port that expects something else.
    match std::env::var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").or_else(|_| std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL"))
    {
        Ok(p) if p != "http/protobuf" => {
            return Err(format!("OTEL_EXPORTER_OTLP_PROTOCOL={p} is not supported; use http/protobuf"))
        }
        _ => {}
    }
    // The exporter's HTTP client is built here, before the hub builds its own.
    crate::install_tls_provider();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()
        .map_err(|e| format!("the OTLP exporter: {e}"))?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    let named = std::env::var("OTEL_SERVICE_NAME").is_ok()
        || std::env::var("OTEL_RESOURCE_ATTRIBUTES").is_ok_and(|a| a.contains("service.name="));
    if !named {
        resource = resource.with_service_name(SERVICE_NAME);
    }
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build())
}

/// Exports what is still queued (at shutdown; bounded by the exporter's timeout).
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get() {
        if let Err(e) = provider.shutdown() {
            tracing::warn!(error = %e, "OpenTelemetry: flushing traces at shutdown failed");
        }
    }
}

/// The W3C `traceparent` of a span (`None` when it is not part of a trace).
pub fn traceparent(span: &Span) -> Option<String> {
    let context = span.context();
    let reference = context.span();
    let span_context = reference.span_context();
    if !span_context.is_valid() {
        return None;
    }
    let mut carrier = One(None);
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.0
}

/// The `traceparent` of the current span, when tracing is on: what a new event keeps so that its
/// deliveries join the publish's trace.
pub fn current_traceparent() -> Option<String> {
    if tracing() {
        traceparent(&Span::current())
    } else {
        None
    }
}

/// Makes `span` a child of the span a `traceparent` names (a malformed one is ignored: the span
/// then starts a trace of its own).
pub fn continue_from(span: &Span, traceparent: Option<&str>) {
    let Some(value) = traceparent else { return };
    let context = TraceContextPropagator::new().extract(&One(Some(value.to_owned())));
    if context.span().span_context().is_valid() {
        let _ = span.set_parent(context);
    }
}

/// A carrier of the one header this propagator reads and writes.
struct One(Option<String>);

impl Injector for One {
    fn set(&mut self, key: &str, value: String) {
        if key == "traceparent" {
            self.0 = Some(value);
        }
    }
}

impl Extractor for One {
    fn get(&self, key: &str) -> Option<&str> {
        (key == "traceparent").then_some(self.0.as_deref()).flatten()
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent"]
    }
}

/// `POST /api/v1/tenants/{id}/events` for `/api/v1/tenants/tnt_01J…/events`: a span name without
/// the ids (an id is a lowercase prefix, `_`, and 26 ULID characters).
pub fn route_name(method: &str, path: &str) -> String {
    let mut name = String::with_capacity(method.len() + 1 + path.len());
    name.push_str(method);
    name.push(' ');
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            name.push('/');
        }
        name.push_str(if looks_like_id(segment) { "{id}" } else { segment });
    }
    name
}

fn looks_like_id(segment: &str) -> bool {
    match segment.split_once('_') {
        Some((prefix, ulid)) => {
            !prefix.is_empty()
                && prefix.bytes().all(|b| b.is_ascii_lowercase())
                && ulid.len() == 26
                && ulid.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_names_leave_the_ids_out() {
        assert_eq!(
            route_name("POST", "/api/v1/tenants/tnt_01JABCDEFGHJKMNPQRSTVWXYZ0/events"),
            "POST /api/v1/tenants/{id}/events"
        );
        assert_eq!(route_name("GET", "/api/v1/event-types"), "GET /api/v1/event-types");
        assert_eq!(route_name("GET", "/api/v1/tenants/new_lead"), "GET /api/v1/tenants/new_lead");
    }
}
