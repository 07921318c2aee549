//! Access that follows from agreements: systems granted, numbered devices lent, visitors' Wi-Fi
//! codes. Who may do each, and what a grant or a code is worth on a given day.

use chrono::{DateTime, Duration, Utc};
use trustsafe_auth::SchoolRole;

use super::people::Issue;

/// How long a visitor's Wi-Fi code works (Claremont 5.3).
pub const WIFI_CODE_HOURS: i64 = 24;

/// Who gives and takes away access to systems, and reads the record of it: the DSL, deputies, the
/// headteacher and the technician (RAPS 7.2: "a written record of users who are granted access").
pub fn may_grant(roles: impl IntoIterator<Item = SchoolRole>) -> bool {
    roles.into_iter().any(|role| {
        matches!(
            role,
            SchoolRole::Dsl | SchoolRole::DeputyDsl | SchoolRole::Headteacher | SchoolRole::Technician
        )
    })
}

/// Who lends devices and welcomes visitors: any member of staff (governors are not staff).
pub fn may_lend(roles: impl IntoIterator<Item = SchoolRole>) -> bool {
    roles.into_iter().any(|role| role != SchoolRole::Governor)
}

/// What a grant is worth now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantState {
    Active,
    /// The person's agreement is no longer current: the grant stands on record but gives nothing
    /// until they sign again.
    Lapsed,
    Revoked,
}

impl GrantState {
    pub fn of(revoked: bool, covered: bool) -> GrantState {
        match (revoked, covered) {
            (true, _) => GrantState::Revoked,
            (false, true) => GrantState::Active,
            (false, false) => GrantState::Lapsed,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            GrantState::Active => "active",
            GrantState::Lapsed => "lapsed",
            GrantState::Revoked => "revoked",
        }
    }
}

/// A short free-text label (a system's name, a device's number, a visitor's name): trimmed, 1 to
/// 100 characters, no NUL.
pub fn label(field: &str, text: &str) -> Result<String, Issue> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 100 || text.contains('\0') {
        return Err(Issue::new(field, "is required: 1 to 100 characters"));
    }
    Ok(text.to_owned())
}

/// Symbols of a Wi-Fi code: Crockford's base 32, no I, L, O or U, so it can be read aloud and typed.
const CODE_SYMBOLS: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A Wi-Fi code from 50 random bits: `7KQ2-M9XP-3T`. Unguessable within its 24 hours (a portal
/// checking a thousand codes a second would need centuries to find one).
pub fn wifi_code(random: u64) -> String {
    let symbols: String = (0..10)
        .map(|n| CODE_SYMBOLS[((random >> (5 * n)) & 31) as usize] as char)
        .collect();
    format!("{}-{}-{}", &symbols[..4], &symbols[4..8], &symbols[8..])
}

/// A code as a visitor types it: upper case, without spaces or dashes; None if it cannot be one.
pub fn typed_code(text: &str) -> Option<String> {
    let symbols: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (symbols.len() == 10 && symbols.bytes().all(|byte| CODE_SYMBOLS.contains(&byte)))
        .then(|| format!("{}-{}-{}", &symbols[..4], &symbols[4..8], &symbols[8..]))
}

/// When a code issued at `issued_at` stops working.
pub fn code_expires(issued_at: DateTime<Utc>) -> DateTime<Utc> {
    issued_at + Duration::hours(WIFI_CODE_HOURS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_are_the_leads_and_the_technicians_and_loans_any_staffs() {
        assert!(may_grant([SchoolRole::Technician]) && may_grant([SchoolRole::Staff, SchoolRole::Dsl]));
        assert!(!may_grant([SchoolRole::Staff]) && !may_grant([SchoolRole::Governor]));
        assert!(may_lend([SchoolRole::Staff]) && !may_lend([SchoolRole::Governor]) && !may_lend([]));
    }

    #[test]
    fn a_grant_lapses_with_the_agreement_and_revocation_is_final() {
        assert_eq!(GrantState::of(false, true), GrantState::Active);
        assert_eq!(GrantState::of(false, false), GrantState::Lapsed);
        assert_eq!(GrantState::of(true, true), GrantState::Revoked);
    }

    #[test]
    fn a_code_reads_back_however_it_is_typed() {
        let code = wifi_code(0x3_1234_5678_9ABC);
        assert_eq!(code.len(), 12);
        assert_eq!(
            typed_code(&code.to_lowercase().replace('-', " ")),
            Some(code.clone())
        );
        assert_ne!(wifi_code(1), wifi_code(2));
        assert_eq!(typed_code("ILOU-0000-00"), None, "letters no code has");
        assert_eq!(typed_code("1234"), None);
    }

    #[test]
    fn a_label_is_trimmed_and_bounded() {
        assert_eq!(
            label("system", " Learning platform ").unwrap(),
            "Learning platform"
        );
        assert!(label("system", "  ").is_err());
        assert!(label("system", &"x".repeat(101)).is_err());
    }
}
