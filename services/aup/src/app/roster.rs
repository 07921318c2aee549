//! The roster core: a sync from the MIS (check every record, decide against what is known, write the
//! changes in one transaction) and the reads of people, each through the domain's view rule.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use trustsafe_events::aup::{PersonRecorded, PersonRemoved, RosterKind};
use trustsafe_events::{Actor, Envelope};
use trustsafe_eventstore::{AppendContext, NewEvent};
use trustsafe_servicekit::pseudonyms::NameHasher;
use trustsafe_servicekit::scope::policy::{AnyRole, MisIntegration};
use trustsafe_servicekit::{PseudonymKey, Purpose, SchoolScope};
use uuid::Uuid;

use crate::app::error::AupError;
use crate::domain::people::{
    self, Checked, IncomingPerson, IncomingRemoval, Issue, Known, Outcome, Person, RosterView,
};
use crate::store::{PeopleFilter, PeopleStore, Saved, StoredPerson, mis_id_of};

/// Who syncs the roster: the school's MIS.
pub type MisScope = SchoolScope<MisIntegration>;
/// Who may ask to read people: anyone with a role at the school or its trust; the domain's
/// [`RosterView`] then says how much, or nothing.
pub type ReaderScope = SchoolScope<AnyRole>;

/// What the MIS sent: people and removals, each read on its own so that one bad record cannot
/// spoil the rest.
pub struct RosterBatch {
    /// When the data was true in the MIS; now if not said.
    pub as_of: Option<DateTime<Utc>>,
    pub people: Vec<serde_json::Value>,
    pub removals: Vec<serde_json::Value>,
}

/// Which list of the batch a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    People,
    Removals,
}

/// What happened to one record of a batch: an outcome, or the errors that refused it.
#[derive(Clone, Debug)]
pub struct RecordResult {
    pub section: Section,
    pub index: usize,
    pub kind: Option<RosterKind>,
    pub mis_id: Option<String>,
    pub person_id: Option<Uuid>,
    /// None: refused (see `errors`).
    pub outcome: Option<Outcome>,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}

impl RecordResult {
    fn new(section: Section, index: usize) -> Self {
        Self {
            section,
            index,
            kind: None,
            mis_id: None,
            person_id: None,
            outcome: None,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

pub struct SyncReport {
    pub as_of: DateTime<Utc>,
    /// In the batch's order: people, then removals.
    pub results: Vec<RecordResult>,
}

/// A person's recorded event compared without its `as_of`: a later batch saying the same thing is
/// no change.
#[derive(Clone, Debug)]
struct Record(PersonRecorded);

impl PartialEq for Record {
    fn eq(&self, other: &Self) -> bool {
        PersonRecorded {
            as_of: other.0.as_of,
            ..self.0.clone()
        } == other.0
    }
}

fn as_known(person: &StoredPerson) -> Known<Record> {
    Known {
        record: Record(person.record.clone()),
        as_of: person.record.as_of,
        removed: person.removed,
    }
}

/// The record's (kind, MIS id), or a parse error naming the field.
fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, Vec<Issue>> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." { "record".to_owned() } else { path };
        vec![Issue::new(field, err.into_inner().to_string())]
    })
}

/// A batch read and checked: a result for every record, the records that passed, and the
/// (kind, MIS id) pairs the roster must be asked about (theirs, and the children parents name).
struct CheckedBatch {
    results: Vec<RecordResult>,
    people: Vec<(usize, Person)>,
    removals: Vec<(usize, RosterKind, String)>,
    keys: Vec<(RosterKind, String)>,
}

