//! OpenTelemetry traces, end to end: the real binary exports to a real OTLP/HTTP receiver started
//! here, which decodes each export with the official protobuf types.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, Span};
use prost::Message;
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::both;
use crate::helpers::{
    database_url, drop_schema, schema_of, test_client, Backend, HubProcess, Receiver, ScratchDir, OPERATOR,
};

/// An OTLP/HTTP receiver (`POST /v1/traces`, protobuf) keeping every span with its resource's
/// attributes.
#[derive(Clone)]
struct Collector {
    url: String,
    spans: Arc<Mutex<Vec<(Vec<KeyValue>, Span)>>>,
    arrived: Arc<Notify>,
}

impl Collector {
    async fn start() -> Collector {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let collector = Collector {
            url: format!("http://{}", listener.local_addr().unwrap()),
            spans: Default::default(),
            arrived: Default::default(),
        };
        let state = collector.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |body: axum::body::Bytes| {
                let state = state.clone();
                async move {
                    let export = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf export");
                    for resource_spans in export.resource_spans {
                        let resource = resource_spans.resource.map(|r| r.attributes).unwrap_or_default();
                        for scope in resource_spans.scope_spans {
                            for span in scope.spans {
                                state.spans.lock().unwrap().push((resource.clone(), span));
                            }
                        }
                    }
                    state.arrived.notify_waiters();
                    (
                        [("content-type", "application/x-protobuf")],
                        ExportTraceServiceResponse::default().encode_to_vec(),
                    )
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        collector
    }

    /// Waits (event-driven, bounded) until a span named `name` has arrived, and returns it.
    async fn span(&self, name: &str) -> Span {
        let found = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let arrived = self.arrived.notified();
                if let Some((_, span)) = self.spans.lock().unwrap().iter().find(|(_, s)| s.name == name) {
                    return span.clone();
                }
                arrived.await;
            }
        })
        .await;
        found.unwrap_or_else(|_| {
            let names: Vec<String> = self.spans.lock().unwrap().iter().map(|(_, s)| s.name.clone()).collect();
            panic!("no span {name:?} was exported; got {names:?}")
        })
    }
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?.value.as_ref()
}

fn text(value: Option<&any_value::Value>) -> String {
    match value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

both!(one_trace_follows_an_event_from_the_publish_to_an_attempt_on_another_instance, |backend: Backend| async move {
    let collector = Collector::start().await;
    let receiver = Receiver::start().await;
    let (dir_a, dir_b) = (ScratchDir::new(), ScratchDir::new());
    let db = database_url(backend, dir_a.path()).await;
    let otel = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test"),
    ];
    // The instance that accepts the publish sends nothing; the attempt is made later, by another
    // instance, which knows the trace only from the stored event.
    let mut publisher = HubProcess::start_with(
        &db,
        dir_a.path(),
        &[otel.as_slice(), &[("IH_DELIVERY_WORKER_DISABLED", "true")]].concat(),
    )
    .await;
    let client = test_client();
    let call = |method: reqwest::Method, url: String| client.request(method, url).bearer_auth(OPERATOR);
    let answer = |request: reqwest::RequestBuilder| async move {
        let response = request.send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.json::<Value>().await.unwrap()
    };
    let api = |path: String| format!("{}/api/v1/{path}", publisher.url);
    let tenant = answer(call(reqwest::Method::POST, api("tenants".into())).json(&json!({ "name": "Acme" }))).await;
    let tenant = tenant["id"].as_str().unwrap();
    // Credentials in the URL's path and query must not reach a span.
    let url = format!("{}/path-credential?token=query-credential", receiver.url);
    let hook = answer(
        call(reqwest::Method::POST, api(format!("tenants/{tenant}/webhooks")))
            .json(&json!({ "url": url, "events": ["new_lead"] })),
    )
    .await;
    let hook_id = hook["id"].as_str().unwrap();
    let secret = answer(call(reqwest::Method::GET, api(format!("tenants/{tenant}/webhooks/{hook_id}/secret")))).await;
    let secret = secret["secret"].as_str().unwrap().to_string();

    let published = call(reqwest::Method::POST, api(format!("tenants/{tenant}/events")))
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .json(&json!({ "event_type": "new_lead", "payload": { "marker": "payload-marker-7f3a" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), 202);
    let event: Value = published.json().await.unwrap();

    // The publish's spans are exported before the publisher goes away.
    let ingest = collector.span("ingest.commit").await;
    let publish = collector.span("POST /api/v1/tenants/{id}/events").await;
    publisher.kill();
    let _deliverer = HubProcess::start_with(&db, dir_b.path(), &otel).await;
    let received = receiver.wait_for(1).await;
    let attempt = collector.span("webhook.attempt").await;

    // The publish continues the caller's trace; the commit and the attempt are its children.
    assert_eq!(hex::encode(&publish.trace_id), CALLER_TRACE);
    assert_eq!(hex::encode(&publish.parent_span_id), CALLER_SPAN);
    assert_eq!(publish.kind, SpanKind::Server as i32);
    assert_eq!(text(attribute(&publish.attributes, "http.response.status_code")), "202");
    assert_eq!(ingest.trace_id, publish.trace_id);
    assert_eq!(ingest.parent_span_id, publish.span_id);
    assert_eq!(text(attribute(&ingest.attributes, "ih.event_id")), event["id"].as_str().unwrap());
    assert_eq!(attempt.trace_id, publish.trace_id, "the attempt is in the publish's trace");
    assert_eq!(attempt.parent_span_id, publish.span_id);
    assert_eq!(attempt.kind, SpanKind::Client as i32);
    assert_eq!(text(attribute(&attempt.attributes, "http.response.status_code")), "200");
    assert_eq!(text(attribute(&attempt.attributes, "ih.outcome")), "delivered");
    assert_eq!(text(attribute(&attempt.attributes, "server.address")), "127.0.0.1");
    assert_eq!(text(attribute(&attempt.attributes, "ih.event_id")), event["id"].as_str().unwrap());

    // The receiver got a traceparent in that trace, naming the attempt as its parent.
    let header = received[0].headers.get("traceparent").expect("a traceparent header").to_str().unwrap();
    assert_eq!(header, format!("00-{CALLER_TRACE}-{}-01", hex::encode(&attempt.span_id)));

    // The standard resource: our service name unless told otherwise, and OTEL_RESOURCE_ATTRIBUTES.
    let spans = collector.spans.lock().unwrap().clone();
    let (resource, _) = &spans[0];
    assert_eq!(text(attribute(resource, "service.name")), "integrations-hub");
    assert_eq!(text(attribute(resource, "deployment.environment")), "test");
    // Only our spans (no sqlx or hyper internals), and nothing secret in any of them.
    for (_, span) in &spans {
        assert!(
            ["ingest.commit", "webhook.attempt"].contains(&span.name.as_str())
                || span.name.starts_with("POST ")
                || span.name.starts_with("GET "),
            "unexpected span {:?}",
            span.name
        );
        for kv in &span.attributes {
            let value = text(kv.value.as_ref().and_then(|v| v.value.as_ref()));
            for secret in [secret.as_str(), OPERATOR, "payload-marker-7f3a", "path-credential", "query-credential"] {
                assert!(
                    !value.contains(secret),
                    "span {:?} attribute {} = {value:?} leaks {secret:?}",
                    span.name,
                    kv.key
                );
            }
        }
    }
    if let Some(schema) = schema_of(&db) {
        drop_schema(schema);
    }
});
