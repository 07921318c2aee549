use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use trustsafe_eventstore::{ExpectedVersion, Relay, RelayConfig};

use crate::consumer::{Effects, create_effects_table, run_consumer, wait_for_effects};
use crate::support::{TestEnv, context, record_read};

/// The span that appended an event and the span that consumed it belong to one trace, carried by the
/// relay in the record's `traceparent` header.
#[tokio::test]
async fn the_consumer_continues_the_appenders_trace() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("eventstore-test")));
    // A current-thread runtime: every task of this test runs on this thread, under this subscriber.
    let _default = tracing::subscriber::set_default(subscriber);

    let env = TestEnv::start().await;
    create_effects_table(&env).await;
    let relay = Relay::new(env.store.clone(), env.log(), RelayConfig::default()).unwrap();
    let shutdown = CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move { relay.run(shutdown).await }
    });
    let run = run_consumer(&env, Arc::new(Effects::new("traced")));

    env.store
        .append(
            "audit-traced",
            ExpectedVersion::NoStream,
            &context("raps"),
            &[record_read(1)],
        )
        .instrument(tracing::info_span!("report concern"))
        .await
        .unwrap();
    wait_for_effects(&env, "traced", 1, Duration::from_secs(30)).await;
    run.stop().await;
    shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let spans = exporter.get_finished_spans().unwrap();
    let trace_of = |name: &str| {
        spans
            .iter()
            .find(|span| span.name == name)
            .unwrap_or_else(|| {
                panic!(
                    "no {name} span among {:?}",
                    spans.iter().map(|s| &s.name).collect::<Vec<_>>()
                )
            })
            .span_context
            .trace_id()
    };
    assert_eq!(trace_of("consume"), trace_of("report concern"));
}
