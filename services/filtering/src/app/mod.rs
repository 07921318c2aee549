//! The application core: load, authorise through the domain's rules, decide, append, answer a view;
//! and the consumer that learns the roster. It knows nothing of HTTP.

pub mod breaches;
pub mod categories;
pub mod changes;
pub mod demo;
pub mod demo_history;
pub mod duties;
pub mod error;
pub mod ingest;
pub mod roster;

use trustsafe_events::Actor;
use trustsafe_eventstore::AppendContext;
use trustsafe_servicekit::{PseudonymKey, Purpose, SchoolScope};

/// Who is acting in `scope`, for the events they cause: the log names them by a keyed hash within the trust.
fn acting<P>(pseudonyms: &PseudonymKey, scope: &SchoolScope<P>, role: &str) -> AppendContext {
    let caller = &scope.caller;
    let pseudonym = pseudonyms.pseudonym(Purpose::Actor, &scope.trust_id, caller.subject.as_bytes());
    AppendContext {
        trust_id: scope.trust_id.clone(),
        school_id: Some(scope.school_id.clone()),
        actor: Actor::person(caller.subject.clone(), role).with_pseudonym(pseudonym),
        correlation_id: uuid::Uuid::now_v7(),
        causation_id: None,
    }
}
