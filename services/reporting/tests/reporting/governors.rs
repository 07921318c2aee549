//! The governors' termly report and the policy reviews.

use chrono::{Datelike, Utc};
use reqwest::StatusCode;
use serde_json::Value;
use trustsafe_auth::TrustRole;

use crate::dashboards::{event_count, records, scenario};
use crate::support::*;

/// This term's name and its first and last days.
pub(crate) fn this_term() -> (String, String, String) {
    let today = Utc::now().date_naive();
    let year = today.year();
    match today.month() {
        9..=12 => (
            format!("{year}-autumn"),
            format!("{year}-09"),
            format!("{year}-12"),
        ),
        1..=3 => (
            format!("{year}-spring"),
            format!("{year}-01"),
            format!("{year}-03"),
        ),
        _ => (
            format!("{year}-summer"),
            format!("{year}-04"),
            format!("{year}-08"),
        ),
    }
}

/// What a governor is shown gives no count from 1 to 4 away: none is shown, no total is exact beside
/// a part that is not, and no second breakdown (months) is exact beside a suppressed first (categories)
/// of the same concerns. `exact` is the trust lead's view of the same period.
fn assert_no_small_count_can_be_worked_out(exact: &Value, governed: &Value) {
    let is_exact = |value: &Value| value.is_number();
    let figures = |view: &Value| -> Vec<Value> {
        view["schools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|school| school["figures"].clone())
            .chain([view["total"].clone()])
            .collect()
    };
    for (shown, truth) in figures(governed).iter().zip(figures(exact)) {
        for (figure, by_key) in shown.as_object().unwrap() {
            let Some(by_key) = by_key.as_object() else {
                continue;
            };
            for (key, value) in by_key {
                if let Some(n) = value.as_i64() {
                    assert!(n == 0 || n >= 5, "{figure}.{key} = {n}");
                    assert_eq!(truth[figure][key], *value, "an exact figure is the exact one");
                }
            }
        }
        let hidden = |figure: &str| shown[figure].as_object().unwrap().values().any(|v| !is_exact(v));
        if hidden("concerns_by_category") {
            assert!(
                !shown["opened_by_month"]
                    .as_object()
                    .unwrap()
                    .values()
                    .any(is_exact),
                "{shown}"
            );
        }
    }
    let schools = governed["schools"].as_array().unwrap();
    for (category, total) in governed["total"]["concerns_by_category"].as_object().unwrap() {
        let part_hidden = schools.iter().any(|school| {
            school["figures"]["concerns_by_category"]
                .get(category)
                .is_some_and(|part| !is_exact(part))
        });
        assert!(
            !(part_hidden && is_exact(total)),
            "the trust's {category} beside a hidden part"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_governors_report_is_the_terms_figures_with_small_counts_suppressed_as_json_and_csv() {
    let app = TestApp::spawn().await;
    let concerns = scenario();
    app.produce(&records(&concerns)).await;
    app.applied(event_count(&concerns)).await;
    let lead = app.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead);
    let governor = app.trust_token("viking-governor", "viking", TrustRole::TrustGovernor);
    let (term, from, to) = this_term();

    // The governors see the term's dashboard and the report alike: one rule of suppression.
    let governed = app
        .json(&format!("/api/v1/trusts/viking/dashboard?term={term}"), &governor)
        .await;
    for token in [&lead, &governor] {
        let report = app
            .json(
                &format!("/api/v1/trusts/viking/reports/governors?term={term}"),
                token,
            )
            .await;
        assert_eq!(report["term"], term.as_str());
        assert_eq!(
            report["small_counts_suppressed"], true,
            "a governors' report, whoever asks"
        );
        assert_eq!(report["total"], governed["total"]);
        assert_eq!(report["schools"], governed["schools"]);
    }
    let exact = app
        .json(
            &format!("/api/v1/trusts/viking/dashboard?from={from}&to={to}"),
            &lead,
        )
        .await;
    assert_no_small_count_can_be_worked_out(&exact, &governed);

    let response = app
        .client
        .get(format!(
            "{}/api/v1/trusts/viking/reports/governors?term={term}",
            app.base
        ))
        .bearer_auth(&governor)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&term)
    );
    let text = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["school_id", "school", "figure", "key", "value"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let cell = |school: &str, figure: &str, key: &str| {
        rows.iter()
            .find(|row| &row[0] == school && &row[2] == figure && &row[3] == key)
            .map(|row| row[4].to_owned())
    };
    let expected = match &governed["total"]["concerns_by_category"]["cyberbullying"] {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    assert_eq!(cell("total", "concerns_by_category", "cyberbullying"), expected);
    for school in ["chilton", "ramsgate-free", "raps", "total"] {
        assert!(
            rows.iter()
                .any(|row| &row[0] == school && &row[2] == "overdue_acknowledgements"),
            "{school}"
        );
    }
    // Every count of children; the duties' rows are dates and states of the school's own.
    let counts = rows.iter().filter(|row| !row[2].starts_with("filtering_duties."));
    assert!(
        counts.clone().all(|row| row[4].parse::<f64>().map_or(
            row[4].is_empty() || &row[4] == "<5" || &row[4] == "withheld",
            |n| n == 0.0 || n >= 5.0 || &row[2] == "median_minutes_to_acknowledge"
        )),
        "no count from 1 to 4 in a governors' report"
    );
    assert!(counts.clone().any(|row| row[2].starts_with("filtering.")));

    for bad in [
        "",
        "?term=2026",
        "?term=2026-winter",
        "?term=2026-autumn&colour=red",
    ] {
        let response = app
            .get(
                &format!("/api/v1/trusts/viking/reports/governors{bad}"),
                &governor,
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let other = app.trust_token("claremont-lead", "claremont", TrustRole::TrustSafeguardingLead);
    let response = app
        .get(
            &format!("/api/v1/trusts/viking/reports/governors?term={term}"),
            &other,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_reviews_flag_what_is_overdue_and_say_what_is_not_recorded() {
    let app = TestApp::spawn().await;
    let lead = app.trust_token("claremont-lead", "claremont", TrustRole::TrustSafeguardingLead);
    let claremont = app.json("/api/v1/trusts/claremont/policy-reviews", &lead).await;
    let school = &claremont["schools"][0];
    assert_eq!(school["next_review"], "2022-04-08");
    assert_eq!(school["next_review_label"], "Spring 2022");
    assert_eq!(
        school["status"], "overdue",
        "Claremont's review was due in spring 2022"
    );
    assert!(school["days_overdue"].as_i64().unwrap() > 365);

    let governor = app.trust_token("viking-governor", "viking", TrustRole::TrustGovernor);
    let viking = app.json("/api/v1/trusts/viking/policy-reviews", &governor).await;
    let status: Vec<(&str, &str)> = viking["schools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|school| {
            (
                school["school_id"].as_str().unwrap(),
                school["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        status,
        [
            ("chilton", "not_recorded"),
            ("ramsgate-free", "not_recorded"),
            ("raps", "overdue")
        ]
    );
    assert_eq!(
        app.get("/api/v1/trusts/viking/policy-reviews", &lead)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_governor_can_ask_for_whole_terms_only_so_no_two_periods_subtract() {
    let app = TestApp::spawn().await;
    let concerns = scenario();
    app.produce(&records(&concerns)).await;
    app.applied(event_count(&concerns)).await;
    let governor = app.trust_token("viking-governor", "viking", TrustRole::TrustGovernor);
    let (term, from, to) = this_term();
    // Months, or months beside a term, would let a year less a month single out what that month held.
    for query in [
        format!("?from={from}&to={to}"),
        format!("?from={from}"),
        format!("?to={to}"),
        format!("?term={term}&from={from}"),
        "?term=2026-winter".to_owned(),
    ] {
        let response = app
            .get(&format!("/api/v1/trusts/viking/dashboard{query}"), &governor)
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["type"], "urn:trustsafe:problem:validation", "{query}");
    }
    let this = app
        .json(&format!("/api/v1/trusts/viking/dashboard?term={term}"), &governor)
        .await;
    let default = app.json("/api/v1/trusts/viking/dashboard", &governor).await;
    assert_eq!(this["from"], default["from"], "by default, this term");
    assert_eq!(this["total"], default["total"]);
    app.stop().await;
}
