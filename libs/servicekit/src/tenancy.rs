//! The trusts and schools the platform serves, from the tenancy file (`deploy/tenancy.example.yaml`).
//! Their ids are part of the API: `/api/v1/schools/{school_id}`, `/api/v1/trusts/{trust_id}`.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The demo tenancy that `trustsafe dev` uses unless told otherwise.
pub const EXAMPLE: &str = include_str!("../../../deploy/tenancy.example.yaml");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenancy {
    pub trusts: Vec<Trust>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trust {
    pub id: String,
    pub name: String,
    pub schools: Vec<School>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct School {
    pub id: String,
    pub name: String,
    /// DfE unique reference number, when known.
    pub urn: Option<u32>,
    pub local_authority: String,
    pub filtering_provider: Option<String>,
    pub broadband_provider: Option<String>,
    pub online_safety_policy: PolicyDates,
}

/// When the school's online-safety policy was approved and is next due for review. The policies
/// speak in terms ("Spring 2022", "Term 4 2017"); the label keeps their words, the date is the last
/// day of that term, so a passed review can be flagged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDates {
    pub approved: Option<NaiveDate>,
    pub approved_label: Option<String>,
    pub next_review: Option<NaiveDate>,
    pub next_review_label: Option<String>,
}

impl Tenancy {
    pub fn parse(text: &str) -> Result<Self> {
        let tenancy: Tenancy = serde_yaml_ng::from_str(text).context("tenancy file")?;
        tenancy.validate()?;
        Ok(tenancy)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    pub fn example() -> Self {
        Self::parse(EXAMPLE).expect("the shipped example tenancy is valid")
    }

    fn validate(&self) -> Result<()> {
        let mut ids = HashSet::new();
        for trust in &self.trusts {
            check_slug(&trust.id)?;
            if !ids.insert(("trust", trust.id.as_str())) {
                bail!("trust {} appears twice", trust.id);
            }
            for school in &trust.schools {
                check_slug(&school.id)?;
                if !ids.insert(("school", school.id.as_str())) {
                    bail!("school {} appears twice", school.id);
                }
            }
        }
        Ok(())
    }

    /// A school and the trust it belongs to.
    pub fn school(&self, school_id: &str) -> Option<(&Trust, &School)> {
        self.trusts.iter().find_map(|trust| {
            trust
                .schools
                .iter()
                .find(|school| school.id == school_id)
                .map(|school| (trust, school))
        })
    }

    pub fn trust(&self, trust_id: &str) -> Option<&Trust> {
        self.trusts.iter().find(|trust| trust.id == trust_id)
    }

    /// The ids of a trust's schools, in the tenancy's order; none for a trust it does not know.
    pub fn school_ids(&self, trust_id: &str) -> Vec<String> {
        self.trust(trust_id)
            .map(|trust| trust.schools.iter().map(|school| school.id.clone()).collect())
            .unwrap_or_default()
    }
}

fn check_slug(id: &str) -> Result<()> {
    let valid = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        bail!("{id:?} is not a slug (lower-case letters, digits and hyphens)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_has_the_ids_the_api_promises() {
        let tenancy = Tenancy::example();
        let ids = |trust: &str| -> Vec<String> {
            tenancy
                .trust(trust)
                .unwrap()
                .schools
                .iter()
                .map(|school| school.id.clone())
                .collect()
        };
        assert_eq!(ids("viking"), ["chilton", "ramsgate-free", "raps"]);
        assert_eq!(ids("claremont"), ["claremont"]);
        let (trust, raps) = tenancy.school("raps").unwrap();
        assert_eq!(trust.id, "viking");
        assert_eq!(raps.filtering_provider.as_deref(), Some("Lightspeed"));
        let (_, claremont) = tenancy.school("claremont").unwrap();
        assert_eq!(
            claremont.online_safety_policy.next_review,
            NaiveDate::from_ymd_opt(2022, 4, 8)
        );
        assert!(tenancy.school("atlantis").is_none());
    }

    #[test]
    fn bad_tenancy_files_are_refused_with_a_reason() {
        let twice = EXAMPLE.to_owned() + &EXAMPLE.replace("trusts:", "").replace("viking", "viking2");
        assert!(Tenancy::parse(&twice).is_err());
        let err =
            Tenancy::parse("trusts:\n  - id: Viking Trust\n    name: x\n    schools: []\n").unwrap_err();
        assert!(format!("{err:#}").contains("not a slug"), "{err:#}");
        assert!(Tenancy::parse("trusts: [{id: x, name: y, schools: [], colour: red}]").is_err());
    }
}
