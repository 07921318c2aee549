use serde_json::Value;
use trustsafe_auth::SchoolRole;

use crate::support::*;

async fn trust(base: &str, trust: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(format!("{base}/api/v1/trusts/{trust}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn school_ids(view: &Value) -> Vec<&str> {
    view["schools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|school| school["id"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn a_trust_is_named_with_the_schools_the_caller_may_see() {
    let setup = Setup::new();
    let (_gateway, base) = gateway(setup.config(&upstream())).await;
    let (status, viking) = trust(&base, "viking", Some(&setup.trust_token("viking"))).await;
    assert_eq!(status, 200);
    assert_eq!(viking["name"], "Viking Academy Trust");
    assert_eq!(school_ids(&viking), ["chilton", "ramsgate-free", "raps"]);
    assert!(
        viking["schools"][2]["name"]
            .as_str()
            .unwrap()
            .contains("Ramsgate Arts"),
        "{viking}"
    );

    let (status, as_raps_staff) = trust(
        &base,
        "viking",
        Some(&setup.school_token("raps", SchoolRole::Staff)),
    )
    .await;
    assert_eq!(
        (status, school_ids(&as_raps_staff)),
        (200, vec!["raps"]),
        "their own school alone"
    );

    for (name, token) in [
        ("claremont", Some(setup.trust_token("viking"))),
        ("viking", Some(setup.trust_token("claremont"))),
        ("viking", Some(setup.school_token("claremont", SchoolRole::Dsl))),
        ("nowhere", Some(setup.trust_token("viking"))),
    ] {
        let (status, body) = trust(&base, name, token.as_deref()).await;
        assert_eq!(status, 404, "{name}: {body}");
    }
    assert_eq!(trust(&base, "viking", None).await.0, 401);
}
