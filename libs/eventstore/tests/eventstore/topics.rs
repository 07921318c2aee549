//! The platform's topics as `ensure_topics` makes and checks them.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use trustsafe_events::topics;
use trustsafe_eventstore::kafka::{TopicSettings, ensure_topics};
use trustsafe_testkit::TestBroker;

const SETTINGS: TopicSettings = TopicSettings {
    partitions: 3,
    replication: None,
};

#[tokio::test]
async fn existing_topics_that_would_not_keep_the_history_safe_are_refused_with_the_reason() {
    let broker = TestBroker::start().await;
    let log = broker.log();
    ensure_topics(log, &topics::ALL, SETTINGS)
        .await
        .expect("the topics the test kit made pass the same checks");

    let more_copies = TopicSettings {
        replication: Some(2),
        ..SETTINGS
    };
    let refused = ensure_topics(log, &[topics::AUDIT], more_copies)
        .await
        .unwrap_err();
    assert!(
        refused.contains("has 1 replica(s); the platform needs 2"),
        "{refused}"
    );

    // A topic someone made by hand, keeping a week.
    let week = log.topic("trustsafe.kept-a-week.v1");
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &log.brokers)
        .create()
        .unwrap();
    let made = admin
        .create_topics(
            &[NewTopic::new(&week, 3, TopicReplication::Fixed(1)).set("retention.ms", "604800000")],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .unwrap();
    assert!(made.iter().all(Result::is_ok), "{made:?}");
    let refused = ensure_topics(log, &["trustsafe.kept-a-week.v1"], SETTINGS)
        .await
        .unwrap_err();
    assert!(refused.contains("retention.ms=604800000"), "{refused}");
}
