//! When a live consumer holding nothing decides its group is stranded: given what it has seen of
//! the group, when it looks again, then stranded or not. The rule is pure; the crash matrix
//! (`trustsafe bench faults`) is where a real stranded group is met.

use std::time::{Duration, Instant};

use trustsafe_eventstore::stranded::{GroupProgress, PartitionProgress, STRANDED_AFTER, StrandedWatch};

/// The group's partitions 0, 1, … of one topic as (committed, end).
fn group(partitions: &[(i64, i64)]) -> GroupProgress {
    (0..)
        .zip(partitions)
        .map(|(number, &(committed, end))| {
            (
                ("incident".to_owned(), number),
                PartitionProgress { committed, end },
            )
        })
        .collect()
}

/// A watch that first saw `first` at `start`.
fn given(start: Instant, first: &[(i64, i64)]) -> StrandedWatch {
    let mut watch = StrandedWatch::default();
    assert!(
        !watch.seen(start, &group(first)),
        "never stranded at the first look"
    );
    watch
}

const JUST_SHORT: Duration = STRANDED_AFTER.saturating_sub(Duration::from_millis(1));

#[test]
fn a_group_standing_still_short_of_its_ends_is_stranded_once_the_wait_is_over() {
    let start = Instant::now();
    let mut watch = given(start, &[(48, 64), (34, 64), (56, 84)]);
    assert!(!watch.seen(start + JUST_SHORT, &group(&[(48, 64), (34, 64), (56, 84)])));
    assert!(watch.seen(start + STRANDED_AFTER, &group(&[(48, 64), (34, 64), (56, 84)])));
}

#[test]
fn ends_moving_on_under_load_do_not_hide_a_stranded_group() {
    let start = Instant::now();
    let mut watch = given(start, &[(48, 64), (34, 64)]);
    assert!(watch.seen(start + STRANDED_AFTER, &group(&[(48, 90), (34, 71)])));
}

#[test]
fn a_coordinator_answering_one_time_and_not_the_next_does_not_hide_a_stranded_group() {
    let start = Instant::now();
    let mut watch = given(start, &[(48, 64), (-1, 64)]);
    assert!(!watch.seen(start + Duration::from_secs(10), &group(&[(-1, 64), (34, 64)])));
    assert!(watch.seen(start + STRANDED_AFTER, &group(&[(48, 64), (34, 64)])));
}

#[test]
fn a_coordinator_that_never_answers_counts_as_standing_still() {
    let start = Instant::now();
    let mut watch = given(start, &[(-1, 64)]);
    assert!(watch.seen(start + STRANDED_AFTER, &group(&[(-1, 64)])));
}

#[test]
fn any_committed_offset_moving_on_starts_the_wait_again() {
    let start = Instant::now();
    let mut watch = given(start, &[(48, 64), (34, 64)]);
    let moved = start + Duration::from_secs(20);
    assert!(!watch.seen(moved, &group(&[(48, 64), (35, 64)])));
    assert!(!watch.seen(start + STRANDED_AFTER, &group(&[(48, 64), (35, 64)])));
    assert!(!watch.seen(moved + JUST_SHORT, &group(&[(48, 64), (35, 64)])));
    assert!(watch.seen(moved + STRANDED_AFTER, &group(&[(48, 64), (35, 64)])));
}

#[test]
fn a_member_of_a_group_that_is_caught_up_is_not_stranded_however_long_it_holds_nothing() {
    let start = Instant::now();
    let mut watch = given(start, &[(64, 64), (84, 84)]);
    assert!(!watch.seen(start + STRANDED_AFTER * 10, &group(&[(64, 64), (84, 84)])));
}

#[test]
fn holding_partitions_forgets_what_was_seen() {
    let start = Instant::now();
    let mut watch = given(start, &[(48, 64)]);
    watch.holds();
    let again = start + Duration::from_secs(20);
    assert!(!watch.seen(again, &group(&[(48, 64)])), "a first look again");
    assert!(!watch.seen(start + STRANDED_AFTER, &group(&[(48, 64)])));
    assert!(watch.seen(again + STRANDED_AFTER, &group(&[(48, 64)])));
}

#[test]
fn the_group_is_asked_for_its_progress_first_and_then_once_the_wait_is_over() {
    let start = Instant::now();
    let mut watch = StrandedWatch::default();
    assert!(watch.wants_progress(start));
    watch.seen(start, &group(&[(48, 64)]));
    assert!(!watch.wants_progress(start + JUST_SHORT));
    assert!(watch.wants_progress(start + STRANDED_AFTER));
    watch.holds();
    assert!(watch.wants_progress(start + Duration::from_secs(1)));
}

#[test]
fn a_partition_added_to_the_topics_starts_the_wait_again() {
    let start = Instant::now();
    let mut watch = given(start, &[(48, 64)]);
    assert!(!watch.seen(start + STRANDED_AFTER, &group(&[(48, 64), (0, 10)])));
    assert!(watch.seen(start + STRANDED_AFTER * 2, &group(&[(48, 64), (0, 10)])));
}
