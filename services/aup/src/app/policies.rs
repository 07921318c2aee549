//! The acceptable-use core: publish a policy's next version, record an answer, and say where people
//! stand — one person, or the whole school by audience.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use trustsafe_auth::{Caller, Scope};
use trustsafe_events::Actor;
use trustsafe_events::aup::{
    AgreementRecorded, AgreementSource, Audience, AupPublished, AupText, Decision, Signer,
};
use trustsafe_eventstore::AppendContext;
use trustsafe_servicekit::scope::policy::{AnyGrant, AnyRole, SafeguardingLeads, TrustLead};
use trustsafe_servicekit::{PseudonymKey, Purpose, SchoolScope, TrustScope};
use uuid::Uuid;

use crate::app::error::AupError;
use crate::domain::agreements::{self, Standing};
use crate::domain::documents::{self, Draft};
use crate::domain::people::RosterView;
use crate::store::{PeopleStore, PolicyStore, StoredAgreement, StoredPerson};

/// An answer as a member of staff enters it (or a person gives it at a kiosk).
#[derive(Clone, Debug)]
pub struct NewAgreement {
    pub person_id: Uuid,
    pub audience: Audience,
    pub decision: Decision,
    pub signer: Signer,
    pub source: AgreementSource,
    pub signed_at: Option<DateTime<Utc>>,
    /// The version the reader was shown: refused if another is in force.
    pub version: Option<i32>,
}

/// How far back an answer entered after it was given (a paper form, an import) may be dated.
const ENTERED_LATER_WITHIN_DAYS: i64 = 366;

/// Where one person stands with one policy.
#[derive(Clone, Debug)]
pub struct PolicyStanding {
    pub audience: Audience,
    pub standing: Standing,
    pub in_force_version: Option<i32>,
    pub last: Option<AgreementRecorded>,
}

/// Where one person stands: their own policy first, then any other they answered.
pub struct PersonStanding {
    pub person: StoredPerson,
    /// None when the caller is told only whether the person is covered (who may not see the
    /// person's flags may not see the policy that would reveal them).
    pub policies: Option<Vec<PolicyStanding>>,
    pub primary: Standing,
}

/// A school's compliance: people by their own policy and standing.
pub struct Compliance {
    pub today: NaiveDate,
    pub counts: BTreeMap<(Audience, Standing), usize>,
    /// Everyone counted, with where they stand.
    pub people: Vec<(Uuid, String, Audience, Standing)>,
    /// Pupils the MIS gave no year group: no policy can be named for them.
    pub unplaced: usize,
}

pub struct Policies {
    people: PeopleStore,
    policies: PolicyStore,
    pseudonyms: Arc<PseudonymKey>,
}

fn content_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Who reads standing and compliance beyond "covered or not": the school's safeguarding leads and
/// its MIS (which holds the flags an audience reveals).
fn reads_detail(caller: &Caller, school_id: &str, trust_id: &str) -> bool {
    use trustsafe_servicekit::scope::SchoolPolicy;
    SafeguardingLeads::admits(caller, school_id, trust_id) || caller.has_scope(school_id, Scope::Mis)
}

impl Policies {
    pub fn new(people: PeopleStore, policies: PolicyStore, pseudonyms: Arc<PseudonymKey>) -> Self {
        Self {
            people,
            policies,
            pseudonyms,
        }
    }

    fn context(&self, caller: &Caller, trust_id: &str, school_id: Option<&str>, role: &str) -> AppendContext {
        let pseudonym = self
            .pseudonyms
            .pseudonym(Purpose::Actor, trust_id, caller.subject.as_bytes());
        AppendContext {
            trust_id: trust_id.to_owned(),
            school_id: school_id.map(str::to_owned),
            actor: Actor::person(caller.subject.clone(), role).with_pseudonym(pseudonym),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
        }
    }

    /// Publishes the next version of a school's own policy for `audience`.
    pub async fn publish_for_school(
        &self,
        scope: &SchoolScope<SafeguardingLeads>,
        audience: Audience,
        draft: Draft,
    ) -> Result<AupPublished, AupError> {
        let context = self.context(
            &scope.caller,
            &scope.trust_id,
            Some(&scope.school_id),
            "school_lead",
        );
        self.publish(context, Some(&scope.school_id), audience, draft)
            .await
    }

    /// Publishes the next version of the trust-wide policy for `audience`.
    pub async fn publish_for_trust(
        &self,
        scope: &TrustScope<TrustLead>,
        audience: Audience,
        draft: Draft,
    ) -> Result<AupPublished, AupError> {
        let context = self.context(&scope.caller, &scope.trust_id, None, "trust_safeguarding_lead");
        self.publish(context, None, audience, draft).await
    }

