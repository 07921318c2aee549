//! Who may see a concern and who handles it. A concern about the DSL or the headteacher goes to the
//! trust safeguarding lead alone (whistleblowing): at RAPS the DSL is the head of school, and nobody
//! sees a concern about themselves.

use std::collections::BTreeSet;

use trustsafe_auth::{Caller, SchoolRole, TrustRole};

use super::DomainError;
use trustsafe_events::Event;
use trustsafe_events::incident::{
    HandledBy, IncidentAcknowledged, IncidentClosed, IncidentReopened, IncidentReported, SubjectStaffRole,
};

/// The person asking, as far as one school is concerned: their roles there and in its trust.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub subject: String,
    pub school_roles: BTreeSet<SchoolRole>,
    pub trust_roles: BTreeSet<TrustRole>,
}

impl Viewer {
    /// `caller` as far as `school_id` (of trust `trust_id`) is concerned.
    pub fn of(caller: &Caller, school_id: &str, trust_id: &str) -> Self {
        Self {
            subject: caller.subject.clone(),
            school_roles: caller.school_roles(school_id).collect(),
            trust_roles: caller.grants.trusts.get(trust_id).cloned().unwrap_or_default(),
        }
    }

    pub fn is_dsl(&self) -> bool {
        self.school_roles.contains(&SchoolRole::Dsl) || self.school_roles.contains(&SchoolRole::DeputyDsl)
    }

    pub fn is_headteacher(&self) -> bool {
        self.school_roles.contains(&SchoolRole::Headteacher)
    }

    pub fn is_trust_lead(&self) -> bool {
        self.trust_roles.contains(&TrustRole::TrustSafeguardingLead)
    }

    /// Works at the school, so may report a concern there.
    pub fn is_staff(&self) -> bool {
        self.school_roles.iter().any(|role| {
            matches!(
                role,
                SchoolRole::Dsl
                    | SchoolRole::DeputyDsl
                    | SchoolRole::Staff
                    | SchoolRole::Technician
                    | SchoolRole::Headteacher
            )
        })
    }

    /// Any member of staff reports a concern; governors and integrations do not.
    pub fn may_report(&self) -> Result<(), DomainError> {
        if self.is_staff() {
            Ok(())
        } else {
            Err(DomainError::Forbidden(
                "Only members of staff report concerns.".into(),
            ))
        }
    }

    /// The DSL or the headteacher changes the school's workflow, in that role; a deputy may read it
    /// (403); anyone else does not know of it (404).
    pub fn workflow_editor_role(&self) -> Result<&'static str, DomainError> {
        if self.school_roles.contains(&SchoolRole::Dsl) {
            Ok("dsl")
        } else if self.is_headteacher() {
            Ok("headteacher")
        } else if self.is_dsl() {
            Err(DomainError::Forbidden(
                "Only the DSL or the headteacher changes the workflow.".into(),
            ))
        } else {
            Err(DomainError::NotFound)
        }
    }

    /// The school role this person acts in, most senior first (for the record of who did what).
    pub fn school_role(&self) -> Option<SchoolRole> {
        [
            SchoolRole::Dsl,
            SchoolRole::DeputyDsl,
            SchoolRole::Headteacher,
            SchoolRole::Staff,
            SchoolRole::Technician,
            SchoolRole::Governor,
        ]
        .into_iter()
        .find(|role| self.school_roles.contains(role))
    }
}

/// Who handles a concern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// The school's DSL and deputies.
    Dsl,
    /// About a member of staff: the headteacher and the DSL (and deputies).
    DslAndHeadteacher,
    /// About the DSL or the headteacher: the trust safeguarding lead only.
    TrustLead,
}

impl Route {
    pub fn of(subject_staff_role: Option<SubjectStaffRole>) -> Route {
        match subject_staff_role {
            None => Route::Dsl,
            Some(SubjectStaffRole::Staff) => Route::DslAndHeadteacher,
            Some(SubjectStaffRole::Dsl | SubjectStaffRole::Headteacher) => Route::TrustLead,
        }
    }

