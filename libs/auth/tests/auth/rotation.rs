//! The issuer's key set over time: fetched again on a schedule (the issuer's Cache-Control within
//! bounds), a key it removes stops working even for tokens verified before, a slow issuer holds up
//! nobody whose key is known, and a JWKS in the clear is refused outside dev.

use std::time::{Duration, Instant};

use trustsafe_auth::{AuthConfig, Authenticator, KeySource};

use crate::support::*;

#[actix_web::test]
async fn a_key_removed_from_the_set_stops_working_within_its_max_age() {
    let keys = KeyServer::start();
    keys.set_cache_control("public, max-age=1");
    let base = protected_service(KeySource::jwks_url(&keys.url));
    let token = rsa_token(&claims());
    assert_eq!(call(&base, Some(&token)).await.0, 200);
    assert_eq!(call(&base, Some(&token)).await.0, 200);
    assert_eq!(keys.hits(), 1, "a fresh set is not fetched again");

    keys.remove_keys();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // Past its max-age the set is fetched again; the request that notices may still pass on the set
    // it had, and those after it are refused.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body, ..) = call(&base, Some(&token)).await;
        if status == 401 {
            assert!(body.to_string().contains("key"), "{body}");
            break;
        }
        assert_eq!(status, 200);
        assert!(Instant::now() < deadline, "the removed key still verifies");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(keys.hits() >= 2);
}

#[actix_web::test]
async fn without_cache_control_the_set_is_fetched_again_after_the_cap() {
    let keys = KeyServer::start();
    let base = protected_service(KeySource::jwks_url(&keys.url).with_max_age_cap(Duration::from_millis(300)));
    let token = rsa_token(&claims());
    assert_eq!(call(&base, Some(&token)).await.0, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(call(&base, Some(&token)).await.0, 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(keys.hits(), 2, "fetched again once it was older than the cap");
}

#[actix_web::test]
async fn a_slow_issuer_holds_up_nobody_whose_key_is_known() {
    let keys = KeyServer::start();
    let base =
        protected_service(KeySource::jwks_url(&keys.url).with_refresh_interval(Duration::from_millis(10)));
    let known = rsa_token(&claims());
    assert_eq!(call(&base, Some(&known)).await.0, 200);

    // A token naming a key the set lacks makes the service ask the (now slow) issuer again.
    keys.set_delay(Duration::from_secs(3));
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("rotated-in".into());
    let unknown = sign(&header, &claims(), RSA_PRIVATE);
    let waiting = tokio::spawn({
        let base = base.clone();
        async move { call(&base, Some(&unknown)).await.0 }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    for n in 0..5 {
        // New tokens each time, so none is answered from the verified-token memory.
        let mut fresh = claims();
        fresh["sub"] = format!("staff-{n}").into();
        assert_eq!(call(&base, Some(&rsa_token(&fresh))).await.0, 200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "known keys waited for the fetch: {:?}",
        started.elapsed()
    );
    assert_eq!(waiting.await.unwrap(), 401);
}

#[test]
fn a_jwks_url_in_the_clear_is_refused_outside_dev() {
    let refused = Authenticator::new(AuthConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        keys: KeySource::jwks_url("http://id.viking.example/jwks.json"),
        dev_mode: false,
    });
    assert!(
        refused.is_err_and(|err| err.to_string().contains("not https")),
        "an http:// JWKS outside dev"
    );
    let accepted = Authenticator::new(AuthConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        keys: KeySource::jwks_url("https://id.viking.example/jwks.json"),
        dev_mode: false,
    });
    assert!(accepted.is_ok());
}