    async fn publish(
        &self,
        context: AppendContext,
        school_id: Option<&str>,
        audience: Audience,
        draft: Draft,
    ) -> Result<AupPublished, AupError> {
        let now = Utc::now();
        let checked = documents::check(draft, now.date_naive()).map_err(AupError::Invalid)?;
        let mut tx = self.policies.pool().begin().await?;
        let existing = self
            .policies
            .document(&mut tx, &context.trust_id, school_id, audience)
            .await?;
        let (document_id, version) = existing.map_or((Uuid::now_v7(), 1), |(id, last)| (id, last + 1));
        let published = AupPublished {
            document_id,
            audience,
            school_id: school_id.map(str::to_owned),
            version,
            title: checked.title,
            content_hash: content_hash(&checked.text),
            effective_from: checked.effective_from,
            resign_every_days: checked.resign_every_days,
            grace_days: checked.grace_days,
            restricted: Some(AupText { text: checked.text }),
        };
        self.policies.publish(&mut tx, &context, &published, now).await?;
        tx.commit().await?;
        Ok(published)
    }

    /// The policies in force at the school today, one per audience that has one.
    pub async fn in_force(&self, scope: &SchoolScope<AnyRole>) -> Result<Vec<AupPublished>, AupError> {
        let versions = self.policies.versions(&scope.trust_id, &scope.school_id).await?;
        let today = Utc::now().date_naive();
        let mut audiences: Vec<Audience> = versions.iter().map(|version| version.audience).collect();
        audiences.dedup();
        Ok(audiences
            .into_iter()
            .filter_map(|audience| documents::in_force(&versions, &scope.school_id, audience, today).cloned())
            .collect())
    }

    /// Every version of the audience's policies that apply at the school (the trust's and its own),
    /// the old ones included.
    pub async fn versions(
        &self,
        scope: &SchoolScope<AnyRole>,
        audience: Audience,
    ) -> Result<Vec<AupPublished>, AupError> {
        let mut versions = self.policies.versions(&scope.trust_id, &scope.school_id).await?;
        versions.retain(|version| version.audience == audience);
        Ok(versions)
    }

    /// Whether the caller may record answers at the school (its staff; not its governors): asked
    /// before the request's body is read.
    pub fn may_record(scope: &SchoolScope<AnyRole>) -> Result<(), AupError> {
        RosterView::of(scope.caller.school_roles(&scope.school_id))
            .map(|_| ())
            .ok_or(AupError::NotFound)
    }

    /// Records an answer entered by a member of staff at the school.
    pub async fn agree(
        &self,
        scope: &SchoolScope<AnyRole>,
        new: NewAgreement,
    ) -> Result<AgreementRecorded, AupError> {
        Self::may_record(scope)?;
        let now = Utc::now();
        let signed_at = new.signed_at.unwrap_or(now);
        if signed_at > now + Duration::minutes(5) {
            return Err(AupError::Invalid(vec![issue("signed_at", "is in the future")]));
        }
        if new.source == AgreementSource::AsGiven && now - signed_at > Duration::hours(1) {
            return Err(AupError::Invalid(vec![issue(
                "signed_at",
                "is more than an hour ago: only a paper form is entered after it was signed (on_paper)",
            )]));
        }
        if now - signed_at > Duration::days(ENTERED_LATER_WITHIN_DAYS) {
            return Err(AupError::Refused(
                "An answer more than a year old no longer counts: ask them to sign again.".into(),
            ));
        }
        let person = self
            .on_roster(&scope.school_id, new.person_id, "person_id")
            .await?;
        let parent = match new.signer {
            Signer::ParentOrCarer { parent_id } => Some(
                self.on_roster(&scope.school_id, parent_id, "signer.parent_id")
                    .await?,
            ),
            Signer::Themselves => None,
        };
        agreements::may_agree(
            &person.record,
            new.audience,
            &new.signer,
            parent.as_ref().map(|parent| &parent.record),
        )
        .map_err(AupError::Refused)?;
        let versions = self.policies.versions(&scope.trust_id, &scope.school_id).await?;
        let in_force = documents::in_force(&versions, &scope.school_id, new.audience, signed_at.date_naive())
            .ok_or_else(|| {
                AupError::Refused(format!(
                    "The school has no {:?} policy in force to agree to.",
                    new.audience
                ))
            })?;
        if new.version.is_some_and(|version| version != in_force.version) {
            return Err(AupError::Conflict(format!(
                "Version {} of this policy is in force: show the reader its text, then record their answer to it.",
                in_force.version
            )));
        }
        let agreement = AgreementRecorded {
            agreement_id: Uuid::now_v7(),
            person_id: person.id,
            audience: new.audience,
            document_id: in_force.document_id,
            version: in_force.version,
            decision: new.decision,
            signer: new.signer,
            source: new.source,
            signed_at,
        };
        let context = self.context(&scope.caller, &scope.trust_id, Some(&scope.school_id), "staff");
        let mut tx = self.policies.pool().begin().await?;
        self.policies
            .record(&mut tx, &context, &agreement, &scope.caller.subject)
            .await?;
        tx.commit().await?;
        Ok(agreement)
    }

    /// Someone on the school's roster now, or a refusal naming the field that named them (a person of
    /// another school is answered as no one).
    pub async fn on_roster(&self, school_id: &str, id: Uuid, field: &str) -> Result<StoredPerson, AupError> {
        match self.people.person(school_id, id).await? {
            Some(person) if !person.removed => Ok(person),
            _ => Err(AupError::Refused(format!(
                "{field} is not someone on this school's roster."
            ))),
        }
    }

