//! Tracing and OpenTelemetry for every trustsafe process, and W3C trace context carried across HTTP
//! and Kafka so one request can be followed from the handler that appended an event to the consumer
//! that reacted to it.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

/// Flushes and shuts the exporter down when dropped, so the last spans of a process are not lost.
#[must_use = "spans are flushed when the guard drops"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// What is logged when `RUST_LOG` is unset: our own news, and only warnings from the embedded
/// broker and the HTTP server, which are chatty at info.
const DEFAULT_FILTER: &str = "info,tansu_storage=warn,tansu_broker=warn,tansu_sans_io=warn,actix_server=warn,sqlx::postgres::notice=warn";

/// Logs to stderr (filtered by `RUST_LOG`, default [`DEFAULT_FILTER`]), and exports spans over OTLP when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Safe to call more than once: later calls change nothing.
pub fn init(service_name: &'static str) -> TelemetryGuard {
    let provider = std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").and_then(|_| {
        match opentelemetry_otlp::SpanExporter::builder().with_tonic().build() {
            Ok(exporter) => Some(tracer_provider(service_name, exporter)),
            Err(err) => {
                eprintln!("OTLP export disabled: {err}");
                None
            }
        }
    });
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let otel_layer = provider
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer(service_name)));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(otel_layer)
        .try_init();
    TelemetryGuard { provider }
}

/// A tracer provider that batches spans to `exporter`, naming the service.
pub fn tracer_provider(
    service_name: &'static str,
    exporter: impl opentelemetry_sdk::trace::SpanExporter + 'static,
) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(service_name)
                .build(),
        )
        .with_batch_exporter(exporter)
        .build()
}

/// The W3C `traceparent` (and `tracestate`, when any) of the current span; empty outside a trace.
pub fn current_trace_headers() -> HashMap<String, String> {
    let mut headers = HashMap::new();
    TraceContextPropagator::new().inject_context(&tracing::Span::current().context(), &mut headers);
    headers
}

/// Makes `span` a child of the trace carried in `headers` (`traceparent`, `tracestate`).
/// Headers without a valid trace context leave the span where it is.
pub fn continue_trace<'a>(span: &tracing::Span, headers: impl IntoIterator<Item = (&'a str, &'a str)>) {
    let headers: HashMap<String, String> = headers
        .into_iter()
        .map(|(key, value)| (key.to_ascii_lowercase(), value.to_owned()))
        .collect();
    let parent = TraceContextPropagator::new().extract(&headers);
    let _ = span.set_parent(parent);
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TraceContextExt;
    use opentelemetry_sdk::trace::InMemorySpanExporter;
    use tracing::info_span;

    use super::*;

    #[test]
    fn trace_context_crosses_a_header_map() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let headers = info_span!("append").in_scope(current_trace_headers);
            let traceparent = headers.get("traceparent").expect("a traceparent inside a span");

            let consume = info_span!("consume");
            continue_trace(&consume, headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let consumed_trace = consume.context().span().span_context().trace_id();
            assert!(traceparent.contains(&consumed_trace.to_string()));
        });
        assert!(current_trace_headers().is_empty(), "no trace outside a span");
    }
}
