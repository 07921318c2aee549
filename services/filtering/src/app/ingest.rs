//! Taking an upload: read it as it streams (`domain::upload`), then, in one transaction, decide which
//! breaches are new and which continue ones already kept, attribute users the roster knows, escalate
//! what is grave, add the hourly counts, and remember the upload so the same bytes are taken once.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use trustsafe_auth::{Caller, SchoolRole, Scope};
use trustsafe_events::filtering::{BreachSeenAgain, BreachSource};
use trustsafe_eventstore::AppendContext;
use trustsafe_servicekit::PseudonymKey;
use trustsafe_servicekit::scope::{SchoolPolicy, SchoolScope};
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::FilteringError;
use crate::domain::alerts::Alert;
use crate::domain::breaches::{self, Attribution, Feed};
use crate::domain::categories::{Normaliser, check_rule};
use crate::domain::feeds::{Format, LineParser, LocalClock};
use crate::domain::ingest::{Refusal, Sighted, Tally};
use crate::domain::life::Life;
use crate::domain::suppression::{self, Suppressions};
use crate::domain::upload::{Upload, UploadError};
use crate::store::{BreachStore, GatherKey, MoreSightings, NewBreach};
use trustsafe_events::filtering::CategoryRule;

/// Who sends a school's filter logs: its technician, or its filter's feed credential.
pub struct LogSenders;

impl SchoolPolicy for LogSenders {
    fn admits(caller: &Caller, school_id: &str, _trust_id: &str) -> bool {
        caller.has_school_role(school_id, SchoolRole::Technician)
            || caller.has_scope(school_id, Scope::FilterFeed)
    }
}

pub type SenderScope = SchoolScope<LogSenders>;

/// A line refused, and why.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RefusedLine {
    pub line: u64,
    pub reason: String,
}

/// What became of an upload's lines. Every line read is skipped, refused, in a breach or counted.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct UploadReport {
    pub format: Format,
    pub bytes: u64,
    pub lines_read: u64,
    /// Blank lines, comments, a CSV export's header, a FortiGate's other entries.
    pub lines_skipped: u64,
    /// Blocked or flagged requests, now (part of) a breach.
    pub lines_in_breaches: u64,
    /// Requests counted into the hourly figures alone (allowed, or supporting requests).
    pub lines_counted: u64,
    pub lines_refused: u64,
    /// Blocked or flagged requests a suppression rule covers: counted, not breaches.
    pub lines_suppressed: u64,
    /// The first 1,000 refused lines by number (all are counted in `lines_refused`).
    pub refused: Vec<RefusedLine>,
    pub breaches_recorded: u64,
    /// Breaches already kept that this upload's sightings continued (the same hour).
    pub breaches_continued: u64,
    /// Breaches escalated to a concern at once (severity 4 or more).
    pub breaches_escalated: u64,
    /// The same bytes were taken before: this is that upload's answer, and nothing changed.
    #[serde(default)]
    pub repeated: bool,
}

/// An alert refused, by its place in the push (from 0), and why.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RefusedAlert {
    pub index: u64,
    pub reason: String,
}

/// What became of a push of alerts: each is a breach (or joins one), or is refused.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertReport {
    pub alerts_read: u64,
    pub alerts_refused: u64,
    /// Alerts a suppression rule covers: not breaches.
    pub alerts_suppressed: u64,
    pub refused: Vec<RefusedAlert>,
    pub breaches_recorded: u64,
    pub breaches_continued: u64,
    pub breaches_escalated: u64,
    /// The same push was taken before: this is that answer, and nothing changed.
    #[serde(default)]
    pub repeated: bool,
}

/// What one upload or push kept.
pub struct Kept {
    recorded: u64,
    continued: u64,
    escalated: u64,
    /// The new breaches, in the order found.
    recorded_ids: Vec<Uuid>,
}

/// Who reports a breach (for themselves, or for a learner who told them): the school's staff, in any
/// of their roles, and the trust's safeguarding lead; not a governor, who works at no screen there.
pub struct Reporters;

impl SchoolPolicy for Reporters {
    fn admits(caller: &Caller, school_id: &str, trust_id: &str) -> bool {
        caller.has_trust_role(trust_id, trustsafe_auth::TrustRole::TrustSafeguardingLead)
            || caller
                .school_roles(school_id)
                .any(|role| role != SchoolRole::Governor)
    }
}

