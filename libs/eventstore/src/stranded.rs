//! How a live consumer notices that its group is stranded: nobody consuming its partitions.
//!
//! tansu 0.6's coordinator, restarted in the middle of a rebalance (`bench faults`: reporting
//! killed, then the broker), can hand the live member an empty assignment and heartbeat it happily
//! for ever, the partitions with a member that was gone. Holding nothing is normal for a member of a
//! group with more members than partitions, so the member leaves (and the supervisor starts it
//! again, which forms the group afresh) only when, over [`STRANDED_AFTER`], it held nothing and no
//! partition's committed offset moved on while one stood short of its partition's end.
//!
//! Partitions are compared by topic and number, and only a committed offset moving on counts as
//! progress: the partitions' ends move while the load goes on, and a busy coordinator may leave an
//! offset unsaid one look and say it the next.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How often a live consumer looks, and how long nothing must have moved.
pub const STRANDED_LOOK: Duration = Duration::from_secs(5);
pub const STRANDED_AFTER: Duration = Duration::from_secs(30);

/// One partition as the group stands: its committed offset (0 when the group has committed none,
/// -1 when the coordinator did not say) and the partition's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionProgress {
    pub committed: i64,
    pub end: i64,
}

/// A partition by topic and number.
pub type PartitionKey = (String, i32);

/// Each of the group's partitions.
pub type GroupProgress = BTreeMap<PartitionKey, PartitionProgress>;

/// The highest committed offset seen for each partition.
type Highest = BTreeMap<PartitionKey, i64>;

/// What one member has seen of its group while it held nothing.
#[derive(Debug, Default)]
pub struct StrandedWatch {
    /// Since when nothing has moved, and the highest committed offset seen for each partition.
    still_since: Option<(Instant, Highest)>,
}

impl StrandedWatch {
    /// The member holds partitions: whatever it saw before no longer counts.
    pub fn holds(&mut self) {
        self.still_since = None;
    }

    /// Whether the group's progress is worth asking for at `now` (asking is a round of requests to
    /// the broker): first, and then once the group has stood still long enough to judge.
    pub fn wants_progress(&self, now: Instant) -> bool {
        self.still_since
            .as_ref()
            .is_none_or(|(since, _)| now.duration_since(*since) >= STRANDED_AFTER)
    }

    /// Given the group's progress at `now` while this member holds nothing: whether it is stranded.
    pub fn seen(&mut self, now: Instant, progress: &GroupProgress) -> bool {
        match &mut self.still_since {
            Some((since, highest)) if highest.keys().eq(progress.keys()) => {
                // Same keys, so the two maps' values pair up in order. An offset first said after
                // the coordinator was silent has not moved on.
                let mut moved_on = false;
                for (highest, partition) in highest.values_mut().zip(progress.values()) {
                    moved_on |= *highest >= 0 && partition.committed > *highest;
                    *highest = (*highest).max(partition.committed);
                }
                if moved_on {
                    *since = now;
                    return false;
                }
                now.duration_since(*since) >= STRANDED_AFTER
                    && highest
                        .values()
                        .zip(progress.values())
                        .any(|(highest, partition)| *highest < partition.end)
            }
            // The first look, or the partitions changed: start from here.
            _ => {
                let committed = progress
                    .iter()
                    .map(|(key, partition)| (key.clone(), partition.committed))
                    .collect();
                self.still_since = Some((now, committed));
                false
            }
        }
    }
}