/// Reads and checks every record on its own; a second record of the same person is refused.
fn check_batch(
    incoming_people: Vec<serde_json::Value>,
    incoming_removals: Vec<serde_json::Value>,
    as_of: DateTime<Utc>,
) -> CheckedBatch {
    let mut results = Vec::with_capacity(incoming_people.len() + incoming_removals.len());
    let mut people: Vec<(usize, Person)> = Vec::new();
    let mut removals: Vec<(usize, RosterKind, String)> = Vec::new();
    let mut first_seen: HashMap<(RosterKind, String), String> = HashMap::new();
    let mut seen = |result: &mut RecordResult, key: (RosterKind, String)| {
        let here = format!("{}[{}]", section_name(result.section), result.index);
        if let Some(earlier) = first_seen.get(&key) {
            result.errors.push(Issue::new(
                "mis_id",
                format!(
                    "is the same {} as {earlier}: a batch names each person once",
                    people::kind_name(key.0)
                ),
            ));
            return false;
        }
        first_seen.insert(key, here);
        true
    };
    for (index, value) in incoming_people.into_iter().enumerate() {
        let mut result = RecordResult::new(Section::People, index);
        let checked =
            parse::<IncomingPerson>(value).and_then(|incoming| people::check_person(incoming, as_of));
        match checked {
            Ok(Checked { record, warnings }) => {
                result.kind = Some(record.kind);
                result.mis_id = Some(record.details.mis_id.clone());
                result.warnings = warnings;
                if seen(&mut result, (record.kind, record.details.mis_id.clone())) {
                    people.push((results.len(), record));
                }
            }
            Err(errors) => result.errors = errors,
        }
        results.push(result);
    }
    for (index, value) in incoming_removals.into_iter().enumerate() {
        let mut result = RecordResult::new(Section::Removals, index);
        match parse::<IncomingRemoval>(value).and_then(people::check_removal) {
            Ok(Checked {
                record: (kind, mis_id),
                warnings,
            }) => {
                result.kind = Some(kind);
                result.mis_id = Some(mis_id.clone());
                result.warnings = warnings;
                if seen(&mut result, (kind, mis_id.clone())) {
                    removals.push((results.len(), kind, mis_id));
                }
            }
            Err(errors) => result.errors = errors,
        }
        results.push(result);
    }

    let mut keys: Vec<(RosterKind, String)> = first_seen.into_keys().collect();
    keys.extend(people.iter().flat_map(|(_, person)| {
        person
            .details
            .children
            .iter()
            .map(|child| (RosterKind::Pupil, child.mis_id.clone()))
    }));
    CheckedBatch {
        results,
        people,
        removals,
        keys,
    }
}

pub struct Roster {
    store: PeopleStore,
    pseudonyms: Arc<PseudonymKey>,
}

impl Roster {
    pub fn new(store: PeopleStore, pseudonyms: Arc<PseudonymKey>) -> Self {
        Self { store, pseudonyms }
    }

    /// Applies a batch from the MIS. Every record gets a result; the good ones are written in one
    /// transaction, the rest written nowhere.
    pub async fn sync(&self, scope: &MisScope, batch: RosterBatch) -> Result<SyncReport, AupError> {
        let as_of = batch.as_of.unwrap_or_else(Utc::now);
        let CheckedBatch {
            mut results,
            mut people,
            removals,
            keys,
        } = check_batch(batch.people, batch.removals, as_of);
        let mut tx = self.store.pool().begin().await?;
        self.store.lock_roster(&mut tx, &scope.school_id).await?;
        let known = self.store.known(&mut tx, &scope.school_id, &keys).await?;
        let mut pupils: HashMap<String, Uuid> = known
            .iter()
            .filter(|((kind, _), person)| *kind == RosterKind::Pupil && !person.removed)
            .map(|((_, mis_id), person)| (mis_id.clone(), person.id))
            .collect();

        // Pupils (and staff) before parents, so a parent's link to a child new in this same batch
        // resolves at once.
        people.sort_by_key(|(_, person)| person.kind == RosterKind::Parent);
        let accounts = self.pseudonyms.account_hasher(&scope.trust_id);
        let mut saved = Vec::new();
        for (at, person) in people {
            let result = &mut results[at];
            let key = (person.kind, person.details.mis_id.clone());
            let before = known.get(&key);
            let id = before.map_or_else(Uuid::now_v7, |before| before.id);
            let record = Self::record(&accounts, id, person, &pupils, as_of, &mut result.warnings);
            let outcome = people::recording(before.map(as_known).as_ref(), &Record(record.clone()), as_of);
            result.person_id = Some(id);
            result.outcome = Some(outcome);
            if record.kind == RosterKind::Pupil && outcome != Outcome::Stale {
                pupils.insert(mis_id_of(&record), id);
            }
            let version = before.map_or(0, |before| before.version);
            match outcome {
                Outcome::Created | Outcome::Updated => saved.push(Saved {
                    event: Some(NewEvent::new(&record, as_of)),
                    person: StoredPerson {
                        id,
                        record,
                        removed: false,
                        version: version + 1,
                    },
                }),
                Outcome::Unchanged => saved.push(Saved {
                    event: None,
                    person: StoredPerson {
                        id,
                        record,
                        removed: false,
                        version,
                    },
                }),
                Outcome::Stale | Outcome::Removed => {}
            }
        }
        for (at, kind, mis_id) in removals {
            let result = &mut results[at];
            let before = known.get(&(kind, mis_id));
            let Some(outcome) = people::removing(before.map(as_known).as_ref(), as_of) else {
                result.outcome = Some(Outcome::Unchanged);
                result
                    .warnings
                    .push(Issue::new("mis_id", "is not on the roster: nothing to remove"));
                continue;
            };
            let before = before.expect("removing answers only for someone known");
            result.person_id = Some(before.id);
            result.outcome = Some(outcome);
            if outcome == Outcome::Removed {
                let removed = PersonRemoved {
                    person_id: before.id,
                    kind,
                    as_of,
                };
                let mut record = before.record.clone();
                record.as_of = as_of;
                saved.push(Saved {
                    event: Some(NewEvent::new(&removed, as_of)),
                    person: StoredPerson {
                        id: before.id,
                        record,
                        removed: true,
                        version: before.version + 1,
                    },
                });
            }
        }
        if !saved.is_empty() {
            self.store
                .save(&mut tx, &self.context(scope), &scope.school_id, saved)
                .await?;
        }
        tx.commit().await?;
        Ok(SyncReport { as_of, results })
    }

