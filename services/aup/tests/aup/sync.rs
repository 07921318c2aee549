//! The MIS syncs the roster: full, delta, the same again; removals; bad records one by one; batches
//! that are not batches; an older batch arriving late; a large secondary in one call.

use std::time::Instant;

use serde_json::{Value, json};
use trustsafe_auth::SchoolRole;

use crate::support::{PEOPLE, TestApp, outcomes, parent, person_id, problem, pupil, staff, upn};

#[tokio::test]
async fn a_full_roster_then_a_delta_then_the_same_delta_again_leaves_one_roster() {
    let app = TestApp::spawn().await;
    let full = json!({
        "as_of": "2026-09-01T06:00:00Z",
        "people": [pupil(1, "Adams", 5), pupil(2, "Brown", 6), staff(1, "Clark"), parent(1, &[1, 2])]
    });
    let answer = app.synced(&full).await;
    assert_eq!(outcomes(&answer), ["created"; 4]);
    assert_eq!(answer["counts"]["created"], 4);

    let mut moved_up = pupil(1, "Adams", 6);
    moved_up["accounts"] = json!(["raps\\pupil1", "RAPS\\ADAMS.P"]);
    let delta = json!({
        "as_of": "2026-09-08T06:00:00Z",
        "people": [moved_up, pupil(3, "Evans", 5)],
        "removals": [{"kind": "staff", "mis_id": "S1"}]
    });
    let answer = app.synced(&delta).await;
    assert_eq!(outcomes(&answer), ["updated", "created", "removed"]);
    let after_delta = app.stored().await;

    let again = app.synced(&delta).await;
    assert_eq!(outcomes(&again), ["unchanged", "unchanged", "unchanged"]);
    assert_eq!(
        app.stored().await,
        after_delta,
        "the same delta twice changes nothing"
    );
    let again_later = app
        .synced(&json!({"as_of": "2026-09-09T06:00:00Z", "people": delta["people"]}))
        .await;
    assert_eq!(outcomes(&again_later), ["unchanged", "unchanged"]);
    assert_eq!(
        app.event_count().await,
        4 + 3,
        "one event per change, none for sameness"
    );

    // Absence is not removal: the full roster did not list pupil 3, who stays; the staff member is
    // off the list until asked for.
    let dsl = app.raps(SchoolRole::Dsl);
    let listed = app.json(PEOPLE, &dsl).await;
    let surnames: Vec<&str> = listed["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["surname"].as_str().unwrap())
        .collect();
    assert_eq!(surnames, ["Adams", "Brown", "Evans", "Parent1"]);
    let with_removed = app.json(&format!("{PEOPLE}?include_removed=true"), &dsl).await;
    assert_eq!(with_removed["people"].as_array().unwrap().len(), 5);
    let adams = &listed["people"][0];
    assert_eq!(
        (
            adams["year_group"].as_i64(),
            adams["accounts"].as_array().unwrap().len()
        ),
        (Some(6), 2)
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_records_are_named_one_by_one_and_the_good_ones_kept() {
    let app = TestApp::spawn().await;
    let mut wrong_letter = pupil(2, "Brown", 5);
    let other_letter = if upn(2).starts_with('A') { 'B' } else { 'A' };
    wrong_letter["upn"] = json!(format!("{other_letter}{}", &upn(2)[1..]));
    let mut unknown_authority = pupil(3, "Clark", 5);
    unknown_authority["upn"] = json!(trustsafe_aup::domain::upn::with_check_letter("999200024003").unwrap());
    let mut bad_year = pupil(4, "Davis", 5);
    bad_year["year_group"] = json!("Year 15");
    let batch = json!({"people": [
        pupil(1, "Adams", 5),
        wrong_letter,
        unknown_authority,
        bad_year,
        {"mis_id": "X1", "forename": "No kind"},
        42,
        {"kind": "pupil", "mis_id": "P6", "shoe_size": 4},
        pupil(1, "Adams-again", 5),
        {"kind": "parent", "mis_id": "C1", "surname": "Evans", "children": [{"mis_id": "P1", "parental_responsibility": null}]},
        {"kind": null, "mis_id": null, "forename": null, "upn": null, "accounts": null}
    ], "removals": [{"kind": "pupil"}, {"kind": "staff", "mis_id": "never-known"}]});
    let (status, answer) = app.sync(&batch).await;
    assert_eq!(status, 207, "{answer}");
    assert_eq!(
        outcomes(&answer),
        [
            "created",
            "rejected",
            "created",
            "rejected",
            "rejected",
            "rejected",
            "rejected",
            "rejected",
            "created",
            "rejected",
            "rejected",
            "unchanged"
        ]
    );
    let result = |n: usize| &answer["results"][n];
    let first_error = |n: usize| result(n)["errors"][0]["field"].as_str().unwrap().to_owned();
    assert!(
        result(1)["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("check letter"),
        "{}",
        result(1)
    );
    assert_eq!(
        result(2)["warnings"][0]["field"],
        "upn",
        "an unknown authority is a warning"
    );
    assert_eq!(first_error(3), "year_group");
    assert_eq!(first_error(4), "kind");
    assert_eq!(first_error(5), "record", "not an object");
    assert!(
        result(6)["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("shoe_size"),
        "{}",
        result(6)
    );
    assert!(
        result(7)["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("people[0]"),
        "{}",
        result(7)
    );
    assert_eq!(
        result(8)["warnings"][0]["field"],
        "children[0].parental_responsibility"
    );
    assert_eq!(
        first_error(9),
        "mis_id",
        "nulls are tolerated, but someone needs an id"
    );
    assert_eq!(first_error(10), "mis_id");
    assert_eq!(
        result(11)["warnings"][0]["field"],
        "mis_id",
        "removing someone never known says so"
    );
    assert_eq!(answer["counts"]["rejected"], 8);
    assert_eq!(answer["counts"]["created"], 3);

    let listed = app.json(PEOPLE, &app.raps(SchoolRole::Dsl)).await;
    let ids: Vec<&str> = listed["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["mis_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["P1", "P3", "C1"], "the good ones kept, in name order");
    app.stop().await;
}

#[tokio::test]
async fn a_batch_that_is_not_a_batch_changes_nothing() {
    let app = TestApp::spawn().await;
    app.synced(&json!({"people": [pupil(1, "Adams", 5)]})).await;
    let before = app.stored().await;
    let raw = |body: &'static str, content_type: &'static str| {
        app.client
            .put(app.url(PEOPLE))
            .bearer_auth(app.mis())
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    problem(
        raw("{\"people\": [", "application/json").await.unwrap(),
        reqwest::StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    problem(
        raw("people=1", "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        reqwest::StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    problem(
        raw("[]", "application/json").await.unwrap(),
        reqwest::StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    let not_a_list = problem(
        app.put(PEOPLE, &app.mis(), &json!({"people": {"kind": "pupil"}}))
            .await,
        reqwest::StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    assert!(not_a_list["errors"]["people"].is_string(), "{not_a_list}");
    problem(
        app.put(PEOPLE, &app.mis(), &json!({"people": [], "school_id": "chilton"}))
            .await,
        reqwest::StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    problem(
        app.put(PEOPLE, &app.mis(), &json!({"as_of": "last tuesday"}))
            .await,
        reqwest::StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    let too_many: Vec<Value> = (0..20_001).map(|_| json!(null)).collect();
    problem(
        app.put(PEOPLE, &app.mis(), &json!({"removals": too_many})).await,
        reqwest::StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
    )
    .await;
    // Only the school's MIS syncs its roster: its DSL, another school's MIS and the trust lead get 404.
    let pupil_two = json!({"people": [pupil(2, "Brown", 5)]});
    for token in [
        app.raps(SchoolRole::Dsl),
        app.mis_token("chilton-mis", "chilton"),
        app.trust_token("lead", "viking", trustsafe_auth::TrustRole::TrustSafeguardingLead),
    ] {
        problem(
            app.put(PEOPLE, &token, &pupil_two).await,
            reqwest::StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    assert_eq!(app.stored().await, before, "nothing stored changed");
    app.stop().await;
}

#[tokio::test]
async fn an_older_batch_arriving_late_changes_nothing_newer() {
    let app = TestApp::spawn().await;
    app.synced(
        &json!({"as_of": "2026-09-08T06:00:00Z", "people": [pupil(1, "Adams", 6), pupil(2, "Brown", 6)]}),
    )
    .await;
    let before = app.stored().await;
    let late = app
        .synced(
            &json!({"as_of": "2026-09-01T06:00:00Z", "people": [pupil(1, "Adams", 5)],
                         "removals": [{"kind": "pupil", "mis_id": "P2"}]}),
        )
        .await;
    assert_eq!(outcomes(&late), ["stale", "stale"]);
    assert_eq!(app.stored().await, before);
    app.stop().await;
}

#[tokio::test]
async fn a_parent_is_linked_to_children_of_the_same_batch_or_of_a_later_one() {
    let app = TestApp::spawn().await;
    // The parent comes first in the batch; the children are still linked.
    let answer = app
        .synced(&json!({"people": [parent(1, &[1, 2]), pupil(1, "Adams", 2), pupil(2, "Adams", 4)]}))
        .await;
    let dsl = app.raps(SchoolRole::Dsl);
    let mum = app
        .json(&format!("{PEOPLE}/{}", person_id(&answer, "C1")), &dsl)
        .await;
    let linked: Vec<&str> = mum["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["person_id"].as_str().unwrap())
        .collect();
    assert_eq!(linked, [person_id(&answer, "P1"), person_id(&answer, "P2")]);

    // A child the roster does not know yet: kept by MIS id, with a warning; resolved when both are
    // synced again after the child arrives.
    let answer = app.synced(&json!({"people": [parent(2, &[3])]})).await;
    assert_eq!(answer["results"][0]["warnings"][0]["field"], "children[0].mis_id");
    let dad = format!("{PEOPLE}/{}", person_id(&answer, "C2"));
    assert!(app.json(&dad, &dsl).await["children"][0]["person_id"].is_null());
    let answer = app
        .synced(&json!({"people": [pupil(3, "Brown", 1), parent(2, &[3])]}))
        .await;
    assert_eq!(outcomes(&answer), ["created", "updated"]);
    assert_eq!(
        app.json(&dad, &dsl).await["children"][0]["person_id"],
        person_id(&answer, "P3")
    );
    app.stop().await;
}

/// A 2,000-pupil secondary with 3,000 parents and carers in one call: every record taken, the
/// roster complete, and the same batch again a no-op. (The rate is measured by `trustsafe bench
/// roster`, not asserted here.)
#[tokio::test]
async fn a_large_secondary_with_its_parents_syncs_in_one_call() {
    let app = TestApp::spawn().await;
    let pupils = (0..2000).map(|n| pupil(n, &format!("Surname{:04}", n), 7 + (n % 7) as i64));
    let parents = (0..3000).map(|n| parent(n, &[n % 2000]));
    let batch = json!({"as_of": "2026-09-01T06:00:00Z", "people": pupils.chain(parents).collect::<Vec<_>>()});
    let started = Instant::now();
    let answer = app.synced(&batch).await;
    eprintln!("5,000 records synced in {:?}", started.elapsed());
    assert_eq!(answer["counts"]["created"], 5000, "{}", answer["counts"]);
    let pupils_listed = app
        .json(
            &format!("{PEOPLE}?kind=pupil&limit=200&year_group=7"),
            &app.raps(SchoolRole::Dsl),
        )
        .await;
    assert_eq!(pupils_listed["people"].as_array().unwrap().len(), 200);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM people")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 5000);
    let again = app.synced(&batch).await;
    assert_eq!(again["counts"]["unchanged"], 5000);
    app.stop().await;
}
