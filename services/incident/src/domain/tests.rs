//! Given a concern's history, when someone commands, then these events (or this refusal).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use trustsafe_auth::{SchoolRole, TrustRole};
use trustsafe_events::Actor;
use trustsafe_events::incident::{
    Agency, Category, ConcernSource, IncidentReported, PersonInvolved, PersonKind, PersonRole,
    SubjectStaffRole,
};
use uuid::Uuid;

use super::DomainError;
use super::access::{Access, Viewer};
use super::concern::{Command, Concern, ConcernEvent, Context, NewReport, Status, report};
use super::workflow::defaults;

/// 2026-11-18 is a Wednesday.
fn reported_at() -> DateTime<Utc> {
    "2026-11-18T10:00:00Z".parse().unwrap()
}

fn viewer(subject: &str, roles: &[SchoolRole]) -> Viewer {
    Viewer {
        subject: subject.into(),
        school_roles: roles.iter().copied().collect(),
        trust_roles: BTreeSet::new(),
    }
}

fn dsl() -> Viewer {
    viewer("raps-dsl", &[SchoolRole::Dsl])
}
/// At RAPS the DSL is the head of school.
fn dsl_who_is_head() -> Viewer {
    viewer("raps-head", &[SchoolRole::Dsl, SchoolRole::Headteacher])
}
fn reporter() -> Viewer {
    viewer("raps-teacher", &[SchoolRole::Staff])
}
fn other_staff() -> Viewer {
    viewer("raps-ta", &[SchoolRole::Staff])
}
fn trust_lead() -> Viewer {
    Viewer {
        subject: "viking-lead".into(),
        school_roles: BTreeSet::new(),
        trust_roles: [TrustRole::TrustSafeguardingLead].into(),
    }
}

fn new_report(category: Category) -> NewReport {
    NewReport {
        category,
        summary: "Indecent image found on a class laptop".into(),
        description: "A pupil showed me a folder on laptop 14.".into(),
        occurred_at: reported_at() - Duration::minutes(30),
        location: Some("Year 5 classroom".into()),
        subject_staff_role: None,
        people: vec![PersonInvolved {
            person_ref: Some("UPN-A123".into()),
            person_id: None,
            kind: PersonKind::Pupil,
            role: PersonRole::Witness,
        }],
        roster: HashMap::new(),
        device_involved: true,
        immediate_risk: false,
        source: ConcernSource::StaffReport,
    }
}

/// A concern's history, built event by event.
struct Given {
    history: Vec<(ConcernEvent, Actor, DateTime<Utc>)>,
    clock: DateTime<Utc>,
}

fn actor(viewer: &Viewer) -> Actor {
    Actor {
        subject: viewer.subject.clone(),
        role: viewer.school_role().map(|role| format!("{role:?}")),
        pseudonym: None,
    }
}

fn given(new: NewReport, by: &Viewer) -> Given {
    let reported = report(
        new,
        Some(by),
        (&defaults(), 0),
        Uuid::now_v7(),
        reported_at(),
        &|person_ref| format!("pseudonym of {person_ref}"),
    )
    .expect("a valid report");
    Given {
        history: vec![(ConcernEvent::Reported(reported), actor(by), reported_at())],
        clock: reported_at(),
    }
}

impl Given {
    fn concern(&self) -> Concern {
        Concern::replay("raps", &self.history).unwrap()
    }

    fn reported(&self) -> &IncidentReported {
        match &self.history[0].0 {
            ConcernEvent::Reported(reported) => reported,
            _ => unreachable!(),
        }
    }

    /// What `command` by `by` decides, ten minutes after the last event.
    fn when(&self, command: Command, by: &Viewer) -> Result<Vec<ConcernEvent>, DomainError> {
        self.concern().handle(
            command,
            &Context {
                viewer: by,
                now: self.clock + Duration::minutes(10),
                new_id: Uuid::now_v7(),
            },
        )
    }

    /// Applies what `command` decides, which must be accepted.
    fn and(mut self, command: Command, by: &Viewer) -> Self {
        let events = self.when(command, by).expect("accepted");
        self.clock += Duration::minutes(10);
        for event in events {
            self.history.push((event, actor(by), self.clock));
        }
        self
    }
}

