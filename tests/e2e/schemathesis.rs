//! schemathesis (PyPI) against the gateway's merged OpenAPI document, with real tokens of several
//! roles at the schools and trust that exist: every generated request must get an answer that is no
//! server error and fits the documented schema. Prints the figures.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::dev::{DemoTokens, interrupt, started_platform};

/// Whose tokens the requests carry.
const ROLES: [&str; 5] = [
    "raps dsl",
    "raps staff",
    "raps mis client",
    "viking trust_safeguarding_lead",
    "viking trust_governor",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let (data_dir, ports, dev) = started_platform().await;
    let base = format!("http://127.0.0.1:{}", ports.http);
    let tokens = DemoTokens::of(&data_dir);
    let work = tempfile::tempdir().unwrap();
    // The ids the platform has, so requests reach records rather than only 404s.
    std::fs::write(
        work.path().join("schemathesis.toml"),
        "[parameters]\nschool_id = \"raps\"\ntrust_id = \"viking\"\n",
    )
    .unwrap();
    let python = PathBuf::from(std::env::var("TRUSTSAFE_PYTHON").unwrap_or_else(|_| "python3".into()));

    let (mut cases, mut failures) = (0, Vec::new());
    for role in ROLES {
        let token = tokens.get(role);
        let report = work.path().join(format!("{}.json", role.replace(' ', "-")));
        let run = Command::new(&python)
            .args(["-m", "schemathesis.cli", "--config-file"])
            .arg(work.path().join("schemathesis.toml"))
            .arg("run")
            .arg(format!("{base}/api/openapi.json"))
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args(["--checks", "not_a_server_error,response_schema_conformance"])
            .args([
                "--max-examples",
                "10",
                "--seed",
                "20261201",
                "--no-color",
                "--continue-on-failure",
            ])
            .args(["--report", "json", "--report-json-path"])
            .arg(&report)
            .current_dir(work.path())
            .output()
            .unwrap();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        let summary: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap_or_default())
            .unwrap_or_else(|_| panic!("schemathesis wrote no report (run scripts/setup.sh): {printed}"));
        let generated = summary["test_cases"]["generated"].as_i64().unwrap();
        let failed = summary["test_cases"]["with_failures"].as_i64().unwrap();
        let errored = summary["test_cases"]["errored"].as_i64().unwrap();
        println!("schemathesis as {role}: {generated} requests, {failed} failing, {errored} errored");
        cases += generated;
        if failed > 0 || errored > 0 || !run.status.success() {
            failures.push(format!("as {role}:\n{printed}"));
        }
    }
    println!(
        "schemathesis: {cases} requests over {} roles, {} roles with failures",
        ROLES.len(),
        failures.len()
    );
    assert!(cases >= 1000, "at least a thousand requests, not {cases}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    interrupt(dev);
    let _ = std::fs::remove_dir_all(&data_dir);
}
