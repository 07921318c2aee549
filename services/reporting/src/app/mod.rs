//! Reporting's core: the read model's projection, and the figures and case list read from it by
//! the rules in `domain`. Handlers in `api` call these and write the answer.

pub mod acceptable_use;
pub mod breaches;
pub mod cases;
pub mod figures;
pub mod projection;

use trustsafe_problem::{Kind, Problem};

fn unavailable(err: sqlx::Error) -> Problem {
    tracing::error!(%err, "reporting store");
    Problem::new(
        Kind::Unavailable,
        "The reporting store is unavailable; try again shortly.",
    )
}