pub type ReporterScope = SchoolScope<Reporters>;

/// A report taken: the breach it is.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportAnswer {
    pub breach_id: Uuid,
    /// Escalated to a concern at once (severity 4 or more).
    pub escalated: bool,
}

fn refused_lines(tally: &Tally) -> Vec<RefusedLine> {
    tally
        .refusals
        .iter()
        .map(|Refusal { line, reason }| RefusedLine {
            line: *line,
            reason: reason.clone(),
        })
        .collect()
}

/// Whose breaches are kept, and who is acting.
struct Sender<'a> {
    school_id: &'a str,
    trust_id: &'a str,
    context: AppendContext,
}

pub struct Ingest {
    store: BreachStore,
    pseudonyms: Arc<PseudonymKey>,
}

impl Ingest {
    pub fn new(store: BreachStore, pseudonyms: Arc<PseudonymKey>) -> Self {
        Self { store, pseudonyms }
    }

    /// A reader for one upload, with the school's own category rules.
    pub async fn begin(
        &self,
        scope: &SenderScope,
        format: Format,
        zone: Tz,
    ) -> Result<Upload, FilteringError> {
        let rules = self.rules(&scope.school_id).await?;
        Ok(Upload::new(
            LineParser::new(format, LocalClock::new(zone)),
            Normaliser::new(&rules),
        )
        .suppressing(self.suppressions(&scope.school_id).await?))
    }

    /// The upload has been read to its end: keep what it found.
    pub async fn finish(
        &self,
        scope: &SenderScope,
        mut upload: Upload,
        format: Format,
    ) -> Result<UploadReport, FilteringError> {
        let digest = upload.finish().map_err(refused)?;
        let feed = Feed {
            source: BreachSource::Log,
            name: format.name(),
        };
        let tally = &upload.tally;
        let (report, repeated) = self
            .keep(
                &self.sender(scope),
                &digest,
                &feed,
                tally,
                upload.normaliser(),
                |kept| UploadReport {
                    format,
                    bytes: upload.bytes,
                    lines_read: tally.lines_read,
                    lines_skipped: tally.lines_skipped,
                    lines_in_breaches: tally.lines_in_breaches,
                    lines_counted: tally.lines_counted,
                    lines_refused: tally.lines_refused,
                    lines_suppressed: tally.lines_suppressed,
                    refused: refused_lines(tally),
                    breaches_recorded: kept.recorded,
                    breaches_continued: kept.continued,
                    breaches_escalated: kept.escalated,
                    repeated: false,
                },
            )
            .await?;
        Ok(UploadReport { repeated, ..report })
    }

    /// A monitor's push of alerts, each checked on its own (`refusals` are those that were not).
    pub async fn alerts(
        &self,
        scope: &SenderScope,
        digest: &str,
        alerts: &[Alert],
        refusals: Vec<Refusal>,
    ) -> Result<AlertReport, FilteringError> {
        let rules = self.rules(&scope.school_id).await?;
        let mut normaliser = Normaliser::new(&rules);
        let mut tally = Tally::suppressing(self.suppressions(&scope.school_id).await?);
        for alert in alerts {
            tally.request(&alert.as_line(), &mut normaliser);
        }
        let feed = Feed {
            source: BreachSource::Alert,
            name: "alerts",
        };
        let read = (alerts.len() + refusals.len()) as u64;
        let (report, repeated) = self
            .keep(&self.sender(scope), digest, &feed, &tally, &normaliser, |kept| {
                AlertReport {
                    alerts_read: read,
                    alerts_refused: refusals.len() as u64,
                    alerts_suppressed: tally.lines_suppressed,
                    refused: refusals
                        .iter()
                        .map(|Refusal { line, reason }| RefusedAlert {
                            index: line - 1,
                            reason: reason.clone(),
                        })
                        .collect(),
                    breaches_recorded: kept.recorded,
                    breaches_continued: kept.continued,
                    breaches_escalated: kept.escalated,
                    repeated: false,
                }
            })
            .await?;
        Ok(AlertReport { repeated, ..report })
    }

