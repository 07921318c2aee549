//! The annual review as a document an inspector reads (Markdown, printable as it stands): who took
//! part, the risk profile, BYOD, AI, the provision, the checks and changes it considered, the actions.

use std::fmt::Write;

use trustsafe_events::filtering::duties::{
    ChangeAction, CheckResult, FilterCheckLogged, FilteringReviewRecorded, Perspective, Risk,
};

use super::changes::{Change, ChangeState};

/// One line of someone's text: a document's structure is never the writer's to change.
fn line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(['#', '|'], " ")
}

fn or_none(value: &Option<String>) -> String {
    value.as_deref().map_or_else(|| "(not named)".to_owned(), line)
}

pub fn review_document(
    school: &str,
    review: &FilteringReviewRecorded,
    checks: &[FilterCheckLogged],
    changes: &[Change],
) -> String {
    let record = review.restricted.clone().unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(out, "# Filtering and monitoring review: {}\n", line(school));
    let _ = writeln!(out, "- Reviewed on: {}", review.reviewed_on);
    let _ = writeln!(out, "- Next review by: {}", review.next_review_by);
    let _ = writeln!(out, "- Record: {}\n", review.review_id);
    let _ = writeln!(out, "## Who took part\n");
    let people = &record.participants;
    let _ = writeln!(out, "- Senior leader: {}", or_none(&people.senior_leader));
    let _ = writeln!(out, "- Designated safeguarding lead: {}", or_none(&people.dsl));
    let _ = writeln!(out, "- IT provider: {}", or_none(&people.it_provider));
    let _ = writeln!(out, "- Governor: {}\n", or_none(&people.governor));
    let _ = writeln!(out, "## Risk profile\n");
    let profile = &record.risk_profile;
    let _ = writeln!(out, "- Ages: {}", line(&profile.ages));
    let _ = writeln!(out, "- SEND: {}", line(&profile.send));
    let _ = writeln!(out, "- EAL: {}", line(&profile.eal));
    if let Some(other) = &profile.other {
        let _ = writeln!(out, "- Other: {}", line(other));
    }
    let _ = writeln!(out, "\n## Bring your own device\n\n{}\n", line(&record.byod));
    let _ = writeln!(out, "## Artificial intelligence\n\n{}\n", line(&record.ai));
    let _ = writeln!(out, "## The provision\n\n{}\n", line(&record.provision));
    let _ = writeln!(out, "## Checks since the last review ({})\n", checks.len());
    if checks.is_empty() {
        let _ = writeln!(out, "None logged.");
    }
    for check in checks {
        let details = check.restricted.clone();
        let result = match check.result {
            CheckResult::Passed => "passed",
            CheckResult::Partly => "partly passed",
            CheckResult::Failed => "failed",
        };
        let _ = writeln!(
            out,
            "- {} by {}: {} — {}{}",
            check.checked_at.format("%Y-%m-%d %H:%M UTC"),
            details.as_ref().map_or_else(String::new, |d| line(&d.checked_by)),
            details
                .as_ref()
                .map_or_else(String::new, |d| line(&d.what_tested)),
            result,
            details
                .and_then(|d| d.actions)
                .map_or_else(String::new, |actions| format!(". Actions: {}", line(&actions))),
        );
    }
    let _ = writeln!(
        out,
        "\n## Filtering changes applied since the last review ({})\n",
        changes.len()
    );
    if changes.is_empty() {
        let _ = writeln!(out, "None applied.");
    }
    for change in changes {
        let _ = writeln!(out, "- {}", describe(change));
    }
    let _ = writeln!(out, "\n## Actions\n");
    if record.actions.is_empty() {
        let _ = writeln!(out, "None.");
    }
    for action in &record.actions {
        let _ = writeln!(out, "- {}", line(action));
    }
    out
}

fn describe(change: &Change) -> String {
    let action = match change.action {
        ChangeAction::Block => "block",
        ChangeAction::Unblock => "unblock",
    };
    let target = change
        .host
        .as_deref()
        .or(change.category.as_deref())
        .map(line)
        .unwrap_or_default();
    let assessed = change
        .assessments
        .iter()
        .map(|a| {
            let perspective = match a.perspective {
                Perspective::Educational => "educational",
                Perspective::Technical => "technical",
            };
            let risk = match a.risk {
                Risk::Low => "low",
                Risk::Medium => "medium",
                Risk::High => "high",
            };
            format!("{perspective} risk {risk}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let applied = change.applied.as_ref().map_or_else(String::new, |applied| {
        format!("; applied {}", applied.at.format("%Y-%m-%d"))
    });
    let state = if change.state() == ChangeState::Applied {
        ""
    } else {
        " (not applied)"
    };
    format!(
        "{action} {target}: {}; {assessed}{applied}{state}",
        line(&change.reason)
    )
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use trustsafe_events::filtering::duties::{ReviewRecord, RiskProfile, RoleHolders};
    use uuid::Uuid;

    use super::*;

    #[test]
    fn the_document_keeps_its_headings_whatever_the_text_says() {
        let review = FilteringReviewRecorded {
            review_id: Uuid::nil(),
            reviewed_on: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
            next_review_by: NaiveDate::from_ymd_opt(2027, 10, 1).unwrap(),
            checks_considered: vec![],
            changes_considered: vec![],
            restricted: Some(ReviewRecord {
                participants: RoleHolders {
                    senior_leader: Some("A. Head".into()),
                    ..RoleHolders::default()
                },
                risk_profile: RiskProfile {
                    ages: "4-11".into(),
                    ..RiskProfile::default()
                },
                byod: "Not allowed\n\n# Fake heading".into(),
                ai: "Blocked".into(),
                provision: "Lightspeed".into(),
                actions: vec!["Check termly".into()],
            }),
        };
        let document = review_document("Ramsgate Arts Primary", &review, &[], &[]);
        assert!(document.starts_with("# Filtering and monitoring review: Ramsgate Arts Primary\n"));
        assert!(document.contains("Not allowed   Fake heading"), "{document}");
        assert_eq!(document.matches("\n# ").count(), 0, "one title only");
        assert!(document.contains("- Governor: (not named)"));
        assert!(document.contains("## Checks since the last review (0)\n\nNone logged."));
        assert!(document.contains("- Check termly"));
    }
}
