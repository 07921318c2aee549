//! What the API takes and answers with. A person's view is what the caller's [`RosterView`] shows.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use trustsafe_events::Envelope;
use trustsafe_events::aup::{
    AgreementRecorded, AgreementSource, Audience, AupPublished, ChildLink, PersonRecorded, PersonRemoved,
    RosterKind, Signer,
};
use trustsafe_problem::{Kind, Problem};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::policies::{Compliance, PersonStanding};
use crate::app::roster::{RecordResult, SyncReport, section_name};
use crate::domain::agreements::Standing;
use crate::domain::people::{IncomingPerson, IncomingRemoval, Issue, Outcome, RosterView};
use crate::store::StoredPerson;

/// A batch from the MIS: the whole roster or a delta, in one call or in pages. A person missing from
/// a batch is left as they are; someone who left is sent under `removals`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RosterBatchDocument {
    /// When the data was true in the MIS (e.g. a delta's `updated_after` end). An older batch arriving
    /// after a newer one changes nothing it has newer data for. Default: now.
    pub as_of: Option<DateTime<Utc>>,
    /// Each record is checked on its own: one that does not fit is refused alone.
    #[schema(value_type = Option<Vec<IncomingPerson>>)]
    pub people: Option<Vec<serde_json::Value>>,
    #[schema(value_type = Option<Vec<IncomingRemoval>>)]
    pub removals: Option<Vec<serde_json::Value>>,
}

#[derive(Serialize, ToSchema)]
pub struct IssueView {
    pub field: String,
    pub message: String,
}

impl From<Issue> for IssueView {
    fn from(issue: Issue) -> Self {
        Self {
            field: issue.field,
            message: issue.message,
        }
    }
}

/// What happened to one record of the batch.
#[derive(Serialize, ToSchema)]
pub struct RecordAnswer {
    /// `people` or `removals`.
    pub section: &'static str,
    /// Its place in that list, from 0.
    pub index: usize,
    #[schema(value_type = Option<String>)]
    pub kind: Option<RosterKind>,
    pub mis_id: Option<String>,
    pub person_id: Option<Uuid>,
    /// `created`, `updated`, `unchanged`, `removed`, `stale` (the roster holds newer data), or
    /// `rejected` (see `errors`: nothing of it was written).
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<IssueView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<IssueView>,
}

fn outcome_name(outcome: Option<Outcome>) -> &'static str {
    match outcome {
        None => "rejected",
        Some(Outcome::Created) => "created",
        Some(Outcome::Updated) => "updated",
        Some(Outcome::Unchanged) => "unchanged",
        Some(Outcome::Removed) => "removed",
        Some(Outcome::Stale) => "stale",
    }
}

impl From<RecordResult> for RecordAnswer {
    fn from(result: RecordResult) -> Self {
        Self {
            section: section_name(result.section),
            index: result.index,
            kind: result.kind,
            mis_id: result.mis_id,
            person_id: result.person_id,
            outcome: outcome_name(result.outcome),
            errors: result.errors.into_iter().map(IssueView::from).collect(),
            warnings: result.warnings.into_iter().map(IssueView::from).collect(),
        }
    }
}

/// How many records had each outcome.
#[derive(Default, Serialize, ToSchema)]
pub struct SyncCounts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
    pub stale: usize,
    pub rejected: usize,
    /// Records kept with something said about them.
    pub warned: usize,
}

#[derive(Serialize, ToSchema)]
pub struct SyncAnswer {
    pub as_of: DateTime<Utc>,
    pub counts: SyncCounts,
    /// Every record, people first, then removals.
    pub results: Vec<RecordAnswer>,
}

impl From<SyncReport> for SyncAnswer {
    fn from(report: SyncReport) -> Self {
        let results: Vec<RecordAnswer> = report.results.into_iter().map(RecordAnswer::from).collect();
        let mut counts = SyncCounts::default();
        for result in &results {
            *match result.outcome {
                "created" => &mut counts.created,
                "updated" => &mut counts.updated,
                "unchanged" => &mut counts.unchanged,
                "removed" => &mut counts.removed,
                "stale" => &mut counts.stale,
                _ => &mut counts.rejected,
            } += 1;
            counts.warned += usize::from(!result.warnings.is_empty() && result.errors.is_empty());
        }
        Self {
            as_of: report.as_of,
            counts,
            results,
        }
    }
}

/// A parent's or carer's child.
#[derive(Serialize, ToSchema)]
pub struct ChildView {
    pub mis_id: String,
    /// Once the child is on the roster.
    pub person_id: Option<Uuid>,
    pub parental_responsibility: bool,
    pub relationship: Option<String>,
}

impl From<ChildLink> for ChildView {
    fn from(link: ChildLink) -> Self {
        Self {
            mis_id: link.mis_id,
            person_id: link.person_id,
            parental_responsibility: link.parental_responsibility,
            relationship: link.relationship,
        }
    }
}

