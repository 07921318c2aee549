//! How figures are shown to whom. The trust's safeguarding lead and a school's leads see exact
//! counts. Governors never see a count from 1 to 4 ("<5"), nor anything from which one could be
//! worked out: a total beside a suppressed part, another breakdown of the same records beside a
//! suppressed one, or a median of fewer than five cases ("withheld"). With whole terms only (no
//! overlapping periods to subtract, `periods`), what a governor sees cannot be added up or taken
//! apart into a small count. The rules are written here once; `concerns`, `breaches` and
//! `acceptable_use` apply them to their figures.

mod acceptable_use;
mod breaches;
mod concerns;

use std::collections::BTreeMap;

pub use acceptable_use::ShownAcceptableUse;
pub use breaches::ShownBreaches;
pub use concerns::{AGE_BANDS, Figures, Shown};

/// A count as shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    Exact(i64),
    /// 1 to 4, shown to governors as `"<5"`.
    Small,
    /// Would let a suppressed count be worked out: shown as `"withheld"`.
    Withheld,
}

impl Count {
    fn hidden(self) -> bool {
        !matches!(self, Count::Exact(_))
    }
}

/// Whether small counts are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    Exact,
    /// Governors: no small count, and nothing that gives one away.
    SmallCountsSuppressed,
}

/// Figures that are shown exactly, or to governors suppressed.
pub trait Suppressible {
    type Shown;

    fn exactly(&self) -> Self::Shown;

    /// One school's figures, as governors see them.
    fn for_governors(&self) -> Self::Shown;

    /// The trust's total, as governors see it beside each school's as shown.
    fn total_for_governors(&self, schools: &BTreeMap<String, Self::Shown>) -> Self::Shown;
}

/// Every school's figures and the total, as `detail` allows.
pub fn show<F: Suppressible>(
    schools: &BTreeMap<String, F>,
    total: &F,
    detail: Detail,
) -> (BTreeMap<String, F::Shown>, F::Shown) {
    let each = |show: fn(&F) -> F::Shown| {
        schools
            .iter()
            .map(|(id, figures)| (id.clone(), show(figures)))
            .collect::<BTreeMap<_, _>>()
    };
    match detail {
        Detail::Exact => (each(F::exactly), total.exactly()),
        Detail::SmallCountsSuppressed => {
            let shown = each(F::for_governors);
            let total = total.total_for_governors(&shown);
            (shown, total)
        }
    }
}

/// No statistic is shown of fewer cases than this, nor any count from 1 to one below it.
pub const THRESHOLD: i64 = 5;

/// A count on its own: 1 to 4 is small.
fn suppressed(n: i64) -> Count {
    if (1..THRESHOLD).contains(&n) {
        Count::Small
    } else {
        Count::Exact(n)
    }
}

/// Each count of a breakdown as it is.
fn exactly(counts: &BTreeMap<String, i64>) -> BTreeMap<String, Count> {
    counts
        .iter()
        .map(|(key, n)| (key.clone(), Count::Exact(*n)))
        .collect()
}

/// Each count of a breakdown suppressed on its own.
fn each_suppressed(counts: &BTreeMap<String, i64>) -> BTreeMap<String, Count> {
    counts
        .iter()
        .map(|(key, n)| (key.clone(), suppressed(*n)))
        .collect()
}

/// A breakdown of the trust's total: a key is withheld when any school's part of it is not shown
/// exactly (the total less the other schools' parts would give it away), else suppressed on its own.
fn total_breakdown<'a>(
    total: &BTreeMap<String, i64>,
    parts: impl Iterator<Item = &'a BTreeMap<String, Count>> + Clone,
) -> BTreeMap<String, Count> {
    total
        .iter()
        .map(|(key, n)| {
            let hidden_part = parts
                .clone()
                .any(|part| part.get(key).is_some_and(|count| count.hidden()));
            let count = if hidden_part {
                Count::Withheld
            } else {
                suppressed(*n)
            };
            (key.clone(), count)
        })
        .collect()
}

/// One count of the trust's: withheld when any school's part of it is not shown exactly.
fn total_count(n: i64, mut parts: impl Iterator<Item = Count>) -> Count {
    if parts.any(Count::hidden) {
        Count::Withheld
    } else {
        suppressed(n)
    }
}

/// `second` breaks down the same records as `first`: when either hides a count, `second` is
/// withheld whole (the exact sum of one would give the other's hidden count away); `first` keeps
/// its own suppression.
fn withhold_second_breakdown(first: &BTreeMap<String, Count>, second: &mut BTreeMap<String, Count>) {
    let hidden = |counts: &BTreeMap<String, Count>| counts.values().any(|count| count.hidden());
    if hidden(first) || hidden(second) {
        for count in second.values_mut() {
            *count = Count::Withheld;
        }
    }
}

/// `whole` is the sum of `parts`: when a part is hidden, an exact whole is withheld (the whole less
/// the shown parts would give it away).
fn withhold_whole_of(whole: &mut Count, parts: &[Count]) {
    if !whole.hidden() && parts.iter().any(|part| part.hidden()) {
        *whole = Count::Withheld;
    }
}
