//! A page of the trust's pseudonymised case list.

use chrono::Utc;
use sqlx::PgPool;
use trustsafe_problem::Problem;

use super::unavailable;
use crate::domain::cases::{age_days, cursor_of, detail_of};

/// One case as the list shows it: no names, no narrative, no id.
pub struct CaseSummary {
    pub pseudonym: String,
    pub school_id: String,
    pub category: String,
    pub status: String,
    pub age_days: i64,
    pub acknowledgement_overdue: bool,
    pub overdue_steps: i64,
    pub escalated: bool,
    pub detail: Option<String>,
}

/// Up to `limit` of the trust's cases (or of those with something overdue), newest first, after the
/// case whose pseudonym is `after`; and the cursor of the next page, if there is one.
pub async fn page(
    pool: &PgPool,
    trust_id: &str,
    after: Option<String>,
    overdue_only: bool,
    limit: u32,
) -> Result<(Vec<CaseSummary>, Option<String>), Problem> {
    let now = Utc::now();
    let mut rows =
        crate::store::figures::cases(pool, trust_id, after, overdue_only, i64::from(limit) + 1, now)
            .await
            .map_err(unavailable)?;
    let next_cursor = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        cursor_of(&rows.last().expect("a full page").pseudonym)
    });
    let cases = rows
        .into_iter()
        .map(|case| CaseSummary {
            detail: detail_of(case.escalated, &case.school_id, case.incident_id),
            age_days: age_days(case.reported_at, now),
            pseudonym: case.pseudonym,
            school_id: case.school_id,
            category: case.category,
            status: case.status,
            acknowledgement_overdue: case.acknowledgement_overdue,
            overdue_steps: case.overdue_steps,
            escalated: case.escalated,
        })
        .collect();
    Ok((cases, next_cursor))
}
