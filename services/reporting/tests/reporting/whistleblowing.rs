//! Nothing a person may not read may be counted in anything they see: a concern about the DSL or the
//! headteacher (handled by the trust lead alone), or naming someone as alleged, leaves no trace in
//! the school dashboard of those it is routed away from — in any figure.

use chrono::{Duration, Utc};
use serde_json::Value;
use trustsafe_auth::{SchoolRole, TrustRole};
use trustsafe_events::incident::{Category, HandledBy};
use trustsafe_reporting::domain::audience::Audience;
use trustsafe_servicekit::Purpose;

use crate::dashboards::{event_count, records};
use crate::support::*;

fn total(dashboard: &Value, figure: &str) -> i64 {
    dashboard["total"][figure]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_i64().unwrap())
        .sum()
}

/// A Viking person as the log names them when alleged.
fn alleged_at_viking(app: &TestApp, subject: &str) -> String {
    app.identity
        .pseudonyms
        .pseudonym(Purpose::Alleged, "viking", subject.as_bytes())
}

/// Every figure of a school dashboard that could count a concern.
fn counted(dashboard: &Value) -> [i64; 5] {
    [
        total(dashboard, "concerns_by_category"),
        total(dashboard, "opened_by_month"),
        total(dashboard, "open_by_age"),
        dashboard["total"]["overdue_acknowledgements"].as_i64().unwrap(),
        dashboard["total"]["overdue_steps"].as_i64().unwrap(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concern_routed_away_from_the_dsl_or_head_is_counted_nowhere_they_look() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let days = |n: i64| now - Duration::days(n);
    let alleged = |subject: &str| alleged_at_viking(&app, subject);
    let overdue_step = [("lado_referral", Some(days(1)))];
    let concerns = vec![
        // An ordinary concern everyone may count: acknowledged late, a step overdue.
        Concern::reported("viking", "raps", Category::Cyberbullying, days(3), &overdue_step)
            .acknowledged(days(2)),
        // About the head (RAPS's DSL is its head of school): the trust lead's alone; never
        // acknowledged and a step overdue, so it would show in every "now" figure.
        Concern::reported(
            "viking",
            "raps",
            Category::StaffOnlineConduct,
            days(2),
            &overdue_step,
        )
        .routed(HandledBy::TrustLead, &[]),
        // About a member of staff, naming the DSL as alleged: the head may count it, the DSL not.
        Concern::reported(
            "viking",
            "raps",
            Category::StaffOnlineConduct,
            days(1),
            &overdue_step,
        )
        .routed(HandledBy::DslAndHeadteacher, &[alleged("raps-dsl")]),
    ];
    app.produce(&records(&concerns)).await;
    app.applied(event_count(&concerns)).await;

    let path = "/api/v1/schools/raps/dashboard";
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let head = app.school_token("raps-head", "raps", &[SchoolRole::Headteacher]);
    let lead = app.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead);
    let (for_dsl, for_head, for_lead) = (
        app.json(path, &dsl).await,
        app.json(path, &head).await,
        app.json(path, &lead).await,
    );

    // By category, by month, open by age, overdue acknowledgements and overdue steps.
    assert_eq!(
        counted(&for_lead),
        [3, 3, 3, 2, 3],
        "the trust lead counts all three: {for_lead}"
    );
    assert_eq!(
        counted(&for_head),
        [2, 2, 2, 1, 2],
        "the head, not the one about the head: {for_head}"
    );
    assert_eq!(counted(&for_dsl), [1, 1, 1, 0, 1], "the DSL, neither: {for_dsl}");
    assert!(
        for_dsl["total"]["concerns_by_category"]
            .get("staff_online_conduct")
            .is_none(),
        "{for_dsl}"
    );
    // The trust's own dashboard counts everything.
    let trust = app.json("/api/v1/trusts/viking/dashboard", &lead).await;
    assert_eq!(total(&trust, "concerns_by_category"), 3);
    rollups_agree_with_the_concerns(&app.pool).await;
    app.stop().await;
}

/// The figures' SQL counts exactly the concerns the domain's rule (`Audience::counts`) lets each
/// viewer count: every way a concern can be routed, naming each of the school's leads as alleged or
/// no one, open and closed, read by the trust lead, the DSL, a deputy and the head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_figures_count_what_the_audience_rule_admits_for_every_viewer() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let days = |n: i64| now - Duration::days(n);
    let alleged = |subject: &str| alleged_at_viking(&app, subject);
    let viewers = ["raps-dsl", "raps-deputy", "raps-head"];
    let mut concerns = Vec::new();
    let mut routes = Vec::new();
    for handled_by in [HandledBy::Dsl, HandledBy::DslAndHeadteacher, HandledBy::TrustLead] {
        let named = [None, Some("raps-dsl"), Some("raps-deputy"), Some("raps-head")];
        for person in named {
            let alleged: Vec<String> = person.into_iter().map(alleged).collect();
            for closed in [false, true] {
                let step = [("lado_referral", Some(days(1)))];
                let concern =
                    Concern::reported("viking", "raps", Category::StaffOnlineConduct, days(2), &step)
                        .routed(handled_by, &alleged);
                let concern = if closed { concern.closed(days(1)) } else { concern };
                routes.push((handled_by.id(), alleged.clone(), closed));
                concerns.push(concern);
            }
        }
    }
    app.produce(&records(&concerns)).await;
    app.applied(event_count(&concerns)).await;

    let lead = app.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead);
    let mut readers = vec![(Audience::Trust, lead)];
    for (subject, role) in
        viewers
            .into_iter()
            .zip([SchoolRole::Dsl, SchoolRole::DeputyDsl, SchoolRole::Headteacher])
    {
        let audience = Audience::SchoolStaff {
            alleged_as: alleged(subject),
        };
        readers.push((audience, app.school_token(subject, "raps", &[role])));
    }
    for (audience, token) in readers {
        let admitted = |open: Option<bool>| {
            routes
                .iter()
                .filter(|(handled_by, alleged, closed)| {
                    audience.counts(handled_by, alleged) && open.is_none_or(|open| open != *closed)
                })
                .count() as i64
        };
        let (all, open, closed) = (admitted(None), admitted(Some(true)), admitted(Some(false)));
        let dashboard = app.json("/api/v1/schools/raps/dashboard", &token).await;
        // By category, by month, open by age, overdue acknowledgements and overdue steps.
        assert_eq!(
            counted(&dashboard),
            [all, all, open, open, open],
            "{audience:?}: {dashboard}"
        );
        assert_eq!(
            total(&dashboard, "closed_by_month"),
            closed,
            "{audience:?}: {dashboard}"
        );
    }
    app.stop().await;
}
