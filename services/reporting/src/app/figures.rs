//! The figures of some schools over a period, as one audience may see them.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;
use trustsafe_problem::Problem;
use trustsafe_servicekit::Tenancy;

use super::unavailable;
use crate::domain::audience::Audience;
use crate::domain::periods::Days;
use crate::domain::suppression::{self, Detail, Shown};
use crate::store;

/// Figures as shown to their audience: per school (id, name) and in total.
pub struct Report {
    pub period: Days,
    pub generated_at: DateTime<Utc>,
    pub detail: Detail,
    pub schools: Vec<(String, String, Shown)>,
    pub total: Shown,
}

/// The figures of `schools` over `period` (whole days), of the concerns `audience` may count, shown
/// as `detail` allows.
pub async fn report(
    pool: &PgPool,
    tenancy: &Tenancy,
    schools: Vec<String>,
    period: Days,
    (audience, detail): (&Audience, Detail),
) -> Result<Report, Problem> {
    let now = Utc::now();
    let months = (period.0, period.1 + Duration::days(1));
    let dashboard = store::figures::dashboard(pool, &schools, months, now, audience)
        .await
        .map_err(unavailable)?;
    let (mut shown, total) = suppression::show(&dashboard.schools, &dashboard.total, detail);
    let schools = schools
        .into_iter()
        .map(|school_id| {
            let name = tenancy
                .school(&school_id)
                .map(|(_, school)| school.name.clone())
                .unwrap_or_default();
            let figures = shown.remove(&school_id).expect("every school asked for is shown");
            (school_id, name, figures)
        })
        .collect();
    Ok(Report {
        period,
        generated_at: now,
        detail,
        schools,
        total,
    })
}
