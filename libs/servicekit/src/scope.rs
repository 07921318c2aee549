//! Who may call an endpoint, said in its signature. A handler that takes a [`SchoolScope`] or a
//! [`TrustScope`] runs only for an authenticated caller whose grants on the path's school or trust
//! satisfy the scope's policy; anyone else gets 404 before the handler's body runs (existence is not
//! revealed). What the caller may then do to a record is the domain's to decide.

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::LocalBoxFuture;
use trustsafe_auth::{Caller, SchoolRole, Scope, TrustRole};
use trustsafe_problem::{Kind, Problem};

use crate::Tenancy;

/// Whom a school's endpoints admit, given the school and its trust.
pub trait SchoolPolicy: 'static {
    fn admits(caller: &Caller, school_id: &str, trust_id: &str) -> bool;
}

/// Whom a trust's endpoints admit.
pub trait TrustPolicy: 'static {
    fn admits(caller: &Caller, trust_id: &str) -> bool;
}

/// The policies the platform's endpoints use.
pub mod policy {
    use super::*;

    /// Any grant on the school (a role or an integration scope), or any role in its trust; on a
    /// trust's path, any role in the trust.
    pub struct AnyGrant;

    impl SchoolPolicy for AnyGrant {
        fn admits(caller: &Caller, school_id: &str, trust_id: &str) -> bool {
            caller.knows_school(school_id) || caller.knows_trust(trust_id)
        }
    }

    impl TrustPolicy for AnyGrant {
        fn admits(caller: &Caller, trust_id: &str) -> bool {
            caller.knows_trust(trust_id)
        }
    }

    /// A person with a role at the school or in its trust: staff, governors, the trust's people; not
    /// an integration, whose scope is no role.
    pub struct AnyRole;

    impl SchoolPolicy for AnyRole {
        fn admits(caller: &Caller, school_id: &str, trust_id: &str) -> bool {
            caller.school_roles(school_id).next().is_some() || caller.knows_trust(trust_id)
        }
    }

    /// Those who lead safeguarding at the school (its DSL, deputies and headteacher) or across its
    /// trust (the trust's safeguarding lead).
    pub struct SafeguardingLeads;

    impl SchoolPolicy for SafeguardingLeads {
        fn admits(caller: &Caller, school_id: &str, trust_id: &str) -> bool {
            caller.has_trust_role(trust_id, TrustRole::TrustSafeguardingLead)
                || [SchoolRole::Dsl, SchoolRole::DeputyDsl, SchoolRole::Headteacher]
                    .into_iter()
                    .any(|role| caller.has_school_role(school_id, role))
        }
    }

    /// The school's MIS integration (the `mis` scope on the school): it syncs the roster and reads
    /// acceptable-use status, and nothing else.
    pub struct MisIntegration;

    impl SchoolPolicy for MisIntegration {
        fn admits(caller: &Caller, school_id: &str, _trust_id: &str) -> bool {
            caller.has_scope(school_id, Scope::Mis)
        }
    }

    /// The school's Wi-Fi captive portal (the `captive_portal` scope): it checks visitors' codes.
    pub struct CaptivePortal;

    impl SchoolPolicy for CaptivePortal {
        fn admits(caller: &Caller, school_id: &str, _trust_id: &str) -> bool {
            caller.has_scope(school_id, Scope::CaptivePortal)
        }
    }

    /// The trust's safeguarding lead and its governors: who reads a trust's figures.
    pub struct TrustReaders;

    impl TrustPolicy for TrustReaders {
        fn admits(caller: &Caller, trust_id: &str) -> bool {
            caller.has_trust_role(trust_id, TrustRole::TrustSafeguardingLead)
                || caller.has_trust_role(trust_id, TrustRole::TrustGovernor)
        }
    }

    /// The trust's safeguarding lead alone.
    pub struct TrustLead;

    impl TrustPolicy for TrustLead {
        fn admits(caller: &Caller, trust_id: &str) -> bool {
            caller.has_trust_role(trust_id, TrustRole::TrustSafeguardingLead)
        }
    }
}

/// A caller admitted by `P` to the school named by the path's `{school_id}`.
pub struct SchoolScope<P = policy::AnyGrant> {
    pub caller: Caller,
    pub school_id: String,
    pub trust_id: String,
    policy: PhantomData<P>,
}

/// A caller admitted by `P` to the trust named by the path's `{trust_id}`.
pub struct TrustScope<P = policy::AnyGrant> {
    pub caller: Caller,
    pub trust_id: String,
    policy: PhantomData<P>,
}

impl<P: SchoolPolicy> SchoolScope<P> {
    /// The scope of `caller` on `school_id`, if the school is in the tenancy and `P` admits them.
    pub fn admit(tenancy: &Tenancy, caller: Caller, school_id: &str) -> Option<Self> {
        let (trust, school) = tenancy.school(school_id)?;
        P::admits(&caller, &school.id, &trust.id).then(|| Self {
            caller,
            school_id: school.id.clone(),
            trust_id: trust.id.clone(),
            policy: PhantomData,
        })
    }
}

impl<P: TrustPolicy> TrustScope<P> {
    /// The scope of `caller` on `trust_id`, if the trust is in the tenancy and `P` admits them.
    pub fn admit(tenancy: &Tenancy, caller: Caller, trust_id: &str) -> Option<Self> {
        let trust = tenancy.trust(trust_id)?;
        P::admits(&caller, &trust.id).then(|| Self {
            caller,
            trust_id: trust.id.clone(),
            policy: PhantomData,
        })
    }
}