    /// The same, as the log says it.
    pub fn on_the_log(self) -> HandledBy {
        match self {
            Route::Dsl => HandledBy::Dsl,
            Route::DslAndHeadteacher => HandledBy::DslAndHeadteacher,
            Route::TrustLead => HandledBy::TrustLead,
        }
    }

    /// The id the read model keeps, so lists can filter in SQL the same way.
    pub fn id(self) -> &'static str {
        match self {
            Route::Dsl => "dsl",
            Route::DslAndHeadteacher => "dsl_and_headteacher",
            Route::TrustLead => "trust_lead",
        }
    }

    fn handled_by(self, viewer: &Viewer) -> Option<&'static str> {
        let school_role = || {
            if viewer.school_roles.contains(&SchoolRole::Dsl) {
                Some("dsl")
            } else if viewer.school_roles.contains(&SchoolRole::DeputyDsl) {
                Some("deputy_dsl")
            } else {
                None
            }
        };
        match self {
            Route::Dsl => school_role(),
            Route::DslAndHeadteacher => school_role().or(viewer.is_headteacher().then_some("headteacher")),
            Route::TrustLead => viewer.is_trust_lead().then_some("trust_safeguarding_lead"),
        }
    }
}

/// How much of a concern someone may see and do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Acts on it and sees everything: the DSL and deputies, the headteacher for concerns about
    /// staff, the trust safeguarding lead for concerns about the DSL or the head.
    Handler { role: &'static str },
    /// The trust safeguarding lead, once the school escalated it: sees everything, adds notes.
    TrustReader,
    /// The member of staff who reported it: their report and where it stands, no more.
    Reporter,
}

impl Access {
    /// The grant a read is audited under.
    pub fn role(self) -> &'static str {
        match self {
            Access::Handler { role } => role,
            Access::TrustReader => "trust_safeguarding_lead",
            Access::Reporter => "reporter",
        }
    }

    pub fn sees_everything(self) -> bool {
        !matches!(self, Access::Reporter)
    }

    /// What of an event a person with this access sees in the concern's history: everything, or for
    /// a reporter what their view of the concern shows (their own report, and when it was
    /// acknowledged, closed or reopened); never the steps planned, referrals, notes, the outcome or
    /// the steps a closing overrode. `None`: the event is not shown at all.
    pub fn history_entry(self, event_type: &str, data: &serde_json::Value) -> Option<serde_json::Value> {
        if self.sees_everything() {
            return Some(data.clone());
        }
        let shown: &[&str] = match event_type {
            report if IncidentReported::is(report) => &[
                "incident_id",
                "category",
                "occurred_at",
                "source",
                "subject_staff_role",
                "device_involved",
                "immediate_risk",
                "acknowledge_by",
                // Their own words: the summary, description, place and people they reported.
                "restricted",
            ],
            IncidentAcknowledged::TYPE => &["incident_id", "acknowledged_at"],
            IncidentClosed::TYPE => &["incident_id", "closed_at"],
            IncidentReopened::TYPE => &["incident_id", "reopened_at"],
            _ => return None,
        };
        let fields = data.as_object()?;
        Some(serde_json::Value::Object(
            fields
                .iter()
                .filter(|(name, _)| shown.contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        ))
    }
}

/// What decides access to one concern.
pub struct Visibility<'a> {
    pub route: Route,
    pub reported_by: &'a str,
    pub escalated: bool,
    /// The MIS references of people alleged to be involved.
    pub alleged: &'a [String],
}

impl Visibility<'_> {
    /// None: the concern does not exist for this person (404).
    pub fn access(&self, viewer: &Viewer) -> Option<Access> {
        if self.alleged.contains(&viewer.subject) {
            return None;
        }
        if let Some(role) = self.route.handled_by(viewer) {
            return Some(Access::Handler { role });
        }
        if self.escalated && viewer.is_trust_lead() {
            return Some(Access::TrustReader);
        }
        (self.reported_by == viewer.subject).then_some(Access::Reporter)
    }
}
