//! The application core: load, authorise through the domain's rules, decide, append, answer a view.
//! It knows nothing of HTTP.

pub mod clock;
pub mod concerns;
pub mod demo;
pub mod error;
pub mod reactions;
pub mod roster;

use trustsafe_servicekit::SchoolScope;
use trustsafe_servicekit::scope::policy::AnyRole;

/// Who reaches the concern endpoints at all: a person with a role at the school or in its trust (an
/// integration has no concerns to read). What they may see and do is the domain's to decide.
pub type Scope = SchoolScope<AnyRole>;
