//! The trust's case list: what a page's cursor may say, and what a case shows of itself.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A page ends at its last case's pseudonym, which the page already shows: the cursor tells nothing
/// more (not the case's id, nor its report time to the microsecond, which the page gives in days).
pub fn cursor_of(pseudonym: &str) -> String {
    pseudonym.to_owned()
}

/// The pseudonym a cursor names, if it is one: `XXXX-XXXX-XXXX` in Crockford's base 32, as
/// pseudonyms are written.
pub fn position_of(cursor: &str) -> Option<String> {
    let well_formed = cursor.len() == 14
        && cursor.char_indices().all(|(at, c)| {
            if at == 4 || at == 9 {
                c == '-'
            } else {
                c.is_ascii_digit() || c.is_ascii_uppercase()
            }
        });
    well_formed.then(|| cursor.to_owned())
}

/// The one link from the trust's pseudonymised list to a case's detail: an escalated case only,
/// which the trust lead may then read in the incident service.
pub fn detail_of(escalated: bool, school_id: &str, incident_id: Uuid) -> Option<String> {
    escalated.then(|| format!("/api/v1/schools/{school_id}/incidents/{incident_id}"))
}

/// Whole days since a case was reported: the list says no more of when.
pub fn age_days(reported_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - reported_at).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_a_pseudonym_and_nothing_else() {
        assert_eq!(
            position_of(&cursor_of("K7Q2-9XMP-3TZA")).as_deref(),
            Some("K7Q2-9XMP-3TZA")
        );
        for bad in [
            "",
            "K7Q2-9XMP-3TZ",
            "k7q2-9xmp-3tza",
            "K7Q2_9XMP_3TZA",
            "K7Q2-9XMP-3TZA-",
        ] {
            assert_eq!(position_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_an_escalated_case_links_to_its_detail() {
        let id = Uuid::nil();
        assert_eq!(detail_of(false, "raps", id), None);
        assert_eq!(
            detail_of(true, "raps", id).as_deref(),
            Some("/api/v1/schools/raps/incidents/00000000-0000-0000-0000-000000000000")
        );
    }
}
