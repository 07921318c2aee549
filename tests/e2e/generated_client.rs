//! A client generated from the gateway's `/api/openapi.json` by PyPI's `openapi-python-client`, as an
//! MIS integrator would make one, drives every operation of a running platform and parses each answer
//! into the model the document promises (`tests/tools/drive_generated_client.py`).

use std::path::PathBuf;
use std::process::Command;

use crate::dev::{interrupt, started_platform};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_generated_from_the_document_drives_every_operation() {
    let (data_dir, ports, dev) = started_platform().await;
    let base = format!("http://127.0.0.1:{}", ports.http);
    let document = reqwest::get(format!("{base}/api/openapi.json"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("openapi.json"), document).unwrap();

    let python = PathBuf::from(std::env::var("TRUSTSAFE_PYTHON").unwrap_or_else(|_| "python3".into()));
    let generated = Command::new(&python)
        .args(["-m", "openapi_python_client", "generate", "--path"])
        .arg(work.path().join("openapi.json"))
        .arg("--output-path")
        .arg(work.path().join("client"))
        .output()
        .unwrap();
    let said = |output: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    };
    assert!(
        generated.status.success(),
        "openapi-python-client (from scripts/setup.sh; TRUSTSAFE_PYTHON={}): {}",
        python.display(),
        said(&generated)
    );
    let driven = Command::new(&python)
        .arg(crate::openapi::manifest_dir().join("../tests/tools/drive_generated_client.py"))
        .arg(work.path().join("client"))
        .arg(&base)
        .arg(data_dir.join("demo-tokens.txt"))
        .arg(work.path().join("openapi.json"))
        .output()
        .unwrap();
    let printed = said(&driven);
    println!("{printed}");
    assert!(driven.status.success(), "{printed}");
    assert!(printed.contains("\"missed\": []"), "{printed}");
    interrupt(dev);
    let _ = std::fs::remove_dir_all(&data_dir);
}
