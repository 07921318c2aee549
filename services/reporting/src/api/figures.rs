//! Figures as they are shown: exact, or with counts from 1 to 4 as "<5" for governors.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::{AGE_BANDS, Figures};

/// A count, or `"<5"` where a governor would otherwise see 1 to 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    Exact(i64),
    Suppressed,
}

impl Serialize for Count {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Count::Exact(n) => serializer.serialize_i64(*n),
            Count::Suppressed => serializer.serialize_str("<5"),
        }
    }
}

/// Whether small counts are shown.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Exact,
    /// Governors: 1 to 4 is "<5", so no child can be singled out.
    SmallCountsSuppressed,
}

impl Detail {
    pub fn count(self, n: i64) -> Count {
        match self {
            Detail::SmallCountsSuppressed if (1..5).contains(&n) => Count::Suppressed,
            _ => Count::Exact(n),
        }
    }

    pub fn counts(self, counts: &BTreeMap<String, i64>) -> BTreeMap<String, Count> {
        counts
            .iter()
            .map(|(key, n)| (key.clone(), self.count(*n)))
            .collect()
    }
}

#[derive(Serialize, ToSchema)]
pub struct FiguresView {
    /// Concerns reported in the period, by category.
    #[schema(value_type = BTreeMap<String, Object>)]
    pub concerns_by_category: BTreeMap<String, Count>,
    /// Concerns reported, by month (YYYY-MM, UTC).
    #[schema(value_type = BTreeMap<String, Object>)]
    pub opened_by_month: BTreeMap<String, Count>,
    /// Concerns closed, by month.
    #[schema(value_type = BTreeMap<String, Object>)]
    pub closed_by_month: BTreeMap<String, Count>,
    /// Open concerns now, by days since reported: 0_7_days, 8_30_days, 31_90_days, over_90_days.
    #[schema(value_type = BTreeMap<String, Object>)]
    pub open_by_age: BTreeMap<String, Count>,
    /// Concerns not acknowledged by their deadline, now.
    #[schema(value_type = Object)]
    pub overdue_acknowledgements: Count,
    /// Required steps past their deadline on open concerns, now.
    #[schema(value_type = Object)]
    pub overdue_steps: Count,
    /// Of the concerns reported in the period and acknowledged; none if none were.
    pub median_minutes_to_acknowledge: Option<f64>,
}

impl FiguresView {
    pub fn new(figures: &Figures, detail: Detail) -> Self {
        let mut open_by_age = detail.counts(&figures.open_by_age);
        for band in AGE_BANDS {
            open_by_age.entry(band.to_owned()).or_insert(Count::Exact(0));
        }
        Self {
            concerns_by_category: detail.counts(&figures.concerns_by_category),
            opened_by_month: detail.counts(&figures.opened_by_month),
            closed_by_month: detail.counts(&figures.closed_by_month),
            open_by_age,
            overdue_acknowledgements: detail.count(figures.overdue_acknowledgements),
            overdue_steps: detail.count(figures.overdue_steps),
            median_minutes_to_acknowledge: figures.median_minutes_to_acknowledge,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SchoolFigures {
    pub school_id: String,
    pub name: String,
    pub figures: FiguresView,
}

#[derive(Serialize, ToSchema)]
pub struct DashboardView {
    pub from: NaiveDate,
    /// Inclusive.
    pub to: NaiveDate,
    pub generated_at: DateTime<Utc>,
    /// True for governors: counts from 1 to 4 read "<5".
    pub small_counts_suppressed: bool,
    pub schools: Vec<SchoolFigures>,
    pub total: FiguresView,
}
