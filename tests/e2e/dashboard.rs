//! The web dashboard in a real headless Chromium (Debian's `chromium`, driven by `playwright-core`
//! from `tests/browser`), over the demo history `trustsafe dev` writes on its first start.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use uuid::Uuid;

use crate::dev::{Dev, free_ports, interrupt, start_dev_with_demo_history, wait_ready};

/// `tests/browser` of the checkout being tested: cargo says which at run time (a build shared with
/// another clone of the repository may carry that clone's path).
fn browser_tests() -> PathBuf {
    let manifest_dir =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    Path::new(&manifest_dir).join("../tests/browser")
}

/// playwright-core, installed from the committed lock file the first time.
fn install_playwright() {
    let dir = browser_tests();
    if dir.join("node_modules/playwright-core").exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("npm runs (the browser test needs Node.js and npm)");
    assert!(status.success(), "npm ci in {}", dir.display());
}

/// How many concerns and breaches `trustsafe dev` says it wrote, once it has said so.
async fn demo_history(stdout: &Path, dev: &mut Dev) -> (i64, i64) {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let printed = std::fs::read_to_string(stdout).unwrap_or_default();
        let count = |prefix: &str| {
            printed
                .lines()
                .find_map(|line| line.strip_prefix(prefix))
                .and_then(|rest| rest.split_whitespace().next())
                .map(|count| count.parse::<i64>().unwrap())
        };
        if let (Some(concerns), Some(breaches)) = (count("demo history: "), count("demo filtering: ")) {
            return (concerns, breaches);
        }
        if let Some(status) = dev.child().try_wait().unwrap() {
            panic!("trustsafe dev exited ({status}):\n{printed}");
        }
        assert!(
            Instant::now() < deadline,
            "no demo history within three minutes:\n{printed}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn concerns(dashboard: &Value) -> i64 {
    dashboard["total"]["concerns_by_category"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_i64().unwrap())
        .sum()
}

/// Where each school's roster stands with its own policy, as reporting counts it from the log, is what
/// the aup service itself says (`aup-compliance`, asked by the school's DSL); and the demo's grants and
/// visitors are counted, none given without a current agreement.
async fn acceptable_use_agrees_with_the_aup_service<G, F>(get: &G, token: &dyn Fn(&str) -> String)
where
    G: Fn(String, Option<String>) -> F,
    F: std::future::Future<Output = Value>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    for trust in ["viking", "claremont"] {
        let lead = token(&format!("{trust} trust_safeguarding_lead"));
        loop {
            let figures = get(
                format!("/api/v1/trusts/{trust}/acceptable-use"),
                Some(lead.clone()),
            )
            .await;
            let mut differences = Vec::new();
            for (school, counted) in figures["schools"].as_object().unwrap() {
                let own = get(
                    format!("/api/v1/schools/{school}/aup-compliance"),
                    Some(token(&format!("{school} dsl"))),
                )
                .await;
                let mut says = serde_json::Map::new();
                for count in own["counts"].as_array().unwrap() {
                    let audience = count["audience"].as_str().unwrap();
                    let row = says.entry(audience).or_insert_with(|| serde_json::json!({}));
                    row[count["standing"].as_str().unwrap()] = count["people"].clone();
                }
                if counted["compliance"] != Value::Object(says) || counted["unplaced"] != own["unplaced"] {
                    differences.push(format!("{school}: reporting {counted} against aup {own}"));
                }
            }
            let total = &figures["total"];
            if differences.is_empty() && total["grants"]["in_force"].as_i64().unwrap() > 0 {
                assert_eq!(total["grants"]["granted_without_agreement"], 0, "{figures}");
                let visitors: i64 = total["visitors_by_month"]
                    .as_object()
                    .unwrap()
                    .values()
                    .map(|n| n.as_i64().unwrap())
                    .sum();
                let schools = figures["schools"].as_object().unwrap().len() as i64;
                assert!(visitors >= 2 * schools, "each school's demo visitors: {figures}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "reporting's acceptable use disagrees with the aup service after a minute: {differences:?} {figures}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_the_signing_page_in_a_real_browser() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "the browser test needs Chromium at {chromium}: apt-get install chromium, or set CHROMIUM"
    );
    install_playwright();

    let data_dir = std::env::temp_dir().join(format!("trustsafe-e2e-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let stdout_path = data_dir.join("stdout.txt");
    let ports = free_ports();
    let mut dev =
        start_dev_with_demo_history(&data_dir, &ports, std::fs::File::create(&stdout_path).unwrap());
    wait_ready(&ports, &mut dev).await;
    let (written, breaches_written) = demo_history(&stdout_path, &mut dev).await;
    assert!(written > 150, "a year across four schools: {written}");
    assert!(
        breaches_written > 100,
        "a year of filtering across four schools: {breaches_written}"
    );

    // Reporting has caught up when both trusts' dashboards count every concern and breach written.
    let base = format!("http://127.0.0.1:{}", ports.http);
    let client = reqwest::Client::new();
    let get = |path: String, token: Option<String>| {
        let request = client.get(format!("{base}{path}"));
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let users = get("/dev/demo-users".into(), None).await;
    let token = |who: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|user| user["who"] == who)
            .unwrap_or_else(|| panic!("a demo user {who}"))["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (mut counted, mut breaches_counted) = (0, 0);
        for trust in ["viking", "claremont"] {
            let lead = token(&format!("{trust} trust_safeguarding_lead"));
            let dashboard = get(format!("/api/v1/trusts/{trust}/dashboard"), Some(lead.clone())).await;
            counted += concerns(&dashboard);
            // Every breach, whenever first seen (the demo's year may start before the default period).
            let filtering = get(
                format!("/api/v1/trusts/{trust}/filtering?from=2000-01"),
                Some(lead),
            )
            .await;
            breaches_counted += filtering["total"]["by_category"]
                .as_object()
                .unwrap()
                .values()
                .map(|n| n.as_i64().unwrap())
                .sum::<i64>();
        }
        if counted == written && breaches_counted == breaches_written {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "reporting counted {counted} of {written} concerns and {breaches_counted} of \
             {breaches_written} breaches after two minutes"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    acceptable_use_agrees_with_the_aup_service(&get, &token).await;

    let in_chromium = |script: &str| {
        Command::new("node")
            .arg(browser_tests().join(script))
            .arg(&base)
            .env("CHROMIUM", &chromium)
            .status()
            .expect("node runs")
            .success()
    };
    let dashboard = in_chromium("dashboard.mjs");
    let signing = in_chromium("signing.mjs");
    interrupt(dev);
    assert!(
        dashboard,
        "the dashboard's browser test failed (its steps are above)"
    );
    assert!(
        signing,
        "the signing page's browser test failed (its steps are above)"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}
