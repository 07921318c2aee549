//! Suppression: hosts and phrases a school's DSL has found only make noise. A blocked or flagged
//! request they cover is counted, not recorded as a breach. Illegal content is never covered, whatever
//! the rule says: the check is made on the normalised category, after the rules cannot reach it.

use trustsafe_events::filtering::Suppression;

use super::feeds::LogLine;

/// The most rules a school keeps.
pub const MAX_RULES: usize = 500;

/// Why a rule cannot be kept: (field, message).
pub type RuleFault = (&'static str, String);

/// A school's rules, ready to match.
#[derive(Clone, Debug, Default)]
pub struct Suppressions {
    hosts: Vec<String>,
    phrases: Vec<String>,
}

/// Whether `host` (lower-cased) is a host name with a dot in it: what a rule or a filtering change names.
pub fn is_host_name(host: &str) -> bool {
    host.len() <= 253
        && host.contains('.')
        && host
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'.' || byte == b'-')
        && !host.starts_with('.')
        && !host.ends_with('.')
}

/// Checks one rule: a host or a phrase (one of them), lower-cased, and a reason.
pub fn check(rule: &Suppression) -> Result<Suppression, RuleFault> {
    let clean = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_lowercase)
    };
    let (host, phrase) = (clean(&rule.host), clean(&rule.phrase));
    match (&host, &phrase) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(("host", "give a host or a phrase, not both".into()));
        }
        (Some(host), None) => {
            if !is_host_name(host) {
                return Err(("host", "is a host name such as ads.example".into()));
            }
        }
        (None, Some(phrase)) => {
            if !(3..=200).contains(&phrase.chars().count()) || phrase.contains('\0') {
                return Err(("phrase", "is 3 to 200 characters, without NUL".into()));
            }
        }
    }
    let reason = rule.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 || reason.contains('\0') {
        return Err(("reason", "is 1 to 500 characters, without NUL".into()));
    }
    Ok(Suppression {
        host,
        phrase,
        reason: reason.to_owned(),
    })
}

impl Suppressions {
    /// From rules that passed [`check`].
    pub fn new(rules: &[Suppression]) -> Self {
        Self {
            hosts: rules.iter().filter_map(|rule| rule.host.clone()).collect(),
            phrases: rules.iter().filter_map(|rule| rule.phrase.clone()).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.phrases.is_empty()
    }

    /// Whether a line that would be a breach is only noise. `illegal` lines never are.
    pub fn covers(&self, line: &LogLine<'_>, illegal: bool) -> bool {
        if illegal || self.is_empty() {
            return false;
        }
        let host = line.host.to_ascii_lowercase();
        let by_host = self.hosts.iter().any(|rule| {
            host == *rule
                || host
                    .strip_suffix(rule.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        });
        by_host || {
            let url = line.url.to_lowercase();
            let context = line.context.map(str::to_lowercase).unwrap_or_default();
            self.phrases
                .iter()
                .any(|phrase| url.contains(phrase) || context.contains(phrase))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::feeds::Action;

    fn rule(host: Option<&str>, phrase: Option<&str>) -> Suppression {
        Suppression {
            host: host.map(str::to_owned),
            phrase: phrase.map(str::to_owned),
            reason: "noise".into(),
        }
    }

    fn line<'a>(host: &'a str, url: &'a str) -> LogLine<'a> {
        LogLine {
            at: 0,
            user: None,
            client: None,
            host,
            url,
            action: Action::Blocked,
            vendor_category: None,
            vendor_severity: None,
            supporting: false,
            context: None,
        }
    }

    #[test]
    fn hosts_cover_their_subdomains_and_phrases_the_address() {
        let rules = [
            check(&rule(Some("Ads.Example"), None)).unwrap(),
            check(&rule(None, Some("Tracking"))).unwrap(),
        ];
        let suppressions = Suppressions::new(&rules);
        assert!(suppressions.covers(&line("ads.example", "/"), false));
        assert!(suppressions.covers(&line("x.ADS.example", "/"), false));
        assert!(!suppressions.covers(&line("badads.example", "/"), false));
        assert!(suppressions.covers(&line("cdn.example", "http://cdn.example/tracking.js"), false));
        assert!(!suppressions.covers(&line("cdn.example", "http://cdn.example/app.js"), false));
    }

    #[test]
    fn illegal_content_is_never_covered() {
        let suppressions = Suppressions::new(&[check(&rule(Some("bad.example"), None)).unwrap()]);
        assert!(!suppressions.covers(&line("bad.example", "/"), true));
    }

    #[test]
    fn rules_are_checked() {
        assert_eq!(check(&rule(None, None)).unwrap_err().0, "host");
        assert_eq!(
            check(&rule(Some("a.example"), Some("xyz"))).unwrap_err().0,
            "host"
        );
        assert_eq!(check(&rule(Some("*"), None)).unwrap_err().0, "host");
        assert_eq!(check(&rule(Some("example"), None)).unwrap_err().0, "host");
        assert_eq!(check(&rule(None, Some("ab"))).unwrap_err().0, "phrase");
        let mut unexplained = rule(Some("ads.example"), None);
        unexplained.reason = " ".into();
        assert_eq!(check(&unexplained).unwrap_err().0, "reason");
    }
}
