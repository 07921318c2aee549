//! A fresh database, a real broker, the reporting service and the gateway in front of it; and the
//! incident events of a seeded scenario, produced to the broker as the incident service publishes them.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use trustsafe_events::incident::{
    Category, ConcernSource, HandledBy, IncidentAcknowledged, IncidentClosed, IncidentEscalatedToTrust,
    IncidentReopened, IncidentReported, IncidentStepCompleted, PlannedStep, ReportNarrative,
};
use trustsafe_events::{Actor, Envelope, Event, KafkaRecord, TraceContext, to_kafka, topics};
use trustsafe_testkit as testkit;
use uuid::Uuid;

/// The test kit's app running the reporting service, with this service's helpers.
pub struct TestApp(testkit::TestApp);

impl std::ops::Deref for TestApp {
    type Target = testkit::TestApp;

    fn deref(&self) -> &testkit::TestApp {
        &self.0
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp(testkit::TestApp::spawn(&trustsafe_reporting::SERVICE).await)
    }

    pub async fn stop(self) {
        self.0.stop().await;
    }

    pub async fn produce(&self, records: &[KafkaRecord]) {
        testkit::produce(self.broker.log(), topics::INCIDENT, records).await;
    }

    /// Waits until the read model of the concerns has handled `events` distinct events.
    pub async fn applied(&self, events: i64) {
        self.consumed("reporting.concerns", events).await;
    }
}

/// The read model as one comparable text.
pub async fn read_model(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws(' | ',
            (SELECT string_agg(row_to_json(c)::text, ',' ORDER BY incident_id) FROM concerns c),
            (SELECT string_agg(row_to_json(s)::text, ',' ORDER BY incident_id, step_id) FROM concern_steps s),
            (SELECT string_agg(row_to_json(m)::text, ',' ORDER BY school_id, month, category, school_sees) FROM monthly_counts m
              WHERE reported <> 0 OR closed <> 0),
            (SELECT string_agg(row_to_json(a)::text, ',' ORDER BY school_id, month, school_sees) FROM monthly_acknowledgements a))",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The rollups the projection kept are what the concerns themselves add up to (`refresh_rollups()`
/// recomputes them from the concerns).
pub async fn rollups_agree_with_the_concerns(pool: &PgPool) {
    let kept = read_model(pool).await;
    sqlx::query("SELECT refresh_rollups()")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        read_model(pool).await,
        kept,
        "the rollups agree with the concerns"
    );
}

/// The incident events of one concern, in order, as the incident service publishes them.
pub struct Concern {
    pub id: Uuid,
    pub school: &'static str,
    pub trust: &'static str,
    pub events: Vec<KafkaRecord>,
    /// Versions of the stream produced before these events (a continued concern's earlier ones).
    earlier: i64,
}

impl Concern {
    pub fn reported(
        trust: &'static str,
        school: &'static str,
        category: Category,
        at: DateTime<Utc>,
        steps: &[(&str, Option<DateTime<Utc>>)],
    ) -> Concern {
        let id = Uuid::now_v7();
        let mut concern = Concern {
            id,
            school,
            trust,
            events: Vec::new(),
            earlier: 0,
        };
        concern.push(
            at,
            &IncidentReported {
                incident_id: id,
                category,
                occurred_at: at,
                source: ConcernSource::StaffReport,
                subject_staff_role: None,
                staff_involved: false,
                device_involved: false,
                immediate_risk: false,
                acknowledge_by: at + chrono::Duration::hours(1),
                steps: steps
                    .iter()
                    .map(|(step, due)| PlannedStep {
                        step_id: (*step).into(),
                        title: format!("Do {step}"),
                        due_at: *due,
                        completed_by_referral: None,
                    })
                    .collect(),
                workflow_version: 0,
                handled_by: HandledBy::Dsl,
                alleged: Vec::new(),
                // Never published: the incident service's relay drops it.
                restricted: None::<ReportNarrative>,
            },
        );
        concern
    }

    fn push<E: Event>(&mut self, at: DateTime<Utc>, event: &E) {
        self.events.push(to_kafka(&Envelope {
            event_id: Uuid::now_v7(),
            event_type: E::TYPE.into(),
            source: "/trustsafe/incident".into(),
            stream_id: format!("incident-{}", self.id),
            stream_version: self.earlier + self.events.len() as i64 + 1,
            trust_id: self.trust.into(),
            school_id: Some(self.school.into()),
            occurred_at: at,
            recorded_at: at,
            actor: Actor::person("someone", "dsl"),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            trace: TraceContext::default(),
            data: serde_json::to_value(event).unwrap(),
        }));
    }

    /// The same report, handled by `handled_by` and naming `alleged` (their pseudonyms) as alleged.
    pub fn routed(mut self, handled_by: HandledBy, alleged: &[String]) -> Self {
        let report = &mut self.events[0];
        let mut data: serde_json::Value = serde_json::from_slice(&report.value).unwrap();
        data["handled_by"] = serde_json::to_value(handled_by).unwrap();
        data["alleged"] = serde_json::to_value(alleged).unwrap();
        report.value = serde_json::to_vec(&data).unwrap();
        self
    }

    /// Further events of the same concern.
    pub fn continued(&self) -> Concern {
        Concern {
            id: self.id,
            school: self.school,
            trust: self.trust,
            events: Vec::new(),
            earlier: self.earlier + self.events.len() as i64,
        }
    }

    pub fn acknowledged(mut self, at: DateTime<Utc>) -> Self {
        let event = IncidentAcknowledged {
            incident_id: self.id,
            acknowledged_at: at,
        };
        self.push(at, &event);
        self
    }

    pub fn step_completed(mut self, step: &str, at: DateTime<Utc>) -> Self {
        let event = IncidentStepCompleted {
            incident_id: self.id,
            step_id: step.into(),
            completed_at: at,
            by_referral: None,
            restricted: None,
        };
        self.push(at, &event);
        self
    }

    pub fn escalated(mut self, at: DateTime<Utc>) -> Self {
        let event = IncidentEscalatedToTrust {
            incident_id: self.id,
            escalated_at: at,
            restricted: None,
        };
        self.push(at, &event);
        self
    }

    pub fn closed(mut self, at: DateTime<Utc>) -> Self {
        let event = IncidentClosed {
            incident_id: self.id,
            closed_at: at,
            overridden_steps: Vec::new(),
            restricted: None,
        };
        self.push(at, &event);
        self
    }

    pub fn reopened(mut self, at: DateTime<Utc>) -> Self {
        let event = IncidentReopened {
            incident_id: self.id,
            reopened_at: at,
            restricted: None,
        };
        self.push(at, &event);
        self
    }
}
