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

use trustsafe_auth::Caller;
use trustsafe_events::Actor;
use trustsafe_eventstore::AppendContext;
use trustsafe_servicekit::{PseudonymKey, Purpose};

/// Who is acting, for the events they cause: the log names them by a keyed hash within the trust.
fn acting(
    pseudonyms: &PseudonymKey,
    caller: &Caller,
    trust_id: &str,
    school_id: &str,
    role: &str,
) -> AppendContext {
    let pseudonym = pseudonyms.pseudonym(Purpose::Actor, trust_id, caller.subject.as_bytes());
    AppendContext {
        trust_id: trust_id.to_owned(),
        school_id: Some(school_id.to_owned()),
        actor: Actor::person(caller.subject.clone(), role).with_pseudonym(pseudonym),
        correlation_id: uuid::Uuid::now_v7(),
        causation_id: None,
    }
}
