use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;

use trustsafe_events::topics;
use trustsafe_eventstore::kafka::SharedLog;
use uuid::Uuid;

pub struct Ports {
    pub http: u16,
    pub kafka: u16,
    pub postgres: u16,
}

/// Ports nobody listens on; `http` is followed by four more free ones for the services. Ranges handed
/// out in this process are never handed out again: a test's ports are free until its processes bind
/// them, which can be after another test asks.
pub fn free_ports() -> Ports {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap();
    let free = |port: u16| TcpListener::bind(("127.0.0.1", port)).is_ok();
    let base = (20000..60000)
        .step_by(7)
        .map(|port: u16| port + (std::process::id() % 7) as u16)
        .filter(|port| !given.contains(port))
        .find(|&port| (port..port + 7).all(free))
        .expect("seven free ports");
    given.push(base);
    Ports {
        http: base,
        kafka: base + 5,
        postgres: base + 6,
    }
}

/// A running `trustsafe dev`. A test that fails before it calls [`interrupt`] still stops it, so no
/// stray platform keeps its ports (and its private PostgreSQL) for the tests after.
pub struct Dev(Option<Child>);

impl Dev {
    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("dev is running until interrupted")
    }

    /// Sends `signal` to its process group, as a terminal does with Ctrl-C.
    pub fn signal_group(&mut self, signal: &str) {
        let pid = self.child().id();
        let status = Command::new("kill")
            .args(["-s", signal, "--", &format!("-{pid}")])
            .status()
            .unwrap();
        assert!(status.success(), "kill -s {signal}");
    }

    /// Waits for it to end by itself.
    pub fn wait_exit(mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child().try_wait().unwrap() {
                self.0 = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "trustsafe dev still running after {within:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `trustsafe dev` on `ports`, without the demo history, so a test counts only what it writes.
pub fn start_dev(data_dir: &Path, ports: &Ports) -> Dev {
    let child = dev_command(data_dir, ports)
        .arg("--no-demo-history")
        .stdout(Stdio::null())
        .spawn()
        .expect("trustsafe dev starts");
    Dev(Some(child))
}

/// `trustsafe dev` as a newcomer runs it, demo history included, printing to `stdout`.
pub fn start_dev_with_demo_history(data_dir: &Path, ports: &Ports, stdout: std::fs::File) -> Dev {
    let child = dev_command(data_dir, ports)
        .stdout(stdout)
        .spawn()
        .expect("trustsafe dev starts");
    Dev(Some(child))
}

fn dev_command(data_dir: &Path, ports: &Ports) -> Command {
    let mut command = trustsafe(data_dir, ports);
    // A process group of its own, as a terminal gives a command: Ctrl-C reaches the whole group.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command
        .arg("dev")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--http-port", &ports.http.to_string()]);
    command
}

/// A `trustsafe dev` of a test's own, without demo history, ready to answer: where its data is, its
/// ports, and the process.
pub async fn started_platform() -> (std::path::PathBuf, Ports, Dev) {
    let data_dir = std::env::temp_dir().join(format!("trustsafe-e2e-{}", Uuid::now_v7().simple()));
    let ports = free_ports();
    let mut dev = start_dev(&data_dir, &ports);
    wait_ready(&ports, &mut dev).await;
    (data_dir, ports, dev)
}

/// The demo users' tokens `trustsafe dev` wrote to its data dir, by who they are (`raps dsl`).
pub struct DemoTokens(String);

impl DemoTokens {
    pub fn of(data_dir: &Path) -> DemoTokens {
        DemoTokens(std::fs::read_to_string(data_dir.join("demo-tokens.txt")).unwrap())
    }

    pub fn get(&self, who: &str) -> String {
        self.0
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{who}\t")))
            .unwrap_or_else(|| panic!("a demo token for {who}"))
            .to_owned()
    }
}

/// The `trustsafe` binary as a newcomer runs it on `data_dir`: a private PostgreSQL, and the embedded
/// broker, or, when `KAFKA_BROKERS` is set (the suites against Apache Kafka), a namespace of the data
/// dir's own there. Add the subcommand and its `--data-dir`.
pub fn trustsafe(data_dir: &Path, ports: &Ports) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trustsafe"));
    command
        .env_remove("DATABASE_URL")
        .env("TRUSTSAFE_KAFKA_PORT", ports.kafka.to_string())
        .env("TRUSTSAFE_POSTGRES_PORT", ports.postgres.to_string())
        .env("RUST_LOG", "warn");
    match std::env::var("KAFKA_BROKERS") {
        Ok(_) => command.env("TRUSTSAFE_KAFKA_NAMESPACE", namespace(data_dir)),
        Err(_) => command.env_remove("TRUSTSAFE_KAFKA_NAMESPACE"),
    };
    command
}

/// Where the `trustsafe dev` of `data_dir` keeps its log.
pub fn dev_log(data_dir: &Path, ports: &Ports) -> SharedLog {
    match std::env::var("KAFKA_BROKERS") {
        Ok(brokers) => SharedLog::new(brokers)
            .with_namespace(namespace(data_dir))
            .unwrap(),
        Err(_) => SharedLog::new(format!("127.0.0.1:{}", ports.kafka)),
    }
}

fn namespace(data_dir: &Path) -> String {
    let name = data_dir.file_name().unwrap().to_string_lossy();
    format!("{}.", name.trim_start_matches('.'))
}

/// Every service ready (database and broker included), then the gateway in front of them.
pub async fn wait_ready(ports: &Ports, dev: &mut Dev) {
    let child = dev.child();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    for service_port in (ports.http + 1..=ports.http + 4).chain([ports.http]) {
        let url = format!("http://127.0.0.1:{service_port}/readyz");
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("trustsafe dev exited early: {status}");
            }
            let response = client.get(&url).send().await;
            if let Ok(response) = response
                && response.status() == 200
            {
                let body: serde_json::Value = response.json().await.unwrap();
                if service_port != ports.http {
                    assert_eq!(body["checks"]["broker"], "ok");
                    assert_eq!(body["checks"]["database"], "ok");
                }
                break;
            }
            assert!(Instant::now() < deadline, "{url} not ready within two minutes");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Ctrl-C, as a person would press it; everything must stop cleanly.
pub fn interrupt(mut dev: Dev) {
    let mut child = dev.0.take().expect("dev is running");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "trustsafe dev exited with {status} on Ctrl-C");
            return;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("trustsafe dev did not stop within a minute of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The distinct event ids on the audit topic, once `expected` of them are there.
async fn audit_topic_ids(log: &SharedLog, expected: usize) -> Vec<String> {
    let records =
        trustsafe_testkit::read_topic(log, topics::AUDIT, expected, Duration::from_secs(20), |_| true).await;
    trustsafe_testkit::distinct_ids(&records).into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_runs_everything_stops_on_ctrl_c_and_finds_its_data_again() {
    // Under /tmp: when run as root, PostgreSQL runs as the postgres user, who must reach the data.
    let data_dir = std::env::temp_dir().join(format!("trustsafe-e2e-{}", Uuid::now_v7().simple()));
    let ports = free_ports();
    let log = dev_log(&data_dir, &ports);

    let mut dev = start_dev(&data_dir, &ports);
    wait_ready(&ports, &mut dev).await;
    let demo_tokens = DemoTokens::of(&data_dir);
    demo_tokens.get("viking trust_safeguarding_lead");

    // A member of staff reports through the gateway with their demo token; the DSL reads it, and
    // that read is audited on the shared log.
    let token = |who: &str| demo_tokens.get(who);
    let gateway = format!("http://127.0.0.1:{}", ports.http);
    let client = reqwest::Client::new();
    let reported = client
        .post(format!("{gateway}/api/v1/schools/raps/incidents"))
        .bearer_auth(token("raps staff"))
        .json(&serde_json::json!({
            "category": "cyberbullying",
            "summary": "Unkind messages in the Year 6 group chat",
            "description": "A pupil showed me the messages at lunch.",
            "occurred_at": Utc::now(),
            "people": [{"person_ref": "UPN-E2E1", "kind": "pupil", "role": "victim"}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(reported.status(), 201);
    let location = format!("{gateway}{}", reported.headers()["location"].to_str().unwrap());
    let read = |location: String| {
        let (client, dsl) = (client.clone(), token("raps dsl"));
        async move {
            let response = client.get(location).bearer_auth(dsl).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<serde_json::Value>().await.unwrap()
        }
    };
    let concern = read(location.clone()).await;
    assert_eq!(concern["status"], "reported");
    // Two reads are audited: the report's own answer (the concern as its reporter sees it) and the
    // DSL's read. Waiting for only one could stop before the other, on another partition.
    let published = audit_topic_ids(&log, 2).await;
    interrupt(dev);

    // Second start on the same data dir: the database and the log are as they were.
    let mut dev = start_dev(&data_dir, &ports);
    wait_ready(&ports, &mut dev).await;
    assert_eq!(
        read(location).await["id"],
        concern["id"],
        "the concern is still there"
    );
    let after = audit_topic_ids(&log, 3).await;
    // Each answer's audit is a stream of its own, so the three may sit on different partitions and
    // arrive in any order.
    assert!(
        published.iter().all(|id| after.contains(id)) && after.len() == 3,
        "the broker kept its record, and the second read joined it: {published:?} then {after:?}"
    );
    interrupt(dev);

    // With dev stopped, the reporting read model is rebuilt from the log: the one concern's report.
    let replay = trustsafe(&data_dir, &ports)
        .args(["replay", "reporting", "--data-dir"])
        .arg(&data_dir)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&replay.stdout);
    assert!(
        replay.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(printed.contains("reporting rebuilt from 1 events"), "{printed}");
    assert!(
        printed.contains("reporting's breaches and duties rebuilt from 0 events"),
        "{printed}"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[test]
fn dev_refuses_to_put_the_demo_sign_in_on_the_network_unless_told() {
    let data_dir = std::env::temp_dir().join(format!("trustsafe-e2e-{}", Uuid::now_v7().simple()));
    let ports = free_ports();
    let output = trustsafe(&data_dir, &ports)
        .args(["dev", "--http-host", "0.0.0.0", "--data-dir"])
        .arg(&data_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("--expose-demo-sign-in"), "{stderr}");
    assert!(
        !data_dir.join("postgres").exists(),
        "refused before anything started"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_writes_its_demo_tokens_for_its_user_alone() {
    use std::os::unix::fs::PermissionsExt;
    let data_dir = std::env::temp_dir().join(format!("trustsafe-e2e-{}", Uuid::now_v7().simple()));
    let ports = free_ports();
    let mut dev = start_dev(&data_dir, &ports);
    wait_ready(&ports, &mut dev).await;
    let mode = std::fs::metadata(data_dir.join("demo-tokens.txt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "demo-tokens.txt is {mode:o}");
    interrupt(dev);
    let _ = std::fs::remove_dir_all(&data_dir);
}