    /// The event that records `person` as `id`: account names hashed, children's ids resolved.
    fn record(
        accounts: &NameHasher,
        id: Uuid,
        person: Person,
        pupils: &HashMap<String, Uuid>,
        as_of: DateTime<Utc>,
        warnings: &mut Vec<Issue>,
    ) -> PersonRecorded {
        let mut details = person.details;
        for (n, child) in details.children.iter_mut().enumerate() {
            child.person_id = pupils.get(&child.mis_id).copied();
            if child.person_id.is_none() {
                warnings.push(Issue::new(
                    format!("children[{n}].mis_id"),
                    "is not a pupil on the roster yet: the link is kept and resolves when they are synced",
                ));
            }
        }
        PersonRecorded {
            person_id: id,
            kind: person.kind,
            year_group: person.year_group,
            flags: person.flags,
            account_hashes: details
                .accounts
                .iter()
                .map(|account| accounts.hash(account))
                .collect(),
            responsible_for: details
                .children
                .iter()
                .filter(|child| child.parental_responsibility)
                .filter_map(|child| child.person_id)
                .collect(),
            as_of,
            restricted: Some(details),
        }
    }

    fn context(&self, scope: &MisScope) -> AppendContext {
        let pseudonym =
            self.pseudonyms
                .pseudonym(Purpose::Actor, &scope.trust_id, scope.caller.subject.as_bytes());
        AppendContext {
            trust_id: scope.trust_id.clone(),
            school_id: Some(scope.school_id.clone()),
            actor: Actor::person(scope.caller.subject.clone(), "mis").with_pseudonym(pseudonym),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
        }
    }

    /// How much of the school's people the caller reads; NotFound for someone who reads none.
    pub fn view(scope: &ReaderScope) -> Result<RosterView, AupError> {
        RosterView::of(scope.caller.school_roles(&scope.school_id)).ok_or(AupError::NotFound)
    }

    pub async fn list(
        &self,
        scope: &ReaderScope,
        filter: &PeopleFilter,
    ) -> Result<(RosterView, Vec<StoredPerson>), AupError> {
        let view = Self::view(scope)?;
        Ok((view, self.store.list(&scope.school_id, filter).await?))
    }

    pub async fn person(
        &self,
        scope: &ReaderScope,
        id: Uuid,
    ) -> Result<(RosterView, StoredPerson), AupError> {
        let view = Self::view(scope)?;
        let person = self
            .store
            .person(&scope.school_id, id)
            .await?
            .ok_or(AupError::NotFound)?;
        Ok((view, person))
    }

    /// A person's history: the DSL's, deputies' and headteacher's alone.
    pub async fn history(&self, scope: &ReaderScope, id: Uuid) -> Result<Vec<Envelope>, AupError> {
        let (view, _) = self.person(scope, id).await?;
        if view != RosterView::Full {
            return Err(AupError::Forbidden(
                "A person's history is for the DSL, deputies and the headteacher.".into(),
            ));
        }
        Ok(self.store.history(id).await?)
    }
}

pub fn section_name(section: Section) -> &'static str {
    match section {
        Section::People => "people",
        Section::Removals => "removals",
    }
}
