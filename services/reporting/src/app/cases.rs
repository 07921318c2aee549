//! A page of the trust's pseudonymised case list.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use trustsafe_problem::Problem;

use super::unavailable;
use crate::domain::cases::cursor_of;
use crate::store::figures::{Case, cases};

/// Up to `limit` of the trust's cases (or of those with something overdue), newest first, after the
/// case whose pseudonym is `after`; the cursor of the next page, if there is one; and the moment the
/// page stands at.
pub async fn page(
    pool: &PgPool,
    trust_id: &str,
    after: Option<String>,
    overdue_only: bool,
    limit: u32,
) -> Result<(Vec<Case>, Option<String>, DateTime<Utc>), Problem> {
    let now = Utc::now();
    let mut rows = cases(pool, trust_id, after, overdue_only, i64::from(limit) + 1, now)
        .await
        .map_err(unavailable)?;
    let next_cursor = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        cursor_of(&rows.last().expect("a full page").pseudonym)
    });
    Ok((rows, next_cursor, now))
}