    /// A person's report (`sighting` checked by `domain::reports`). The same report sent twice by the
    /// same person is one breach.
    pub async fn report(
        &self,
        scope: &ReporterScope,
        sighting: &Alert,
        by_learner: bool,
        body: &str,
    ) -> Result<ReportAnswer, FilteringError> {
        let mut normaliser = Normaliser::new(&self.rules(&scope.school_id).await?);
        let mut tally = Tally::default();
        tally.request(&sighting.as_line(), &mut normaliser);
        let feed = Feed {
            source: BreachSource::Report,
            name: if by_learner {
                "learner_report"
            } else {
                "staff_report"
            },
        };
        let digest: String = Sha256::digest(format!("{}\n{body}", scope.caller.subject).as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let sender = Sender {
            school_id: &scope.school_id,
            trust_id: &scope.trust_id,
            context: super::acting(&self.pseudonyms, scope, "staff"),
        };
        let (answer, _) = self
            .keep(&sender, &digest, &feed, &tally, &normaliser, |kept| {
                kept.recorded_ids.first().map(|&breach_id| ReportAnswer {
                    breach_id,
                    escalated: kept.escalated > 0,
                })
            })
            .await?;
        answer.ok_or_else(|| FilteringError::Refused("The report made no breach.".into()))
    }

    async fn suppressions(&self, school_id: &str) -> Result<Suppressions, FilteringError> {
        let rules: Vec<_> = self
            .store
            .suppressions(school_id)
            .await?
            .iter()
            .filter_map(|rule| suppression::check(rule).ok())
            .collect();
        Ok(Suppressions::new(&rules))
    }

    async fn rules(&self, school_id: &str) -> Result<Vec<CategoryRule>, FilteringError> {
        Ok(self
            .store
            .rules(school_id)
            .await?
            .iter()
            .filter_map(|rule| check_rule(rule).ok())
            .collect())
    }

    /// In one transaction: the breaches `tally` found, new or continuing kept ones (illegal content
    /// never continues one), attributed where the roster knows the account and escalated when grave;
    /// the hourly counts; the answer `make` builds, kept under `digest` so the same bytes are taken
    /// once. A repeat answers the first answer, and `true`.
    async fn keep<R: Serialize + DeserializeOwned>(
        &self,
        sender: &Sender<'_>,
        digest: &str,
        feed: &Feed<'_>,
        tally: &Tally,
        normaliser: &Normaliser,
        make: impl FnOnce(Kept) -> R,
    ) -> Result<(R, bool), FilteringError> {
        let mut tx = self.store.pool().begin().await?;
        self.store.lock_school(&mut tx, sender.school_id).await?;
        if let Some(answer) = self
            .store
            .earlier_upload(&mut tx, sender.school_id, digest)
            .await?
        {
            let earlier = serde_json::from_value(answer).map_err(|err| {
                trustsafe_eventstore::StoreError::Corrupt(format!("an upload's answer: {err}"))
            })?;
            return Ok((earlier, true));
        }
        let hasher = self.pseudonyms.account_hasher(sender.trust_id);
        let hosts = self.pseudonyms.host_hasher(sender.trust_id);
        let hashes: Vec<Option<String>> = tally
            .breaches
            .iter()
            .map(|sighted| sighted.user.as_deref().map(|user| hasher.hash(user)))
            .collect();
        let known: Vec<String> = hashes.iter().flatten().cloned().collect();
        let accounts = self.store.accounts(&mut tx, sender.school_id, &known).await?;
        let categories: Vec<&str> = tally
            .breaches
            .iter()
            .map(|sighted| normaliser.category_name(sighted.normalised.category))
            .collect();
        let keys: Vec<GatherKey<'_>> = tally
            .breaches
            .iter()
            .zip(&categories)
            .map(|(sighted, category)| GatherKey {
                who: &sighted.key.who,
                host: &sighted.key.host,
                category,
                first_seen: breaches::time(sighted.first_seen),
            })
            .collect();
        let kept = self.store.latest_before(&mut tx, sender.school_id, &keys).await?;
        let now = Utc::now();
        let (mut new, mut more) = (Vec::new(), Vec::new());
        for (index, sighted) in tally.breaches.iter().enumerate() {
            let category = categories[index];
            let illegal = normaliser.is_illegal(sighted.normalised);
            // A person's report is a breach of its own, as illegal content always is.
            let gathers = !illegal && feed.source != BreachSource::Report;
            let continued = kept[index].as_ref().filter(|kept| {
                gathers && breaches::continues(kept.first_seen.timestamp(), sighted.first_seen)
            });
            match continued {
                Some(kept) => more.push(continue_breach(kept.clone(), sighted, now)),
                None => {
                    let attribution = hashes[index]
                        .as_ref()
                        .and_then(|hash| accounts.get(hash))
                        .copied();
                    let host_key = (!sighted.key.host.is_empty()).then(|| hosts.hash(&sighted.key.host));
                    new.push(new_breach(
                        sighted,
                        category,
                        feed,
                        (hashes[index].clone(), host_key),
                        attribution,
                        now,
                    ));
                }
            }
        }
        let hours: Vec<_> = tally
            .hours
            .iter()
            .map(|(hour, requests)| {
                (
                    breaches::time(hour.hour),
                    normaliser.category_name(hour.category).to_owned(),
                    hour.action.name(),
                    *requests as i64,
                )
            })
            .collect();
        let context = &sender.context;
        self.store
            .record_new(&mut tx, context, sender.school_id, &new)
            .await?;
        self.store.record_more(&mut tx, context, &more).await?;
        self.store.add_hours(&mut tx, sender.school_id, &hours).await?;
        let answer = make(Kept {
            recorded: new.len() as u64,
            continued: more.len() as u64,
            escalated: (new.iter().filter(|breach| breach.escalation.is_some()).count()
                + more.iter().filter(|more| more.escalation.is_some()).count()) as u64,
            recorded_ids: new.iter().map(|breach| breach.record.breach_id).collect(),
        });
        let stored = serde_json::to_value(&answer).expect("an answer serialises");
        self.store
            .save_upload(&mut tx, sender.school_id, digest, feed.name, &stored)
            .await?;
        tx.commit().await?;
        Ok((answer, false))
    }

    fn sender<'a>(&self, scope: &'a SenderScope) -> Sender<'a> {
        Sender {
            school_id: &scope.school_id,
            trust_id: &scope.trust_id,
            context: self.context(scope),
        }
    }

    fn context(&self, scope: &SenderScope) -> AppendContext {
        let role = if scope
            .caller
            .has_school_role(&scope.school_id, SchoolRole::Technician)
        {
            "technician"
        } else {
            "filter_feed"
        };
        super::acting(&self.pseudonyms, scope, role)
    }
}

