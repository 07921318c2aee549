use std::sync::Arc;

use trustsafe_events::audit::RecordRead;
use trustsafe_eventstore::{AppendError, ExpectedVersion, StreamEvent};

use crate::support::{TestEnv, context, record_read};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_appends_at_one_version_one_wins() {
    let env = TestEnv::start().await;
    let ctx = context("raps");
    env.store
        .append("audit-raps", ExpectedVersion::NoStream, &ctx, &[record_read(0)])
        .await
        .unwrap();

    let store = Arc::new(env.store.clone());
    let attempts = (0..50).map(|n| {
        let (store, ctx) = (store.clone(), ctx.clone());
        tokio::spawn(async move {
            store
                .append(
                    "audit-raps",
                    ExpectedVersion::Exactly(1),
                    &ctx,
                    &[record_read(n), record_read(n + 100)],
                )
                .await
        })
    });
    let results: Vec<_> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();

    let won = results.iter().filter(|result| result.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|result| matches!(result, Err(AppendError::Conflict { actual: 3, .. })))
        .count();
    assert_eq!((won, conflicts), (1, 49), "{results:?}");
    let versions: Vec<i64> = env
        .store
        .load("audit-raps")
        .await
        .unwrap()
        .iter()
        .map(|e| e.stream_version)
        .collect();
    assert_eq!(versions, vec![1, 2, 3], "no gap, no extra");
    assert_eq!(env.outbox_len().await, 3, "one outbox row per stored event");
}

#[tokio::test]
async fn a_retried_append_writes_nothing_new_and_answers_the_same() {
    let env = TestEnv::start().await;
    let ctx = context("raps");
    let events = vec![record_read(1), record_read(2), record_read(3)];
    let first = env
        .store
        .append("audit-raps", ExpectedVersion::NoStream, &ctx, &events)
        .await
        .unwrap();
    // The caller lost the answer and retries with the same ids and the same expectation.
    let again = env
        .store
        .append("audit-raps", ExpectedVersion::NoStream, &ctx, &events)
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!((first.first_version, first.last_version), (1, 3));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(stored, 3, "0 duplicates");
    assert_eq!(env.outbox_len().await, 3);

    // Reusing some of the ids in a different append is refused, and changes nothing.
    let mixed = vec![events[0].clone(), record_read(4)];
    let refused = env
        .store
        .append("audit-raps", ExpectedVersion::Exactly(3), &ctx, &mixed)
        .await;
    assert!(
        matches!(refused, Err(AppendError::EventIdReused { .. })),
        "{refused:?}"
    );
    let elsewhere = env
        .store
        .append("audit-chilton", ExpectedVersion::NoStream, &ctx, &events)
        .await;
    assert!(
        matches!(elsewhere, Err(AppendError::EventIdReused { .. })),
        "{elsewhere:?}"
    );
    assert_eq!(env.store.version("audit-raps").await.unwrap(), 3);
    assert_eq!(env.store.version("audit-chilton").await.unwrap(), 0);
}

