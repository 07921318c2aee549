use std::sync::LazyLock;

use prometheus::{HistogramOpts, HistogramVec, register_histogram_vec};

/// Requests by route (the owning service and resource, never the raw path) and status.
pub static REQUESTS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        HistogramOpts::new(
            "trustsafe_gateway_request_duration_seconds",
            "Gateway requests by route and status"
        )
        .buckets(vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0
        ]),
        &["route", "status"]
    )
    .unwrap()
});
