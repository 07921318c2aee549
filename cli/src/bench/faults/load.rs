//! The steady load of the crash matrix: concerns reported at RAPS through the gateway, each then
//! acknowledged by a DSL (two events on the concern's stream, so its order can be checked). A client
//! whose answer is lost to a kill asks again, as a real one would: the report with the same
//! Idempotency-Key, the acknowledgement at the version it read.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use reqwest::header::{ETAG, IF_MATCH};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use uuid::Uuid;

/// How long a client keeps asking before it gives a request up.
const GIVE_UP: Duration = Duration::from_secs(120);
const ASK_AGAIN: Duration = Duration::from_millis(500);

/// One concern's life, as its clients saw it.
#[derive(Default)]
pub(super) struct Life {
    /// The concern, once a report was answered 201.
    pub reported: Option<Uuid>,
    pub report_tries: u32,
    /// Answered 200, or found acknowledged after an answer was lost.
    pub acknowledged: bool,
    pub acknowledge_tries: u32,
}

/// Tokens of several staff and several DSLs, so the gateway's per-caller rate limit is not what a
/// trial meets when many clients ask again at once.
pub(super) struct Callers {
    pub staff: Vec<String>,
    pub dsls: Vec<String>,
}

pub(super) struct Load {
    stop: watch::Sender<bool>,
    task: JoinHandle<Vec<Life>>,
}

impl Load {
    /// Starts a concern every 1/`rate` s until [`Load::finish`].
    pub fn start(gateway_url: String, callers: Arc<Callers>, rate: u32) -> Load {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(steady(gateway_url, callers, rate, stopped));
        Load { stop, task }
    }

    /// Starts no more, and waits for every life begun to end.
    pub async fn finish(self) -> anyhow::Result<Vec<Life>> {
        let _ = self.stop.send(true);
        Ok(self.task.await?)
    }
}

async fn steady(
    base: String,
    callers: Arc<Callers>,
    rate: u32,
    mut stopped: watch::Receiver<bool>,
) -> Vec<Life> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(64)
        .build()
        .expect("an HTTP client");
    let run = Uuid::now_v7().simple().to_string();
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let started = Instant::now();
    let mut lives = Vec::new();
    for n in 0usize.. {
        tokio::select! {
            _ = stopped.changed() => break,
            _ = tokio::time::sleep_until(started + interval * n as u32) => {}
        }
        let (client, base, callers) = (client.clone(), base.clone(), callers.clone());
        let key = format!("{run}-{n}");
        lives.push(tokio::spawn(async move {
            let staff = &callers.staff[n % callers.staff.len()];
            let dsl = &callers.dsls[n % callers.dsls.len()];
            life(&client, &base, staff, dsl, &key).await
        }));
    }
    let mut ended = Vec::with_capacity(lives.len());
    for life in lives {
        ended.push(life.await.unwrap_or_default());
    }
    ended
}

async fn life(client: &reqwest::Client, base: &str, staff: &str, dsl: &str, key: &str) -> Life {
    let concerns = format!("{base}/api/v1/schools/raps/incidents");
    // The same body every time it is asked: the key promises one concern for one body.
    let report = json!({
        "category": "cyberbullying",
        "summary": format!("Faults bench concern {key}"),
        "description": "Unkind messages in a class group chat, reported by a teaching assistant.",
        "occurred_at": Utc::now() - chrono::Duration::minutes(30),
    });
    let deadline = Instant::now() + GIVE_UP;
    let mut life = Life::default();
    let (id, etag) = loop {
        life.report_tries += 1;
        let answer = client
            .post(&concerns)
            .bearer_auth(staff)
            .header("Idempotency-Key", key)
            .json(&report)
            .send()
            .await;
        if let Ok(answer) = answer
            && answer.status() == 201
        {
            let etag = answer.headers().get(ETAG).cloned();
            if let Ok(view) = answer.json::<Value>().await
                && let Some(id) = view["id"].as_str().and_then(|id| id.parse().ok())
            {
                break (id, etag);
            }
        }
        if Instant::now() > deadline {
            return life;
        }
        tokio::time::sleep(ASK_AGAIN).await;
    };
    life.reported = Some(id);

    let concern = format!("{concerns}/{id}");
    loop {
        life.acknowledge_tries += 1;
        let mut request = client.post(format!("{concern}/acknowledge")).bearer_auth(dsl);
        if let Some(etag) = &etag {
            request = request.header(IF_MATCH, etag);
        }
        match request.send().await.map(|answer| answer.status().as_u16()) {
            Ok(200) => {
                life.acknowledged = true;
                break;
            }
            // An earlier try took effect and its answer was lost: the concern says so.
            Ok(409 | 412) if status_of(client, &concern, dsl).await.as_deref() == Some("acknowledged") => {
                life.acknowledged = true;
                break;
            }
            _ => {}
        }
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(ASK_AGAIN).await;
    }
    life
}

async fn status_of(client: &reqwest::Client, concern: &str, dsl: &str) -> Option<String> {
    let view: Value = client
        .get(concern)
        .bearer_auth(dsl)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    view["status"].as_str().map(str::to_owned)
}
