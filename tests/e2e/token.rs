use std::process::Command;

use trustsafe_auth::dev::{AUDIENCE, DEV_ISSUER, DevIdentity};
use trustsafe_auth::{AuthConfig, Authenticator, SchoolRole, Scope, TrustRole};

fn token(data_dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_trustsafe"))
        .arg("token")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (
        output.status.success(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

#[tokio::test]
async fn token_prints_a_verifiable_token_on_its_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let verifier = |identity: &DevIdentity| {
        Authenticator::new(AuthConfig {
            issuer: DEV_ISSUER.into(),
            audience: AUDIENCE.into(),
            keys: identity.key_source(),
            dev_mode: true,
        })
        .unwrap()
    };

    let (ok, stdout, _) = token(dir.path(), &["--school", "raps", "--role", "dsl"]);
    assert!(ok);
    let identity = DevIdentity::load_or_create(&dir.path().join("identity")).unwrap();
    let caller = verifier(&identity)
        .authenticate(stdout.lines().last().unwrap())
        .await
        .unwrap();
    assert_eq!(caller.subject, "demo-raps-dsl");
    assert!(caller.has_school_role("raps", SchoolRole::Dsl));

    let (_, stdout, _) = token(
        dir.path(),
        &[
            "--trust",
            "viking",
            "--role",
            "trust_safeguarding_lead",
            "--subject",
            "u-42",
        ],
    );
    let caller = verifier(&identity)
        .authenticate(stdout.lines().last().unwrap())
        .await
        .unwrap();
    assert_eq!(caller.subject, "u-42");
    assert!(caller.has_trust_role("viking", TrustRole::TrustSafeguardingLead));

    let (_, stdout, _) = token(dir.path(), &["--scope", "mis", "--school", "raps"]);
    let caller = verifier(&identity)
        .authenticate(stdout.lines().last().unwrap())
        .await
        .unwrap();
    assert!(caller.has_scope("raps", Scope::Mis));

    for (args, says) in [
        (
            &["--school", "atlantis", "--role", "dsl"][..],
            "no school \"atlantis\"",
        ),
        (&["--trust", "viking", "--role", "dsl"][..], "not a trust role"),
        (&["--school", "raps"][..], "say --school"),
    ] {
        let (ok, stdout, stderr) = token(dir.path(), args);
        assert!(!ok && stdout.is_empty(), "{args:?}");
        assert!(
            stderr.contains(says) && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
}