/// A pupil's flags (the DSL, deputies and the headteacher only).
#[derive(Serialize, ToSchema)]
pub struct FlagsView {
    pub send: Option<bool>,
    pub in_care: Option<bool>,
    pub eal: Option<bool>,
}

/// A person, as much as the caller may read: staff see names, kind and year group; technicians also
/// accounts and staff emails; the DSL, deputies and the headteacher everything.
#[derive(Serialize, ToSchema)]
pub struct RosterPersonView {
    pub id: Uuid,
    #[schema(value_type = String)]
    pub kind: RosterKind,
    pub mis_id: String,
    pub forename: Option<String>,
    pub surname: Option<String>,
    pub year_group: Option<i8>,
    /// Taken off the roster by the MIS.
    pub removed: bool,
    pub version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<FlagsView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub job_roles: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ChildView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
}

impl RosterPersonView {
    pub fn of(person: StoredPerson, view: RosterView) -> Self {
        let record = person.record;
        let details = view.shows(&record.restricted.unwrap_or_default());
        Self {
            id: person.id,
            kind: record.kind,
            mis_id: details.mis_id,
            forename: details.forename,
            surname: details.surname,
            year_group: record.year_group,
            removed: person.removed,
            version: person.version,
            upn: details.upn,
            date_of_birth: details.date_of_birth,
            flags: view.shows_flags().then_some(FlagsView {
                send: record.flags.send,
                in_care: record.flags.in_care,
                eal: record.flags.eal,
            }),
            email: details.email,
            job_roles: details.job_roles,
            phones: details.phones,
            emails: details.emails,
            children: details.children.into_iter().map(ChildView::from).collect(),
            accounts: details.accounts,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PeoplePage {
    pub people: Vec<RosterPersonView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// One change of a person's record.
#[derive(Serialize, ToSchema)]
pub struct PersonChange {
    pub version: i64,
    /// `recorded` (joined or changed) or `removed`.
    pub change: &'static str,
    /// When the MIS's data was true.
    pub as_of: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// The fields that differ from the version before (all of them on joining).
    pub fields: Vec<String>,
}

/// The history of a person from their stream: what changed at each version, by field name (the
/// values are on the person; the history says when each moved).
pub fn history(envelopes: &[Envelope]) -> Vec<PersonChange> {
    let mut before = serde_json::Map::new();
    let mut entries = Vec::with_capacity(envelopes.len());
    for envelope in envelopes {
        if let Ok(removed) = envelope.decode::<PersonRemoved>() {
            entries.push(PersonChange {
                version: envelope.stream_version,
                change: "removed",
                as_of: removed.as_of,
                recorded_at: envelope.recorded_at,
                fields: Vec::new(),
            });
            continue;
        }
        let Ok(recorded) = envelope.decode::<PersonRecorded>() else {
            continue;
        };
        let now = fields_of(&recorded);
        let mut fields: Vec<String> = now
            .iter()
            .filter(|(name, value)| before.get(*name) != Some(value))
            .map(|(name, _)| name.clone())
            .chain(before.keys().filter(|name| !now.contains_key(*name)).cloned())
            .collect();
        fields.sort();
        entries.push(PersonChange {
            version: envelope.stream_version,
            change: "recorded",
            as_of: recorded.as_of,
            recorded_at: envelope.recorded_at,
            fields,
        });
        before = now;
    }
    entries
}

/// A record's fields by name, its details beside the published ones.
fn fields_of(recorded: &PersonRecorded) -> serde_json::Map<String, serde_json::Value> {
    let mut fields = match serde_json::to_value(&recorded.restricted) {
        Ok(serde_json::Value::Object(details)) => details,
        _ => serde_json::Map::new(),
    };
    fields.insert("year_group".into(), serde_json::json!(recorded.year_group));
    fields.insert("flags".into(), serde_json::json!(recorded.flags));
    fields.retain(|_, value| !value.is_null());
    fields
}

/// A version of a policy.
#[derive(Serialize, ToSchema)]
pub struct PolicyVersionView {
    pub document_id: Uuid,
    #[schema(value_type = String, example = "ks2")]
    pub audience: Audience,
    /// The school whose own policy it is; absent for the trust's.
    pub school_id: Option<String>,
    pub version: i32,
    pub title: String,
    pub content_hash: String,
    pub effective_from: NaiveDate,
    pub resign_every_days: u32,
    pub grace_days: u32,
    pub text: String,
}

impl From<AupPublished> for PolicyVersionView {
    fn from(published: AupPublished) -> Self {
        Self {
            document_id: published.document_id,
            audience: published.audience,
            school_id: published.school_id,
            version: published.version,
            title: published.title,
            content_hash: published.content_hash,
            effective_from: published.effective_from,
            resign_every_days: published.resign_every_days,
            grace_days: published.grace_days,
            text: published.restricted.map(|text| text.text).unwrap_or_default(),
        }
    }
}

/// An answer to a policy.
#[derive(Serialize, ToSchema)]
pub struct AgreementView {
    pub agreement_id: Uuid,
    pub person_id: Uuid,
    #[schema(value_type = String)]
    pub audience: Audience,
    pub document_id: Uuid,
    pub version: i32,
    /// `agreed` or `declined`.
    #[schema(value_type = String)]
    pub decision: trustsafe_events::aup::Decision,
    /// The parent or carer who signed for the child, if one did.
    pub signed_by_parent: Option<Uuid>,
    /// Entered from a signed paper form.
    pub on_paper: bool,
    /// Imported from another system's export: `smoothwall_monitor` or `entra_terms_of_use`, and the
    /// line of the export.
    pub imported_from: Option<ImportedFromView>,
    pub signed_at: DateTime<Utc>,
    /// Who entered it (their token subject).
    pub recorded_by: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportedFromView {
    #[schema(example = "smoothwall_monitor")]
    pub system: &'static str,
    pub line: u64,
}

impl AgreementView {
    pub fn of(agreement: AgreementRecorded, recorded_by: Option<String>) -> Self {
        Self {
            agreement_id: agreement.agreement_id,
            person_id: agreement.person_id,
            audience: agreement.audience,
            document_id: agreement.document_id,
            version: agreement.version,
            decision: agreement.decision,
            signed_by_parent: match agreement.signer {
                Signer::ParentOrCarer { parent_id } => Some(parent_id),
                Signer::Themselves => None,
            },
            on_paper: agreement.source == AgreementSource::PaperForm,
            imported_from: match agreement.source {
                AgreementSource::Imported { system, line } => Some(ImportedFromView {
                    system: system.name(),
                    line,
                }),
                _ => None,
            },
            signed_at: agreement.signed_at,
            recorded_by,
        }
    }
}

/// Where a person stands with one policy.
#[derive(Serialize, ToSchema)]
pub struct PolicyStandingView {
    #[schema(value_type = String)]
    pub audience: Audience,
    /// `current`, `due`, `overdue`, `missing`, `declined` or `no_policy`.
    pub standing: &'static str,
    pub in_force_version: Option<i32>,
    pub last_answer: Option<AgreementView>,
}

/// Where a person stands.
#[derive(Serialize, ToSchema)]
pub struct StandingView {
    pub person_id: Uuid,
    /// Their standing with their own policy.
    pub standing: &'static str,
    /// Whether access to devices and systems may be granted (current or due).
    pub covered: bool,
    /// Per policy (their own first), for the school's leads and its MIS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<PolicyStandingView>>,
}

impl From<PersonStanding> for StandingView {
    fn from(standing: PersonStanding) -> Self {
        Self {
            person_id: standing.person.id,
            standing: standing.primary.name(),
            covered: standing.primary.covers(),
            policies: standing.policies.map(|policies| {
                policies
                    .into_iter()
                    .map(|policy| PolicyStandingView {
                        audience: policy.audience,
                        standing: policy.standing.name(),
                        in_force_version: policy.in_force_version,
                        last_answer: policy.last.map(|last| AgreementView::of(last, None)),
                    })
                    .collect()
            }),
        }
    }
}

/// How many people of one policy stand so.
#[derive(Serialize, ToSchema)]
pub struct ComplianceCount {
    #[schema(value_type = String)]
    pub audience: Audience,
    pub standing: &'static str,
    pub people: usize,
}

#[derive(Serialize, ToSchema)]
pub struct ComplianceEntry {
    pub person_id: Uuid,
    pub mis_id: String,
    #[schema(value_type = String)]
    pub audience: Audience,
    pub standing: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct ComplianceView {
    pub today: NaiveDate,
    pub counts: Vec<ComplianceCount>,
    /// Pupils without a year group: no policy can be named for them until the MIS gives one.
    pub unplaced: usize,
    pub people: Vec<ComplianceEntry>,
}

impl ComplianceView {
    /// The view, its people narrowed to an audience and a standing if asked.
    pub fn of(
        compliance: Compliance,
        audience: Option<Audience>,
        standing: Option<&str>,
    ) -> Result<Self, Problem> {
        let standing = standing
            .map(|name| {
                Standing::named(name).ok_or_else(|| {
                    Problem::new(
                        Kind::Validation,
                        "standing is one of current, due, overdue, missing, declined, no_policy.",
                    )
                    .with_error("standing", "is not a standing")
                })
            })
            .transpose()?;
        Ok(Self {
            today: compliance.today,
            counts: compliance
                .counts
                .into_iter()
                .map(|((audience, standing), people)| ComplianceCount {
                    audience,
                    standing: standing.name(),
                    people,
                })
                .collect(),
            unplaced: compliance.unplaced,
            people: compliance
                .people
                .into_iter()
                .filter(|(_, _, their_audience, their_standing)| {
                    audience.is_none_or(|audience| audience == *their_audience)
                        && standing.is_none_or(|standing| standing == *their_standing)
                })
                .map(|(person_id, mis_id, audience, standing)| ComplianceEntry {
                    person_id,
                    mis_id,
                    audience,
                    standing: standing.name(),
                })
                .collect(),
        })
    }
}
