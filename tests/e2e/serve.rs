use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use trustsafe_testkit::TestBroker;

fn repo(path: &str) -> PathBuf {
    crate::openapi::manifest_dir().join("..").join(path)
}

fn serve(service: &str, port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trustsafe"));
    command
        .args(["serve", service, "--http-addr", &format!("127.0.0.1:{port}")])
        .env("TRUSTSAFE_TENANCY_FILE", repo("deploy/tenancy.example.yaml"))
        .env("TRUSTSAFE_AUTH_ISSUER", "https://id.viking.example")
        .env(
            "TRUSTSAFE_AUTH_PUBLIC_KEY_FILE",
            repo("libs/auth/tests/auth/keys/rsa-public.pem"),
        )
        .env(
            "TRUSTSAFE_PSEUDONYM_SECRET",
            "dHJ1c3RzYWZlLXRlc3Qtb25seS1wc2V1ZG9ueW0tc2VjcmV0",
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_runs_as_its_own_process_from_the_environment() {
    let broker = TestBroker::start().await;
    let database = trustsafe_testkit::fresh_database().await;
    let port = free_port();
    let mut child = serve("incident", port)
        .env("DATABASE_URL", &database)
        .env("KAFKA_BROKERS", &broker.log().brokers)
        .env("TRUSTSAFE_KAFKA_NAMESPACE", broker.log().namespace())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(child.try_wait().unwrap().is_none(), "serve incident exited early");
        let ready = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await;
        if ready.is_ok_and(|response| response.status() == 200) {
            break;
        }
        assert!(Instant::now() < deadline, "not ready within a minute");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let document = client
        .get(format!("http://127.0.0.1:{port}/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(document.status(), 200);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "SIGTERM stops it cleanly: {status}");
}

#[test]
fn missing_or_unsafe_configuration_is_refused_with_a_reason() {
    let port = free_port();
    let cases: [(&str, Vec<(&str, &str)>, &str); 3] = [
        ("gateway", vec![], "TRUSTSAFE_INCIDENT_URL is not set"),
        (
            "incident",
            vec![("KAFKA_BROKERS", "127.0.0.1:1")],
            "DATABASE_URL is not set",
        ),
        (
            "incident",
            vec![("TRUSTSAFE_AUTH_ISSUER", "trustsafe-dev")],
            "only accepted in dev mode",
        ),
    ];
    for (service, env, says) in cases {
        let mut command = serve(service, port);
        command
            .env_remove("DATABASE_URL")
            .env_remove("KAFKA_BROKERS")
            .env_remove("TRUSTSAFE_INCIDENT_URL");
        for (key, value) in env {
            command.env(key, value);
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains(says),
            "{service}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
