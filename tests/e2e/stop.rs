//! However `trustsafe dev` is stopped, nothing it started keeps running, and a first start stopped
//! while it writes the demo history finishes that history on the next start.

use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::dev::{Ports, free_ports, start_dev, start_dev_with_demo_history, wait_ready};

/// Processes whose command line names `dir` (the private PostgreSQL's server names its data dir).
fn processes_naming(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        .filter(|cmdline| cmdline.contains(&needle))
        .collect()
}

/// Nothing of `data_dir` runs any more (the server may take a moment to finish its shutdown).
fn nothing_left(data_dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = processes_naming(data_dir);
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "left running: {left:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn incident_database(ports: &Ports) -> PgConnection {
    PgConnection::connect(&format!(
        "postgres://postgres@127.0.0.1:{}/trustsafe_incident",
        ports.postgres
    ))
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_the_demo_history_is_written_stops_everything_and_the_next_start_finishes_it() {
    let data_dir = std::env::temp_dir().join(format!("trustsafe-e2e-{}", Uuid::now_v7().simple()));
    let ports = free_ports();
    let stdout = data_dir.with_extension("out");

    // Ctrl-C in the moments after the platform first answers, while the history is being written.
    let mut dev = start_dev_with_demo_history(&data_dir, &ports, std::fs::File::create(&stdout).unwrap());
    wait_ready(&ports, &mut dev).await;
    dev.signal_group("INT");
    let status = dev.wait_exit(Duration::from_secs(60));
    assert!(status.success(), "Ctrl-C is a clean stop: {status}");
    nothing_left(&data_dir);
    let printed = std::fs::read_to_string(&stdout).unwrap();
    assert!(
        !printed.contains("demo history:"),
        "the history was to be interrupted, but it finished first:\n{printed}"
    );

    // The next start writes the rest of the same history, and only the rest.
    let mut dev = start_dev_with_demo_history(&data_dir, &ports, std::fs::File::create(&stdout).unwrap());
    wait_ready(&ports, &mut dev).await;
    let deadline = Instant::now() + Duration::from_secs(180);
    while !std::fs::read_to_string(&stdout)
        .unwrap()
        .contains("demo history:")
    {
        assert!(Instant::now() < deadline, "the history was not finished");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut db = incident_database(&ports).await;
    let finished: bool = sqlx::query_scalar("SELECT finished FROM demo_history")
        .fetch_one(&mut db)
        .await
        .unwrap();
    let (concerns, written): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM concerns), (SELECT count(*) FROM demo_history_concerns)",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert!(finished);
    assert!(written > 100, "a year of history, not {written} concerns");
    assert_eq!(concerns, written, "each demo concern written once, none twice");
    db.close().await.unwrap();

    // A third start has nothing left to write.
    dev.signal_group("INT");
    assert!(dev.wait_exit(Duration::from_secs(60)).success());
    nothing_left(&data_dir);
    let mut dev = start_dev_with_demo_history(&data_dir, &ports, std::fs::File::create(&stdout).unwrap());
    wait_ready(&ports, &mut dev).await;
    let mut db = incident_database(&ports).await;
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM concerns")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(after, concerns);
    db.close().await.unwrap();
    dev.signal_group("INT");
    assert!(dev.wait_exit(Duration::from_secs(60)).success());
    nothing_left(&data_dir);
    let _ = std::fs::remove_dir_all(&data_dir);
    let _ = std::fs::remove_file(&stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_a_second_ctrl_c_or_sigkill_leave_nothing_running() {
    let data_dir = std::env::temp_dir().join(format!("trustsafe-e2e-{}", Uuid::now_v7().simple()));
    let ports = free_ports();

    // SIGTERM, from a process manager: a clean stop.
    let mut dev = start_dev(&data_dir, &ports);
    wait_ready(&ports, &mut dev).await;
    dev.signal_group("TERM");
    assert!(dev.wait_exit(Duration::from_secs(60)).success());
    nothing_left(&data_dir);

    // Ctrl-C twice: the second ends it at once.
    let mut dev = start_dev(&data_dir, &ports);
    wait_ready(&ports, &mut dev).await;
    dev.signal_group("INT");
    dev.signal_group("INT");
    dev.wait_exit(Duration::from_secs(30));
    nothing_left(&data_dir);

    // SIGKILL: no stop code runs, and still the private PostgreSQL does not outlive it.
    let mut dev = start_dev(&data_dir, &ports);
    wait_ready(&ports, &mut dev).await;
    dev.signal_group("KILL");
    dev.wait_exit(Duration::from_secs(10));
    nothing_left(&data_dir);

    // And the data is still there to start again.
    let mut dev = start_dev(&data_dir, &ports);
    wait_ready(&ports, &mut dev).await;
    dev.signal_group("INT");
    assert!(dev.wait_exit(Duration::from_secs(60)).success());
    nothing_left(&data_dir);
    let _ = std::fs::remove_dir_all(&data_dir);
}
