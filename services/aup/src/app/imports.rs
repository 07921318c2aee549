//! Acceptances another system collected, imported: its export read by `domain::imports`, each person's
//! latest answer recorded through the same core as one given here (as imported, with the system and the
//! line it came from), unless the record already holds it or a later one. Importing an export twice
//! changes nothing the second time.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use trustsafe_events::aup::{AcceptanceSystem, AgreementSource, Audience, Signer};
use trustsafe_servicekit::SchoolScope;
use trustsafe_servicekit::policy::AnyRole;
use uuid::Uuid;

use super::access::{Access, Action};
use super::error::AupError;
use super::policies::{NewAgreement, Policies};
use crate::domain::agreements::primary_audience;
use crate::domain::imports::{Accounts, Layout, Line, Unmatched, latest_per_person};
use crate::store::{PeopleStore, PolicyStore};

/// What became of every line of an export.
#[derive(Debug)]
pub struct ImportReport {
    pub system: AcceptanceSystem,
    /// Lines after the header.
    pub lines: u64,
    /// Answers recorded now.
    pub recorded: u64,
    /// A person's latest answer that the record already holds (or holds a later one).
    pub already_recorded: u64,
    /// Earlier answers of a person whose latest one stands.
    pub superseded: u64,
    /// Acceptances the system says have expired.
    pub expired: u64,
    pub blank: u64,
    /// Lines whose user is no one on the roster, or more than one person: (line, user, why).
    pub unmatched: Vec<(u64, String, Unmatched)>,
    /// Lines that are not an answer, or an answer that cannot be recorded: (line, why).
    pub refused: Vec<(u64, String)>,
}

pub struct Imports {
    people: PeopleStore,
    answers: PolicyStore,
    policies: Arc<Policies>,
}

impl Imports {
    pub fn new(people: PeopleStore, answers: PolicyStore, policies: Arc<Policies>) -> Self {
        Self {
            people,
            answers,
            policies,
        }
    }

    /// Whether the caller may import at the school (its leads and technician, who keep the record of
    /// access): asked before the body is read.
    pub fn may(scope: &SchoolScope<AnyRole>) -> Result<(), AupError> {
        Access::may(scope, Action::Import)
    }

    /// Imports `export` (CSV) from `system`: each answer to the person's own policy, or to
    /// `audience`'s when given.
    pub async fn import(
        &self,
        scope: &SchoolScope<AnyRole>,
        system: AcceptanceSystem,
        audience: Option<Audience>,
        export: &[u8],
    ) -> Result<ImportReport, AupError> {
        Self::may(scope)?;
        let now = Utc::now();
        let mut rows = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(export)
            .into_byte_records();
        let header = match rows.next() {
            Some(Ok(header)) => header,
            _ => {
                return Err(AupError::Refused(
                    "The export is empty: it has no header line.".into(),
                ));
            }
        };
        let header: Vec<&str> = header
            .iter()
            .map(|field| std::str::from_utf8(field).unwrap_or(""))
            .collect();
        let layout = Layout::from_header(system, &header).map_err(AupError::Refused)?;

        let roster = self.people.roster(&scope.school_id).await?;
        let accounts = Accounts::of(roster.iter().filter_map(|person| {
            let details = person.record.restricted.as_ref()?;
            Some((person.id, details.accounts.as_slice()))
        }));
        let mut report = ImportReport {
            system,
            lines: 0,
            recorded: 0,
            already_recorded: 0,
            superseded: 0,
            expired: 0,
            blank: 0,
            unmatched: Vec::new(),
            refused: Vec::new(),
        };
        let mut matched = Vec::new();
        for (n, row) in rows.enumerate() {
            let line = n as u64 + 2;
            report.lines += 1;
            let fields: Option<Vec<&str>> = match &row {
                Ok(row) => row.iter().map(|field| std::str::from_utf8(field).ok()).collect(),
                Err(_) => None,
            };
            let Some(fields) = fields else {
                report.refused.push((line, "not a CSV line of UTF-8 text".into()));
                continue;
            };
            match layout.line(&fields, line, now) {
                Line::Blank => report.blank += 1,
                Line::Expired => report.expired += 1,
                Line::Rejected(why) => report.refused.push((line, why)),
                Line::Acceptance(acceptance) => match accounts.find(&acceptance.user) {
                    Ok(person) => matched.push((person, acceptance)),
                    Err(why) => report.unmatched.push((line, acceptance.user, why)),
                },
            }
        }
        let (latest, superseded) = latest_per_person(matched);
        report.superseded = superseded;

        let on_record: HashMap<(Uuid, Audience), DateTime<Utc>> = self
            .answers
            .latest(&scope.school_id, None)
            .await?
            .into_iter()
            .map(|answer| ((answer.person_id, answer.audience), answer.signed_at))
            .collect();
        let people: HashMap<Uuid, _> = roster.iter().map(|person| (person.id, person)).collect();
        for (person_id, acceptance) in latest {
            let Some(audience) = audience.or_else(|| primary_audience(&people[&person_id].record)) else {
                report.refused.push((
                    acceptance.line,
                    "no policy can be named for them: the MIS gave no year group".into(),
                ));
                continue;
            };
            if on_record
                .get(&(person_id, audience))
                .is_some_and(|signed_at| *signed_at >= acceptance.at)
            {
                report.already_recorded += 1;
                continue;
            }
            let answer = NewAgreement {
                person_id,
                audience,
                decision: acceptance.decision,
                signer: Signer::Themselves,
                source: AgreementSource::Imported {
                    system,
                    line: acceptance.line,
                },
                signed_at: Some(acceptance.at),
                version: None,
            };
            match self.policies.agree(scope, answer).await {
                Ok(_) => report.recorded += 1,
                Err(AupError::Refused(why)) => report.refused.push((acceptance.line, why)),
                Err(AupError::Invalid(issues)) => report.refused.push((
                    acceptance.line,
                    issues
                        .iter()
                        .map(|issue| format!("{} {}", issue.field, issue.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                )),
                Err(err) => return Err(err),
            }
        }
        report.refused.sort_by_key(|(line, _)| *line);
        Ok(report)
    }
}
