use std::process::Command;

use crate::serve::free_port;

/// The crash matrix, one kill of each target (the gateway, each service, the embedded broker,
/// PostgreSQL) under load: every answer given is in the store, on the topic and in the read model
/// once, in order. `trustsafe bench faults` runs the hundred trials. In the Apache Kafka pass the
/// node is shared by the other tests, which a kill would fail: there it runs by hand, with a node
/// of its own (`--kafka-dir`, README).
#[test]
fn one_kill_of_each_process_under_load_loses_duplicates_and_reorders_nothing() {
    if std::env::var_os("KAFKA_BROKERS").is_some() {
        eprintln!("the crash matrix runs in the embedded pass");
        return;
    }
    let data_dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_trustsafe"))
        .args(["bench", "faults", "--trials", "7", "--rate", "5"])
        .arg("--data-dir")
        .arg(data_dir.path())
        .args(["--postgres-port", &free_port().to_string()])
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let logs = ["reporting", "incident", "broker"].map(|name| {
        let log =
            std::fs::read_to_string(data_dir.path().join(format!("logs/{name}.log"))).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        format!(
            "{name}'s log, last lines:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    });
    let printed = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        logs.join("\n\n")
    );
    assert!(
        output.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for killed in [
        "the gateway",
        "incident (its API, relay and 2 consumers)",
        "reporting (its API, relay and 3 consumers)",
        "the embedded broker",
        "PostgreSQL",
    ] {
        assert!(
            printed.contains(&format!("| {killed} | 1 |")),
            "{killed} killed once: {printed}"
        );
    }
    assert!(
        printed.contains("lost (answered, then missing): 0 from the incident store, 0 from the topic, 0 from reporting's read model"),
        "{printed}"
    );
    assert!(
        printed.contains("target: 0 lost, 0 duplicated, 0 order violations, 0 gaps: met"),
        "{printed}"
    );
}