fn close() -> Command {
    Command::Close {
        outcome: "Devices handed to the police; pupil supported.".into(),
        lessons_learned: "Laptop folders are now checked weekly.".into(),
        override_reason: None,
    }
}

fn step_ids(events: &[ConcernEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|event| match event {
            ConcernEvent::StepCompleted(step) => Some(step.step_id.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_report_of_indecent_images_plans_the_policy_steps_and_an_hour_to_acknowledge() {
    let given = given(new_report(Category::IndecentImagesOfChildren), &reporter());
    let reported = given.reported();
    assert_eq!(reported.acknowledge_by, reported_at() + Duration::hours(1));
    let steps: Vec<&str> = reported.steps.iter().map(|step| step.step_id.as_str()).collect();
    assert_eq!(
        steps,
        [
            "secure_devices",
            "iwf_report",
            "police_report",
            "delete_copies",
            "parents_informed",
            "debrief"
        ]
    );
    assert_eq!(reported.steps[0].due_at, Some(reported_at() + Duration::hours(1)));
    assert_eq!(
        reported.steps[3].due_at,
        Some("2026-11-19T10:00:00Z".parse().unwrap()),
        "delete copies within one working day"
    );
    let narrative = reported.restricted.as_ref().unwrap();
    assert_eq!(narrative.people[0].person_ref.as_deref(), Some("UPN-A123"));
    let concern = given.concern();
    assert_eq!(concern.status, Status::Reported);
    assert!(!concern.acknowledgement_overdue(reported_at() + Duration::minutes(59)));
    assert!(concern.acknowledgement_overdue(reported_at() + Duration::minutes(61)));
}

#[test]
fn a_member_of_staff_involved_brings_the_head_and_the_lado() {
    let mut new = new_report(Category::IndecentImagesOfChildren);
    new.people.push(PersonInvolved {
        person_ref: Some("STAFF-77".into()),
        person_id: None,
        kind: PersonKind::Staff,
        role: PersonRole::Alleged,
    });
    let given = given(new, &reporter());
    let reported = given.reported();
    assert!(reported.staff_involved);
    let lado = reported
        .steps
        .iter()
        .find(|step| step.step_id == "lado_referral")
        .expect("LADO");
    assert_eq!(lado.due_at, Some("2026-11-19T10:00:00Z".parse().unwrap()));
}

#[test]
fn only_staff_report_and_a_staff_conduct_concern_says_whom_it_is_about() {
    let governor = viewer("raps-governor", &[SchoolRole::Governor]);
    let refused = report(
        new_report(Category::Cyberbullying),
        Some(&governor),
        (&defaults(), 0),
        Uuid::now_v7(),
        reported_at(),
        &str::to_owned,
    );
    assert!(matches!(refused, Err(DomainError::Forbidden(_))));

    let refused = report(
        new_report(Category::StaffOnlineConduct),
        Some(&reporter()),
        (&defaults(), 0),
        Uuid::now_v7(),
        reported_at(),
        &str::to_owned,
    );
    assert_eq!(
        refused.unwrap_err(),
        DomainError::invalid(
            "subject_staff_role",
            "is required for a staff-conduct concern: staff, dsl or headteacher"
        )
    );

    let mut future = new_report(Category::Cyberbullying);
    future.occurred_at = reported_at() + Duration::hours(2);
    let refused = report(
        future,
        Some(&reporter()),
        (&defaults(), 0),
        Uuid::now_v7(),
        reported_at(),
        &str::to_owned,
    );
    assert!(matches!(refused, Err(DomainError::Invalid { field, .. }) if field == "occurred_at"));

    let mut blank = new_report(Category::Cyberbullying);
    blank.summary = "   ".into();
    let refused = report(
        blank,
        Some(&reporter()),
        (&defaults(), 0),
        Uuid::now_v7(),
        reported_at(),
        &str::to_owned,
    );
    assert!(matches!(refused, Err(DomainError::Invalid { field, .. }) if field == "summary"));
}

#[test]
fn the_dsl_acknowledges_once_and_the_reporter_may_not() {
    let given = given(new_report(Category::Cyberbullying), &reporter());
    let events = given.when(Command::Acknowledge, &dsl()).unwrap();
    assert!(matches!(events.as_slice(), [ConcernEvent::Acknowledged(_)]));

    assert!(matches!(
        given.when(Command::Acknowledge, &reporter()),
        Err(DomainError::Forbidden(_))
    ));
    assert_eq!(
        given.when(Command::Acknowledge, &other_staff()),
        Err(DomainError::NotFound)
    );
    let chilton_dsl = Viewer {
        subject: "chilton-dsl".into(),
        school_roles: BTreeSet::new(),
        trust_roles: BTreeSet::new(),
    };
    assert_eq!(
        given.when(Command::Acknowledge, &chilton_dsl),
        Err(DomainError::NotFound)
    );

    let acknowledged = given.and(Command::Acknowledge, &dsl());
    assert!(matches!(
        acknowledged.when(Command::Acknowledge, &dsl()),
        Err(DomainError::Conflict(_))
    ));
    let deputy = viewer("raps-deputy", &[SchoolRole::DeputyDsl]);
    assert!(matches!(
        acknowledged.when(Command::Acknowledge, &deputy),
        Err(DomainError::Conflict(_))
    ));
}

#[test]
fn steps_wait_for_the_acknowledgement_and_are_completed_once() {
    let given = given(new_report(Category::IndecentImagesOfChildren), &reporter());
    let complete = |step: &str| Command::CompleteStep {
        step_id: step.into(),
        note: Some("Laptop 14 locked in the DSL's office".into()),
        reference: None,
    };
    assert!(matches!(
        given.when(complete("secure_devices"), &dsl()),
        Err(DomainError::Refused { .. })
    ));
    let given = given.and(Command::Acknowledge, &dsl());
    assert_eq!(
        given.when(complete("make_tea"), &dsl()),
        Err(DomainError::UnknownStep("make_tea".into()))
    );
    let given = given.and(complete("secure_devices"), &dsl());
    let concern = given.concern();
    let secured = &concern.steps[0];
    assert_eq!(
        secured.completed.as_ref().unwrap().note.as_deref(),
        Some("Laptop 14 locked in the DSL's office")
    );
    assert!(matches!(
        given.when(complete("secure_devices"), &dsl()),
        Err(DomainError::Conflict(_))
    ));
}

#[test]
fn a_referral_to_the_iwf_completes_the_iwf_step_with_its_reference() {
    let given =
        given(new_report(Category::IndecentImagesOfChildren), &reporter()).and(Command::Acknowledge, &dsl());
    let events = given
        .when(
            Command::RecordReferral {
                agency: Agency::Iwf,
                reference: Some("IWF-2026-11-0042".into()),
                note: None,
            },
            &dsl(),
        )
        .unwrap();
    assert!(matches!(&events[0], ConcernEvent::ReferralRecorded(referral) if referral.agency == Agency::Iwf));
    assert_eq!(step_ids(&events), ["iwf_report"]);
    let ConcernEvent::StepCompleted(step) = &events[1] else {
        unreachable!()
    };
    assert_eq!(
        step.restricted.as_ref().unwrap().reference.as_deref(),
        Some("IWF-2026-11-0042")
    );

    let events = given
        .when(
            Command::RecordReferral {
                agency: Agency::Lado,
                reference: None,
                note: Some("Advice sought".into()),
            },
            &dsl(),
        )
        .unwrap();
    assert!(
        step_ids(&events).is_empty(),
        "no LADO step without staff involved"
    );
}

#[test]
fn closing_with_open_steps_is_refused_unless_the_dsl_overrides() {
    let given =
        given(new_report(Category::IndecentImagesOfChildren), &reporter()).and(Command::Acknowledge, &dsl());
    let Err(DomainError::Refused { errors, .. }) = given.when(close(), &dsl()) else {
        panic!("closing with open steps must be refused")
    };
    assert_eq!(
        errors["open_steps"],
        "secure_devices, iwf_report, police_report, delete_copies, parents_informed, debrief"
    );
    let overridden = given
        .when(
            Command::Close {
                outcome: "Police took over the investigation.".into(),
                lessons_learned: "None yet.".into(),
                override_reason: Some("Police asked us to stop all further action.".into()),
            },
            &dsl(),
        )
        .unwrap();
    let [ConcernEvent::Closed(closed)] = overridden.as_slice() else {
        panic!()
    };
    assert_eq!(closed.overridden_steps.len(), 6);
}

#[test]
fn a_closed_concern_takes_no_work_until_reopened() {
    let mut given =
        given(new_report(Category::OffensiveCommunication), &reporter()).and(Command::Acknowledge, &dsl());
    for step in ["parents_informed", "debrief"] {
        given = given.and(
            Command::CompleteStep {
                step_id: step.into(),
                note: None,
                reference: None,
            },
            &dsl(),
        );
    }
    assert!(matches!(
        given.when(Command::Reopen { reason: "x".into() }, &dsl()),
        Err(DomainError::Conflict(_))
    ));
    let closed = given.and(close(), &dsl());
    assert_eq!(closed.concern().status, Status::Closed);
    assert_eq!(
        closed.concern().next_deadline(),
        None,
        "nothing is overdue once closed"
    );
    assert!(matches!(
        closed.when(close(), &dsl()),
        Err(DomainError::Conflict(_))
    ));
    let reopened = closed.and(
        Command::Reopen {
            reason: "The pupil disclosed more.".into(),
        },
        &dsl(),
    );
    let concern = reopened.concern();
    assert_eq!(concern.status, Status::Reopened);
    assert_eq!(concern.closure, None);
    assert_eq!(
        concern.reopenings[0].reason.as_deref(),
        Some("The pupil disclosed more.")
    );
    assert!(
        reopened.when(close(), &dsl()).is_ok(),
        "a reopened concern closes again"
    );
}

#[test]
fn a_concern_about_the_head_goes_to_the_trust_lead_alone() {
    let mut new = new_report(Category::StaffOnlineConduct);
    new.subject_staff_role = Some(SubjectStaffRole::Headteacher);
    let given = given(new, &reporter());
    let concern = given.concern();
    assert_eq!(
        concern.access(&dsl_who_is_head()),
        None,
        "nobody sees a concern about themselves"
    );
    assert_eq!(concern.access(&dsl()), None);
    assert_eq!(concern.access(&reporter()), Some(Access::Reporter));
    assert_eq!(
        concern.access(&trust_lead()),
        Some(Access::Handler {
            role: "trust_safeguarding_lead"
        })
    );
    assert_eq!(
        given.when(Command::Acknowledge, &dsl_who_is_head()),
        Err(DomainError::NotFound)
    );
    let acknowledged = given.and(Command::Acknowledge, &trust_lead());
    assert!(matches!(
        acknowledged.when(Command::EscalateToTrust { reason: "x".into() }, &trust_lead()),
        Err(DomainError::Refused { .. })
    ));
}

#[test]
fn a_concern_about_a_member_of_staff_goes_to_the_head_and_the_dsl_but_not_to_them() {
    let mut new = new_report(Category::StaffOnlineConduct);
    new.subject_staff_role = Some(SubjectStaffRole::Staff);
    new.people = vec![PersonInvolved {
        person_ref: Some("raps-ta".into()),
        person_id: None,
        kind: PersonKind::Staff,
        role: PersonRole::Alleged,
    }];
    let given = given(new, &reporter());
    let head = viewer("raps-exec-head", &[SchoolRole::Headteacher]);
    assert_eq!(
        given.concern().access(&head),
        Some(Access::Handler { role: "headteacher" })
    );
    assert_eq!(
        given.concern().access(&dsl()),
        Some(Access::Handler { role: "dsl" })
    );
    let alleged_deputy = viewer("raps-ta", &[SchoolRole::DeputyDsl]);
    assert_eq!(
        given.concern().access(&alleged_deputy),
        None,
        "the person it is about never sees it"
    );
    let steps: Vec<&str> = given
        .reported()
        .steps
        .iter()
        .map(|step| step.step_id.as_str())
        .collect();
    assert!(steps.starts_with(&["head_informed", "lado_referral"]));
    assert!(given.when(Command::Acknowledge, &head).is_ok());
}

#[test]
fn escalation_lets_the_trust_lead_read_and_add_notes_to_that_one_case() {
    let given = given(new_report(Category::OnlineSexualAbuse), &reporter()).and(Command::Acknowledge, &dsl());
    assert_eq!(
        given.concern().access(&trust_lead()),
        None,
        "the trust sees no case detail"
    );
    assert!(matches!(
        given.when(Command::EscalateToTrust { reason: "x".into() }, &reporter()),
        Err(DomainError::Forbidden(_))
    ));
    let escalated = given.and(
        Command::EscalateToTrust {
            reason: "Pupils at Chilton were targeted by the same account.".into(),
        },
        &dsl(),
    );
    assert_eq!(
        escalated.concern().access(&trust_lead()),
        Some(Access::TrustReader)
    );
    assert!(
        escalated
            .when(
                Command::AddNote {
                    text: "Spoke to Kent Police.".into()
                },
                &trust_lead()
            )
            .is_ok()
    );
    assert!(matches!(
        escalated.when(close(), &trust_lead()),
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        escalated.when(
            Command::EscalateToTrust {
                reason: "again".into()
            },
            &dsl()
        ),
        Err(DomainError::Conflict(_))
    ));
    assert!(matches!(
        escalated.when(Command::AddNote { text: "x".into() }, &reporter()),
        Err(DomainError::Forbidden(_))
    ));
}

#[test]
fn deadlines_pass_when_steps_are_left_open() {
    let given =
        given(new_report(Category::IndecentImagesOfChildren), &reporter()).and(Command::Acknowledge, &dsl());
    let concern = given.concern();
    assert_eq!(
        concern.next_deadline(),
        Some(reported_at() + Duration::hours(1)),
        "secure the devices within the hour"
    );
    assert!(!concern.overdue(reported_at() + Duration::minutes(59)));
    assert!(concern.overdue(reported_at() + Duration::minutes(61)));
    assert!(concern.step_overdue(&concern.steps[0], reported_at() + Duration::minutes(61)));
    assert!(!concern.step_overdue(&concern.steps[3], reported_at() + Duration::minutes(61)));
}

#[test]
fn given_a_person_picked_from_the_roster_the_report_names_them_by_id_and_checks_the_roster() {
    let (pupil, teacher, stranger) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
    let named = |person_ref: Option<&str>, person_id: Option<Uuid>, kind: PersonKind, role: PersonRole| {
        let mut new = new_report(Category::Cyberbullying);
        new.roster = HashMap::from([(pupil, PersonKind::Pupil), (teacher, PersonKind::Staff)]);
        new.people = vec![PersonInvolved {
            person_ref: person_ref.map(str::to_owned),
            person_id,
            kind,
            role,
        }];
        report(
            new,
            Some(&reporter()),
            (&defaults(), 0),
            Uuid::now_v7(),
            reported_at(),
            &|key| format!("pseudonym of {key}"),
        )
    };
    let field_of = |refused: Result<IncidentReported, DomainError>| match refused {
        Err(DomainError::Invalid { field, .. }) => field,
        other => panic!("not refused: {other:?}"),
    };

    let by_id = named(None, Some(pupil), PersonKind::Pupil, PersonRole::Alleged).unwrap();
    let narrative = by_id.restricted.unwrap();
    assert_eq!(
        (
            narrative.people[0].person_id,
            narrative.people[0].person_ref.as_deref()
        ),
        (Some(pupil), None)
    );
    assert_eq!(
        by_id.alleged,
        [format!("pseudonym of {pupil}")],
        "the log holds no id"
    );
    assert!(
        named(
            Some(" UPN-9 "),
            Some(pupil),
            PersonKind::Pupil,
            PersonRole::Victim
        )
        .is_ok()
    );

    assert_eq!(
        field_of(named(None, Some(stranger), PersonKind::Pupil, PersonRole::Victim)),
        "people[0].person_id",
        "no one on the roster"
    );
    assert_eq!(
        field_of(named(None, Some(pupil), PersonKind::Staff, PersonRole::Witness)),
        "people[0].kind",
        "a pupil on the roster"
    );
    assert_eq!(
        field_of(named(None, None, PersonKind::Pupil, PersonRole::Victim)),
        "people[0]"
    );
    assert_eq!(
        field_of(named(None, Some(teacher), PersonKind::Staff, PersonRole::Alleged)),
        "people[0].person_ref",
        "an alleged member of staff is named by what they sign in with too"
    );
    assert!(
        named(
            Some("raps-ta"),
            Some(teacher),
            PersonKind::Staff,
            PersonRole::Alleged
        )
        .is_ok()
    );
}
