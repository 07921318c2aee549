//! Figures as the API writes them (`domain::suppression` decides what is shown).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::figures::Report;
use crate::domain::suppression::{AGE_BANDS, Count, Detail, Shown};

/// A count as the API writes it: a number, `"<5"` (1 to 4, for governors) or `"withheld"` (it would
/// give a suppressed count away).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountView(pub Count);

impl Serialize for CountView {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Count::Exact(n) => serializer.serialize_i64(n),
            Count::Small => serializer.serialize_str("<5"),
            Count::Withheld => serializer.serialize_str("withheld"),
        }
    }
}

impl utoipa::PartialSchema for CountView {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["<5", "withheld"])),
            )
            .description(Some(
                "A count; for governors \"<5\" for 1 to 4, or \"withheld\" where it would give one away",
            ))
            .into()
    }
}

impl ToSchema for CountView {}

pub fn views(counts: &BTreeMap<String, Count>) -> BTreeMap<String, CountView> {
    counts
        .iter()
        .map(|(key, count)| (key.clone(), CountView(*count)))
        .collect()
}

#[derive(Serialize, ToSchema)]
pub struct FiguresView {
    /// Concerns reported in the period, by category.
    pub concerns_by_category: BTreeMap<String, CountView>,
    /// Concerns reported, by month (YYYY-MM, UTC).
    pub opened_by_month: BTreeMap<String, CountView>,
    /// Concerns closed, by month.
    pub closed_by_month: BTreeMap<String, CountView>,
    /// Open concerns now, by days since reported: 0_7_days, 8_30_days, 31_90_days, over_90_days.
    pub open_by_age: BTreeMap<String, CountView>,
    /// Concerns not acknowledged by their deadline, now.
    pub overdue_acknowledgements: CountView,
    /// Required steps past their deadline on open concerns, now.
    pub overdue_steps: CountView,
    /// Of the concerns reported in the period and acknowledged; none if none were (for governors,
    /// none if fewer than five were).
    pub median_minutes_to_acknowledge: Option<f64>,
}

impl FiguresView {
    pub fn new(shown: &Shown) -> Self {
        let mut open_by_age = views(&shown.open_by_age);
        for band in AGE_BANDS {
            open_by_age
                .entry(band.to_owned())
                .or_insert(CountView(Count::Exact(0)));
        }
        Self {
            concerns_by_category: views(&shown.concerns_by_category),
            opened_by_month: views(&shown.opened_by_month),
            closed_by_month: views(&shown.closed_by_month),
            open_by_age,
            overdue_acknowledgements: CountView(shown.overdue_acknowledgements),
            overdue_steps: CountView(shown.overdue_steps),
            median_minutes_to_acknowledge: shown.median_minutes_to_acknowledge,
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
    /// True for governors: counts from 1 to 4 read "<5", and what would give one away "withheld".
    pub small_counts_suppressed: bool,
    pub schools: Vec<SchoolFigures>,
    pub total: FiguresView,
}

impl From<Report> for DashboardView {
    fn from(report: Report) -> Self {
        Self {
            from: report.period.0,
            to: report.period.1,
            generated_at: report.generated_at,
            small_counts_suppressed: report.detail == Detail::SmallCountsSuppressed,
            schools: report
                .schools
                .into_iter()
                .map(|(school_id, name, shown)| SchoolFigures {
                    school_id,
                    name,
                    figures: FiguresView::new(&shown),
                })
                .collect(),
            total: FiguresView::new(&report.total),
        }
    }
}
