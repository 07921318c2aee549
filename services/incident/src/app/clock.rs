//! The service's clock, to the microsecond: PostgreSQL keeps no finer, and a time read back from a
//! table must equal the one in the event it came from.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, SubsecRound, Utc};

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Where the core reads the time: the system clock, or one set by hand (the demo history is written
/// through the same core as live concerns, at times in the past).
#[derive(Clone, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    pub fn set_by_hand(at: DateTime<Utc>) -> Self {
        Self(Some(Arc::new(Mutex::new(at.trunc_subsecs(6)))))
    }

    /// Moves a hand-set clock; the system clock cannot be moved.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(time) = &self.0 {
            *time.lock().expect("the clock's lock is never poisoned") = at.trunc_subsecs(6);
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            Some(time) => *time.lock().expect("the clock's lock is never poisoned"),
            None => now(),
        }
    }
}