#[tokio::test]
async fn expectations_are_enforced_and_loads_return_what_was_appended() {
    let env = TestEnv::start().await;
    let ctx = context("chilton");
    let created = env
        .store
        .append(
            "audit-chilton",
            ExpectedVersion::NoStream,
            &ctx,
            &[record_read(1)],
        )
        .await;
    assert!(created.is_ok());
    let again = env
        .store
        .append(
            "audit-chilton",
            ExpectedVersion::NoStream,
            &ctx,
            &[record_read(2)],
        )
        .await;
    assert!(
        matches!(again, Err(AppendError::Conflict { actual: 1, .. })),
        "{again:?}"
    );
    let stale = env
        .store
        .append(
            "audit-chilton",
            ExpectedVersion::Exactly(0),
            &ctx,
            &[record_read(3)],
        )
        .await;
    assert!(matches!(stale, Err(AppendError::Conflict { .. })));
    let empty = env
        .store
        .append("audit-chilton", ExpectedVersion::Any, &ctx, &[])
        .await;
    assert!(matches!(empty, Err(AppendError::Empty)));
    env.store
        .append("audit-chilton", ExpectedVersion::Any, &ctx, &[record_read(4)])
        .await
        .unwrap();

    let loaded = env.store.load("audit-chilton").await.unwrap();
    assert_eq!(loaded.len(), 2);
    let first = &loaded[0];
    assert_eq!((first.stream_version, first.trust_id.as_str()), (1, "viking"));
    assert_eq!(first.school_id.as_deref(), Some("chilton"));
    assert_eq!(first.actor, ctx.actor);
    assert_eq!(first.correlation_id, ctx.correlation_id);
    assert_eq!(first.source, "/trustsafe/test");
    assert_eq!(first.decode::<RecordRead>().unwrap().record_id, "case-1");
    assert!(env.store.load("no-such-stream").await.unwrap().is_empty());
}

/// Two people reading one record at once each append an audit at any version, in their own
/// transactions, which hold the stream's next version until they commit: every append lands, in
/// versions 1 to n, and none is refused as a conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_at_any_version_all_land_inside_their_transactions() {
    let env = TestEnv::start().await;
    let ctx = context("raps");
    let store = Arc::new(env.store.clone());
    let readers = (0..20).map(|n| {
        let (store, ctx) = (store.clone(), ctx.clone());
        tokio::spawn(async move {
            let mut tx = store.pool().begin().await.unwrap();
            let appended = store
                .append_in(
                    &mut tx,
                    "audit-case",
                    ExpectedVersion::Any,
                    &ctx,
                    &[record_read(n)],
                )
                .await;
            // Held open a moment, as a request's transaction is while it writes its answer.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            tx.commit().await.unwrap();
            appended
        })
    });
    for appended in futures::future::join_all(readers).await {
        let appended = appended.unwrap();
        assert!(appended.is_ok(), "{appended:?}");
    }
    let versions: Vec<i64> = env
        .store
        .load("audit-case")
        .await
        .unwrap()
        .iter()
        .map(|event| event.stream_version)
        .collect();
    assert_eq!(versions, (1..=20).collect::<Vec<_>>());
}

/// Many streams, one event each, in one statement: all land with their outbox rows, or, when one
/// stream has moved since it was read, none does.
#[tokio::test]
async fn an_append_to_many_streams_lands_whole_or_not_at_all() {
    let env = TestEnv::start().await;
    let ctx = context("raps");
    env.store
        .append("person-2", ExpectedVersion::NoStream, &ctx, &[record_read(0)])
        .await
        .unwrap();
    let each = |expected_of_second: i64, n: usize| {
        vec![
            StreamEvent {
                stream_id: "person-1".into(),
                expected: 0,
                event: record_read(n),
            },
            StreamEvent {
                stream_id: "person-2".into(),
                expected: expected_of_second,
                event: record_read(n + 1),
            },
        ]
    };
    let mut tx = env.store.pool().begin().await.unwrap();
    let moved = env.store.append_each(&mut tx, &ctx, &each(0, 10)).await;
    assert!(
        matches!(&moved, Err(AppendError::Conflict { stream_id, .. }) if stream_id == "person-2"),
        "{moved:?}"
    );
    drop(tx);
    assert_eq!(
        env.store.version("person-1").await.unwrap(),
        0,
        "nothing of a refused append"
    );
    assert_eq!(env.outbox_len().await, 1);

    let mut tx = env.store.pool().begin().await.unwrap();
    env.store.append_each(&mut tx, &ctx, &each(1, 20)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(env.store.version("person-1").await.unwrap(), 1);
    assert_eq!(env.store.version("person-2").await.unwrap(), 2);
    assert_eq!(env.outbox_len().await, 3, "one outbox row per stored event");
}
