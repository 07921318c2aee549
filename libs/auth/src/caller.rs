//! The caller and their grants, as the token's claims give them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A role someone holds in one school.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchoolRole {
    Dsl,
    DeputyDsl,
    Staff,
    Technician,
    Headteacher,
    Governor,
}

/// A role someone holds across a trust.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustRole {
    TrustSafeguardingLead,
    TrustGovernor,
}

/// What an integration (not a person) may do for a school.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Mis,
    /// A school's Wi-Fi captive portal: it checks visitors' codes and nothing else.
    CaptivePortal,
    /// A school's web filter or monitor, sending its logs and alerts.
    FilterFeed,
}

/// The `trustsafe` claim of a token: grants per school and per trust, and integration scopes per
/// school. Role names this version does not know are ignored (they grant nothing), so a newer
/// issuer cannot lock older services out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    #[serde(
        default,
        deserialize_with = "known_only",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub schools: BTreeMap<String, BTreeSet<SchoolRole>>,
    #[serde(
        default,
        deserialize_with = "known_only",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub trusts: BTreeMap<String, BTreeSet<TrustRole>>,
    #[serde(
        default,
        deserialize_with = "known_only",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub scopes: BTreeMap<String, BTreeSet<Scope>>,
}

fn known_only<'de, D, R>(deserializer: D) -> Result<BTreeMap<String, BTreeSet<R>>, D::Error>
where
    D: serde::Deserializer<'de>,
    R: serde::de::DeserializeOwned + Ord,
{
    let raw: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::deserialize(deserializer)?;
    Ok(raw
        .into_iter()
        .map(|(id, roles)| {
            (
                id,
                roles
                    .into_iter()
                    .filter_map(|role| serde_json::from_value(role).ok())
                    .collect(),
            )
        })
        .collect())
}

/// An authenticated caller.
impl Grants {
    /// Roles at schools and in trusts, as (id, role) pairs; a school or trust may appear more than once.
    pub fn of(schools: &[(&str, SchoolRole)], trusts: &[(&str, TrustRole)]) -> Grants {
        let mut grants = Grants::default();
        for (id, role) in schools {
            grants.schools.entry((*id).into()).or_default().insert(*role);
        }
        for (id, role) in trusts {
            grants.trusts.entry((*id).into()).or_default().insert(*role);
        }
        grants
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`: a stable id of the person or integration.
    pub subject: String,
    pub name: Option<String>,
    pub grants: Grants,
}

impl Caller {
    pub fn school_roles(&self, school_id: &str) -> impl Iterator<Item = SchoolRole> + '_ {
        self.grants.schools.get(school_id).into_iter().flatten().copied()
    }

    pub fn has_school_role(&self, school_id: &str, role: SchoolRole) -> bool {
        self.school_roles(school_id).any(|held| held == role)
    }

    pub fn has_trust_role(&self, trust_id: &str, role: TrustRole) -> bool {
        self.grants
            .trusts
            .get(trust_id)
            .is_some_and(|roles| roles.contains(&role))
    }

    pub fn has_scope(&self, school_id: &str, scope: Scope) -> bool {
        self.grants
            .scopes
            .get(school_id)
            .is_some_and(|scopes| scopes.contains(&scope))
    }

    /// Any grant at all on this school (a role or a scope).
    pub fn knows_school(&self, school_id: &str) -> bool {
        self.grants
            .schools
            .get(school_id)
            .is_some_and(|roles| !roles.is_empty())
            || self
                .grants
                .scopes
                .get(school_id)
                .is_some_and(|scopes| !scopes.is_empty())
    }

    /// Any grant at all on this trust.
    pub fn knows_trust(&self, trust_id: &str) -> bool {
        self.grants
            .trusts
            .get(trust_id)
            .is_some_and(|roles| !roles.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_roles_grant_nothing_and_known_ones_read_as_written() {
        let grants: Grants = serde_json::from_value(serde_json::json!({
            "schools": {"raps": ["dsl", "janitor"], "chilton": ["wizard"]},
            "trusts": {"viking": ["trust_safeguarding_lead"]},
            "scopes": {"raps": ["mis"]}
        }))
        .unwrap();
        let caller = Caller {
            subject: "u1".into(),
            name: None,
            grants,
        };
        assert!(caller.has_school_role("raps", SchoolRole::Dsl));
        assert!(!caller.knows_school("chilton"), "only an unknown role there");
        assert!(caller.has_trust_role("viking", TrustRole::TrustSafeguardingLead));
        assert!(caller.has_scope("raps", Scope::Mis));
        assert!(!caller.knows_trust("claremont"));
    }
}
