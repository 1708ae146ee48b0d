//! The span of one delivery attempt (tracing on only; see `telemetry`): a client span in the
//! publish's trace, named and described without the URL's path or query (they may carry the
//! receiver's credentials), the payload or any secret.

use reqwest::Url;
use tracing::field::Empty;
use tracing::Span;

use app::models::DeliveryStatus;

use crate::store::deliveries::Claimed;
use crate::telemetry;

/// `None` when tracing is off: the attempt then costs no span at all.
pub fn attempt_span(claimed: &Claimed, url: &Url, attempt: i64, parent: Option<&str>) -> Option<Span> {
    if !telemetry::tracing() {
        return None;
    }
    let span = tracing::info_span!(target: telemetry::TARGET, "webhook.attempt",
        otel.name = "webhook.attempt", otel.kind = "client", otel.status_code = Empty,
        http.request.method = "POST", url.scheme = url.scheme(), server.address = url.host_str().unwrap_or(""),
        server.port = url.port_or_known_default().unwrap_or(0), http.response.status_code = Empty,
        "error.type" = Empty, ih.tenant_id = claimed.tenant_id.as_str(), ih.webhook_id = claimed.webhook_id.as_str(),
        ih.event_id = claimed.event_id.as_str(), ih.event_type = claimed.event_type.as_str(),
        ih.delivery_id = claimed.id.as_str(), ih.attempt = attempt, ih.outcome = Empty);
    telemetry::continue_from(&span, parent);
    Some(span)
}

/// What the attempt came to: the status code, the delivery's new status, the error's kind.
pub fn finish(span: &Span, status_code: Option<u16>, outcome: DeliveryStatus, error_kind: Option<&str>) {
    if let Some(code) = status_code {
        span.record("http.response.status_code", code);
    }
    span.record("ih.outcome", outcome.as_str());
    if outcome != DeliveryStatus::Delivered {
        span.record("otel.status_code", "error");
        span.record("error.type", error_kind.or(status_code.map(|_| "http_status")).unwrap_or("unknown"));
    }
}