    /// Where a person stands: in full for the school's leads and its MIS; covered or not for the
    /// rest of its staff.
    pub async fn standing(
        &self,
        scope: &SchoolScope<AnyGrant>,
        person_id: Uuid,
    ) -> Result<PersonStanding, AupError> {
        let detail = reads_detail(&scope.caller, &scope.school_id, &scope.trust_id);
        if !detail && RosterView::of(scope.caller.school_roles(&scope.school_id)).is_none() {
            return Err(AupError::NotFound);
        }
        let person = self
            .people
            .person(&scope.school_id, person_id)
            .await?
            .ok_or(AupError::NotFound)?;
        let (policies, primary) = self
            .policy_standings(&scope.trust_id, &scope.school_id, &person)
            .await?;
        Ok(PersonStanding {
            person,
            policies: detail.then_some(policies),
            primary,
        })
    }

    /// Where a person stands with their own policy (first) and every other they answered, and with
    /// their own alone.
    async fn policy_standings(
        &self,
        trust_id: &str,
        school_id: &str,
        person: &StoredPerson,
    ) -> Result<(Vec<PolicyStanding>, Standing), AupError> {
        let versions = self.policies.versions(trust_id, school_id).await?;
        let latest = self.policies.latest(school_id, Some(&[person.id])).await?;
        let today = Utc::now().date_naive();
        let primary_audience = agreements::primary_audience(&person.record);
        let mut audiences: Vec<Audience> = primary_audience.into_iter().collect();
        audiences.extend(
            latest
                .iter()
                .map(|answer| answer.audience)
                .filter(|audience| Some(*audience) != primary_audience),
        );
        let policies: Vec<PolicyStanding> = audiences
            .into_iter()
            .map(|audience| {
                let in_force = documents::in_force(&versions, school_id, audience, today);
                let last = latest.iter().find(|answer| answer.audience == audience);
                PolicyStanding {
                    audience,
                    standing: agreements::standing(last, in_force, today),
                    in_force_version: in_force.map(|version| version.version),
                    last: last.cloned(),
                }
            })
            .collect();
        let primary = match primary_audience {
            Some(_) => policies[0].standing,
            None => Standing::NoPolicy,
        };
        Ok((policies, primary))
    }

    /// Every answer a person gave (the school's leads).
    pub async fn answers(
        &self,
        scope: &SchoolScope<SafeguardingLeads>,
        person_id: Uuid,
    ) -> Result<Vec<StoredAgreement>, AupError> {
        self.people
            .person(&scope.school_id, person_id)
            .await?
            .ok_or(AupError::NotFound)?;
        Ok(self.policies.answers(&scope.school_id, person_id).await?)
    }

    /// Where everyone on the school's roster stands today with their own policy (None: a pupil
    /// without a year group, for whom no policy can be named).
    pub async fn standings(
        &self,
        trust_id: &str,
        school_id: &str,
    ) -> Result<Vec<(StoredPerson, Option<(Audience, Standing)>)>, AupError> {
        let roster = self.people.roster(school_id).await?;
        let versions = self.policies.versions(trust_id, school_id).await?;
        let latest: HashMap<(Uuid, Audience), AgreementRecorded> = self
            .policies
            .latest(school_id, None)
            .await?
            .into_iter()
            .map(|answer| ((answer.person_id, answer.audience), answer))
            .collect();
        let today = Utc::now().date_naive();
        Ok(roster
            .into_iter()
            .map(|person| {
                let standing = agreements::primary_audience(&person.record).map(|audience| {
                    let in_force = documents::in_force(&versions, school_id, audience, today);
                    (
                        audience,
                        agreements::standing(latest.get(&(person.id, audience)), in_force, today),
                    )
                });
                (person, standing)
            })
            .collect())
    }

    /// Where one person stands today with their own policy: what access needs.
    pub async fn standing_of(
        &self,
        trust_id: &str,
        school_id: &str,
        person: &StoredPerson,
    ) -> Result<Standing, AupError> {
        Ok(self.policy_standings(trust_id, school_id, person).await?.1)
    }

    /// The school's compliance today (its leads and its MIS).
    pub async fn compliance(&self, scope: &SchoolScope<AnyGrant>) -> Result<Compliance, AupError> {
        if !reads_detail(&scope.caller, &scope.school_id, &scope.trust_id) {
            return Err(AupError::NotFound);
        }
        let mut compliance = Compliance {
            today: Utc::now().date_naive(),
            counts: BTreeMap::new(),
            people: Vec::new(),
            unplaced: 0,
        };
        for (person, standing) in self.standings(&scope.trust_id, &scope.school_id).await? {
            let Some((audience, standing)) = standing else {
                compliance.unplaced += 1;
                continue;
            };
            *compliance.counts.entry((audience, standing)).or_default() += 1;
            compliance.people.push((
                person.id,
                crate::store::mis_id_of(&person.record),
                audience,
                standing,
            ));
        }
        Ok(compliance)
    }
}

fn issue(field: &str, message: &str) -> crate::domain::people::Issue {
    crate::domain::people::Issue::new(field, message)
}
