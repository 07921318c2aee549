use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use serde_json::json;
use trustsafe_auth::KeySource;

use crate::support::*;

fn unsigned(header: serde_json::Value, claims: &serde_json::Value) -> String {
    let part = |value: &serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
    format!("{}.{}.", part(&header), part(claims))
}

async fn assert_refused(base: &str, token: &str, why: &str) {
    let (status, body, content_type, challenge) = call(base, Some(token)).await;
    assert_eq!(status, 401, "{why}: {body}");
    assert_eq!(content_type.as_deref(), Some("application/problem+json"), "{why}");
    assert_eq!(body["type"], "urn:trustsafe:problem:unauthorized", "{why}");
    assert_eq!(challenge.as_deref(), Some("Bearer"), "{why}");
}

#[actix_web::test]
async fn a_valid_token_is_accepted_and_its_grants_read() {
    let keys = KeyServer::start();
    let base = protected_service(KeySource::jwks_url(&keys.url));
    let (status, body, ..) = call(&base, Some(&rsa_token(&claims()))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"subject": "dsl-raps", "dsl_at_raps": true}));
    let mut within_leeway = claims();
    within_leeway["exp"] = json!(now() - 10);
    assert_eq!(
        call(&base, Some(&rsa_token(&within_leeway))).await.0,
        200,
        "10 s past exp is within the leeway"
    );
    assert_eq!(keys.hits(), 1, "the JWKS is fetched once and kept");
}

#[actix_web::test]
async fn requests_without_a_usable_token_answer_401_before_the_handler() {
    let keys = KeyServer::start();
    let base = protected_service(KeySource::jwks_url(&keys.url));
    let (status, body, content_type, challenge) = call(&base, None).await;
    assert_eq!(
        (status, content_type.as_deref(), challenge.as_deref()),
        (401, Some("application/problem+json"), Some("Bearer"))
    );
    assert_eq!(body["detail"], "no bearer token");
    assert_refused(&base, "not-a-jwt", "garbage").await;
}

#[actix_web::test]
async fn the_twelve_bad_tokens_are_all_refused() {
    let keys = KeyServer::start();
    let elsewhere = KeyServer::start();
    // A short refresh interval (10 s in service) so the test can see one refresh and its limit.
    let refresh = std::time::Duration::from_millis(300);
    let base = protected_service(KeySource::jwks_url(&keys.url).with_refresh_interval(refresh));

    // 1. alg: none
    assert_refused(
        &base,
        &unsigned(json!({"alg": "none", "typ": "JWT", "kid": KID}), &claims()),
        "alg none",
    )
    .await;

    // 2. HS256 "signed" with the RSA public key as the HMAC secret
    let mut hs256 = Header::new(Algorithm::HS256);
    hs256.kid = Some(KID.into());
    let confused = jsonwebtoken::encode(
        &hs256,
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(RSA_PUBLIC),
    )
    .unwrap();
    assert_refused(&base, &confused, "HS256 with the public key").await;

    // 3. a known kid, but signed by another key
    let mut wrong_kid = Header::new(Algorithm::RS256);
    wrong_kid.kid = Some(KID.into());
    assert_refused(&base, &sign(&wrong_kid, &claims(), ATTACKER_PRIVATE), "wrong kid").await;

    // 4. an unknown kid: one JWKS refresh, however often it is tried within the interval
    tokio::time::sleep(refresh).await;
    let fetches_before = keys.hits();
    let mut unknown = Header::new(Algorithm::RS256);
    unknown.kid = Some("rotated-away".into());
    for _ in 0..3 {
        assert_refused(&base, &sign(&unknown, &claims(), RSA_PRIVATE), "unknown kid").await;
    }
    assert_eq!(keys.hits() - fetches_before, 1, "exactly one JWKS refresh");

    // 5. expired beyond the leeway
    let mut expired = claims();
    expired["exp"] = json!(now() - 120);
    assert_refused(&base, &rsa_token(&expired), "expired").await;

    // 6. not valid before a time in the future
    let mut early = claims();
    early["nbf"] = json!(now() + 300);
    assert_refused(&base, &rsa_token(&early), "nbf in the future").await;

    // 7. exp as a string
    let mut exp_text = claims();
    exp_text["exp"] = json!((now() + 600).to_string());
    assert_refused(&base, &rsa_token(&exp_text), "exp as a string").await;

    // 8. nbf as a string
    let mut nbf_text = claims();
    nbf_text["nbf"] = json!((now() - 5).to_string());
    assert_refused(&base, &rsa_token(&nbf_text), "nbf as a string").await;

    // 9. another issuer
    let mut issuer = claims();
    issuer["iss"] = json!("https://id.claremont.example");
    assert_refused(&base, &rsa_token(&issuer), "wrong iss").await;

    // 10. another audience, and none
    let mut audience = claims();
    audience["aud"] = json!("payroll");
    assert_refused(&base, &rsa_token(&audience), "wrong aud").await;
    let mut no_audience = claims();
    no_audience.as_object_mut().unwrap().remove("aud");
    assert_refused(&base, &rsa_token(&no_audience), "missing aud").await;

    // 11. payload changed after signing
    let valid = rsa_token(&claims());
    let parts: Vec<&str> = valid.split('.').collect();
    let mut escalated = claims();
    escalated["trustsafe"] = json!({"trusts": {"viking": ["trust_safeguarding_lead"]}});
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(escalated.to_string()),
        parts[2]
    );
    assert_refused(&base, &tampered, "tampered payload").await;

    // 12. a jku header pointing at the attacker's keys: refused, and never fetched
    let mut jku = Header::new(Algorithm::RS256);
    jku.kid = Some("attacker".into());
    jku.jku = Some(elsewhere.url.clone());
    assert_refused(&base, &sign(&jku, &claims(), ATTACKER_PRIVATE), "jku").await;
    assert_eq!(elsewhere.hits(), 0, "no outbound request to the jku");

    // And a good token still works afterwards.
    assert_eq!(call(&base, Some(&rsa_token(&claims()))).await.0, 200);
}

#[actix_web::test]
async fn a_configured_public_key_pins_its_algorithm() {
    let base = protected_service(KeySource::public_key_pem(RSA_PUBLIC).unwrap());
    assert_eq!(call(&base, Some(&rsa_token(&claims()))).await.0, 200);
    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(RSA_PUBLIC),
    )
    .unwrap();
    assert_refused(&base, &confused, "HS256 against a configured RSA key").await;
}

#[actix_web::test]
async fn an_unreachable_jwks_is_503_not_a_crash() {
    let base = protected_service(KeySource::jwks_url("http://127.0.0.1:9/jwks.json"));
    let (status, body, content_type, _) = call(&base, Some(&rsa_token(&claims()))).await;
    assert_eq!(
        (status, content_type.as_deref()),
        (503, Some("application/problem+json")),
        "{body}"
    );
}
