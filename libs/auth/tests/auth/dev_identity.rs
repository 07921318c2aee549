use std::time::Duration;

use trustsafe_auth::dev::{AUDIENCE, DEV_ISSUER, DevIdentity};
use trustsafe_auth::{AuthConfig, Authenticator, Grants, SchoolRole};

fn grants() -> Grants {
    let mut grants = Grants::default();
    grants.schools.insert("raps".into(), [SchoolRole::Dsl].into());
    grants
}

#[tokio::test]
async fn dev_tokens_verify_across_restarts_and_only_in_dev_mode() {
    let dir = tempfile::tempdir().unwrap();
    let identity = DevIdentity::load_or_create(dir.path()).unwrap();
    let token = identity.mint("dsl-raps", Some("RAPS DSL"), &grants(), Duration::from_secs(3600));

    // A second start reads the same key: yesterday's printed tokens still work.
    let again = DevIdentity::load_or_create(dir.path()).unwrap();
    let authenticator = Authenticator::new(AuthConfig {
        issuer: DEV_ISSUER.into(),
        audience: AUDIENCE.into(),
        keys: again.key_source(),
        dev_mode: true,
    })
    .unwrap();
    let caller = authenticator.authenticate(&token).await.unwrap();
    assert_eq!(caller.subject, "dsl-raps");
    assert!(caller.has_school_role("raps", SchoolRole::Dsl));
    assert_eq!(identity.jwks(), again.jwks());

    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("dev-signing-key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the signing key is private to its owner");

    let production = Authenticator::new(AuthConfig {
        issuer: DEV_ISSUER.into(),
        audience: AUDIENCE.into(),
        keys: identity.key_source(),
        dev_mode: false,
    });
    assert!(production.is_err(), "the dev issuer is refused outside dev mode");

    let other = DevIdentity::load_or_create(tempfile::tempdir().unwrap().path()).unwrap();
    let stranger = other.mint("dsl-raps", None, &grants(), Duration::from_secs(60));
    assert!(
        authenticator.authenticate(&stranger).await.is_err(),
        "another dev key does not verify"
    );
}

#[tokio::test]
async fn an_identity_issuing_as_its_own_issuer_is_accepted_outside_dev_mode_by_its_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let identity = DevIdentity::load_or_create(dir.path())
        .unwrap()
        .issuing_as("trustsafe-bench");
    let pem = identity.public_key_pem();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    let production = Authenticator::new(AuthConfig {
        issuer: "trustsafe-bench".into(),
        audience: AUDIENCE.into(),
        keys: trustsafe_auth::KeySource::public_key_pem(pem.as_bytes()).unwrap(),
        dev_mode: false,
    })
    .unwrap();
    let token = identity.mint("dsl-raps", None, &grants(), Duration::from_secs(60));
    let caller = production.authenticate(&token).await.unwrap();
    assert!(caller.has_school_role("raps", SchoolRole::Dsl));

    let dev_token = DevIdentity::load_or_create(dir.path()).unwrap().mint(
        "dsl-raps",
        None,
        &grants(),
        Duration::from_secs(60),
    );
    assert!(
        production.authenticate(&dev_token).await.is_err(),
        "the same key's dev-issued token names another issuer"
    );
}
