//! The service's clock, to the microsecond: PostgreSQL keeps no finer, and a time read back from a
//! table must equal the one in the event it came from.

use chrono::{DateTime, SubsecRound, Utc};

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
