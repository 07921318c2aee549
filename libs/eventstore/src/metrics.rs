//! Prometheus metrics of the relay and the consumers, in the default registry that `/metrics` serves.

use std::sync::LazyLock;

use prometheus::{
    IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, register_int_counter, register_int_counter_vec,
    register_int_gauge, register_int_gauge_vec,
};

pub static RELAY_PUBLISHED: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "trustsafe_relay_published_total",
        "Outbox events the broker acknowledged"
    )
    .unwrap()
});
pub static RELAY_FAILURES: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "trustsafe_relay_failures_total",
        "Outbox events the broker did not acknowledge (retried)"
    )
    .unwrap()
});
pub static OUTBOX_PENDING: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "trustsafe_outbox_pending",
        "Events in the outbox not yet acknowledged by the broker"
    )
    .unwrap()
});
pub static OUTBOX_HELD_STREAMS: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "trustsafe_outbox_held_streams",
        "Streams the relay holds back because the broker refuses one of their events for good (see outbox_held)"
    )
    .unwrap()
});
pub static CONSUMER_LAG: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        Opts::new(
            "trustsafe_consumer_lag",
            "Records on the log a consumer has yet to read, by consumer, topic and partition (librdkafka's figure)"
        ),
        &["consumer", "topic", "partition"]
    )
    .unwrap()
});
pub static CONSUMED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        Opts::new(
            "trustsafe_consumer_events_total",
            "Events consumed, by consumer and outcome"
        ),
        &["consumer", "outcome"]
    )
    .unwrap()
});
