//! The platform's services, in the order they start and take ports after the gateway's: the one list
//! `trustsafe dev`, `trustsafe serve` and `trustsafe replay` read. Each service declares itself in its
//! own crate (`SERVICE`); this names which there are.

use trustsafe_servicekit::Service;

pub static ALL: [&Service; 4] = [
    &trustsafe_incident::SERVICE,
    &trustsafe_filtering::SERVICE,
    &trustsafe_aup::SERVICE,
    &trustsafe_reporting::SERVICE,
];

pub fn named(name: &str) -> Option<&'static Service> {
    ALL.into_iter().find(|service| service.name == name)
}

/// The services' names, for messages: "incident, filtering, aup or reporting".
pub fn names() -> String {
    let names: Vec<&str> = ALL.iter().map(|service| service.name).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}