/// Why an upload could not be read at all.
pub fn refused(err: UploadError) -> FilteringError {
    match err {
        UploadError::Header(reason) => FilteringError::Refused(reason),
        UploadError::Gzip(reason) => FilteringError::Refused(format!("The gzip stream is broken: {reason}.")),
        UploadError::TooLarge(limit) => FilteringError::Refused(format!(
            "The log inflates to more than {limit} bytes; send it in parts."
        )),
    }
}

fn new_breach(
    sighted: &Sighted,
    category: &str,
    feed: &Feed<'_>,
    (account_hash, host_key): (Option<String>, Option<String>),
    attribution: Option<Attribution>,
    now: DateTime<Utc>,
) -> NewBreach {
    let id = Uuid::now_v7();
    let record = breaches::recorded(
        id,
        sighted,
        category,
        feed,
        account_hash,
        host_key,
        attribution,
        now,
    );
    let escalation = breaches::automatic_escalation(id, category, record.severity, sighted.first_seen);
    NewBreach {
        life: Life::recorded(&record, escalation.is_some(), now),
        escalation,
        who: sighted.key.who.clone(),
        record,
    }
}

fn continue_breach(kept: crate::store::Continued, sighted: &Sighted, now: DateTime<Utc>) -> MoreSightings {
    let severity = kept.severity.max(sighted.normalised.severity);
    let escalation = (!kept.life.escalated)
        .then(|| {
            breaches::automatic_escalation(kept.id, &kept.category, severity, kept.first_seen.timestamp())
        })
        .flatten();
    let mut life = kept.life.clone();
    life.seen_again(severity, escalation.is_some(), now);
    MoreSightings {
        seen: BreachSeenAgain {
            breach_id: kept.id,
            count: sighted.count,
            last_seen: breaches::time(sighted.last_seen).max(kept.last_seen),
            severity,
            triage_by: life.triage_due,
        },
        life,
        escalation,
        breach: kept,
    }
}