/// The caller (authenticated), the tenancy and the path's `{name}`, for a scope to decide on.
fn parts(
    req: &HttpRequest,
    payload: &mut Payload,
    name: &str,
) -> (
    Option<web::Data<Tenancy>>,
    Option<String>,
    <Caller as FromRequest>::Future,
) {
    (
        req.app_data::<web::Data<Tenancy>>().cloned(),
        req.match_info().get(name).map(str::to_owned),
        Caller::from_request(req, payload),
    )
}

fn no_tenancy() -> Problem {
    Problem::new(Kind::Internal, "no tenancy is configured")
}

impl<P: SchoolPolicy> FromRequest for SchoolScope<P> {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (tenancy, school_id, caller) = parts(req, payload, "school_id");
        Box::pin(async move {
            let caller = caller.await?;
            let tenancy = tenancy.ok_or_else(no_tenancy)?;
            school_id
                .and_then(|school_id| Self::admit(&tenancy, caller, &school_id))
                .ok_or_else(Problem::not_found)
        })
    }
}

impl<P: TrustPolicy> FromRequest for TrustScope<P> {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (tenancy, trust_id, caller) = parts(req, payload, "trust_id");
        Box::pin(async move {
            let caller = caller.await?;
            let tenancy = tenancy.ok_or_else(no_tenancy)?;
            trust_id
                .and_then(|trust_id| Self::admit(&tenancy, caller, &trust_id))
                .ok_or_else(Problem::not_found)
        })
    }
}

#[cfg(test)]
mod tests {
    use trustsafe_auth::{Grants, Scope};

    use super::policy::*;
    use super::*;

    fn caller(school: &[(&str, SchoolRole)], trust: &[(&str, TrustRole)]) -> Caller {
        Caller {
            subject: "someone".into(),
            name: None,
            grants: Grants::of(school, trust),
        }
    }

    #[test]
    fn a_school_admits_its_own_people_and_its_trusts_but_no_other() {
        let tenancy = Tenancy::example();
        let raps_staff = caller(&[("raps", SchoolRole::Staff)], &[]);
        let viking_lead = caller(&[], &[("viking", TrustRole::TrustSafeguardingLead)]);
        let claremont_dsl = caller(&[("claremont", SchoolRole::Dsl)], &[]);
        assert!(SchoolScope::<AnyGrant>::admit(&tenancy, raps_staff.clone(), "raps").is_some());
        assert!(SchoolScope::<AnyGrant>::admit(&tenancy, viking_lead.clone(), "raps").is_some());
        assert!(SchoolScope::<AnyGrant>::admit(&tenancy, claremont_dsl, "raps").is_none());
        assert!(SchoolScope::<AnyGrant>::admit(&tenancy, raps_staff.clone(), "chilton").is_none());
        assert!(SchoolScope::<AnyGrant>::admit(&tenancy, raps_staff.clone(), "nowhere").is_none());
        assert!(SchoolScope::<SafeguardingLeads>::admit(&tenancy, raps_staff, "raps").is_none());
        assert!(SchoolScope::<SafeguardingLeads>::admit(&tenancy, viking_lead, "raps").is_some());
        let raps_head = caller(&[("raps", SchoolRole::Headteacher)], &[]);
        assert!(SchoolScope::<SafeguardingLeads>::admit(&tenancy, raps_head.clone(), "raps").is_some());
        assert!(SchoolScope::<SafeguardingLeads>::admit(&tenancy, raps_head, "chilton").is_none());
    }

    #[test]
    fn an_integration_knows_the_school_but_holds_no_role_there() {
        let tenancy = Tenancy::example();
        let mut mis = caller(&[], &[]);
        mis.grants
            .scopes
            .entry("raps".into())
            .or_default()
            .insert(Scope::Mis);
        let governor = caller(&[], &[("viking", TrustRole::TrustGovernor)]);
        assert!(SchoolScope::<AnyGrant>::admit(&tenancy, mis.clone(), "raps").is_some());
        assert!(SchoolScope::<AnyRole>::admit(&tenancy, mis.clone(), "raps").is_none());
        assert!(SchoolScope::<AnyRole>::admit(&tenancy, governor.clone(), "raps").is_some());
        assert!(SchoolScope::<MisIntegration>::admit(&tenancy, mis.clone(), "raps").is_some());
        assert!(SchoolScope::<MisIntegration>::admit(&tenancy, mis, "chilton").is_none());
        let raps_dsl = caller(&[("raps", SchoolRole::Dsl)], &[]);
        assert!(SchoolScope::<MisIntegration>::admit(&tenancy, raps_dsl, "raps").is_none());
        assert!(SchoolScope::<MisIntegration>::admit(&tenancy, governor, "raps").is_none());
    }

    #[test]
    fn a_trust_admits_by_its_policy_alone() {
        let tenancy = Tenancy::example();
        let governor = caller(&[], &[("viking", TrustRole::TrustGovernor)]);
        let raps_dsl = caller(&[("raps", SchoolRole::Dsl)], &[]);
        assert!(TrustScope::<TrustReaders>::admit(&tenancy, governor.clone(), "viking").is_some());
        assert!(TrustScope::<TrustLead>::admit(&tenancy, governor.clone(), "viking").is_none());
        assert!(TrustScope::<TrustReaders>::admit(&tenancy, governor, "claremont").is_none());
        assert!(TrustScope::<AnyGrant>::admit(&tenancy, raps_dsl, "viking").is_none());
    }
}
