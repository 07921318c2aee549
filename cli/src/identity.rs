//! Dev identity: the demo users `trustsafe dev` prints tokens for, and `trustsafe token`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use trustsafe_auth::dev::DevIdentity;
use trustsafe_auth::{Grants, SchoolRole, Scope, TrustRole};
use trustsafe_servicekit::Tenancy;

/// Dev tokens last a week: long enough for a demo, short enough not to be kept.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(clap::Args)]
pub struct TokenArgs {
    /// The data dir of `trustsafe dev`, where its signing key is.
    #[arg(long, env = "TRUSTSAFE_DATA_DIR", default_value = ".trustsafe")]
    data_dir: PathBuf,
    /// A school the grant is for (with --role or --scope).
    #[arg(long, conflicts_with = "trust")]
    school: Option<String>,
    /// A trust the grant is for (with --role).
    #[arg(long)]
    trust: Option<String>,
    /// dsl, deputy_dsl, staff, technician, headteacher, governor; or for a trust:
    /// trust_safeguarding_lead, trust_governor.
    #[arg(long, conflicts_with = "scope")]
    role: Option<String>,
    /// An integration scope for a school: mis, captive_portal, filter_feed.
    #[arg(long)]
    scope: Option<String>,
    /// The user's id (default: the demo user of that role and school or trust).
    #[arg(long)]
    subject: Option<String>,
    /// The trusts and schools (default: the shipped example).
    #[arg(long, env = "TRUSTSAFE_TENANCY_FILE")]
    tenancy: Option<PathBuf>,
}

/// One grant, as the flags or the demo list give it.
pub enum Grant {
    School(String, SchoolRole),
    Trust(String, TrustRole),
    Scope(String, Scope),
}

impl Grant {
    pub fn demo_subject(&self) -> String {
        match self {
            Grant::School(school, role) => format!("demo-{school}-{}", word(role)),
            Grant::Trust(trust, role) => format!("demo-{trust}-{}", word(role)),
            Grant::Scope(school, scope) => format!("demo-{school}-{}-client", word(scope)),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Grant::School(school, role) => format!("{school} {}", word(role)),
            Grant::Trust(trust, role) => format!("{trust} {}", word(role)),
            Grant::Scope(school, scope) => format!("{school} {} client", word(scope)),
        }
    }

    fn grants(&self) -> Grants {
        let mut grants = Grants::default();
        match self {
            Grant::School(school, role) => {
                grants.schools.insert(school.clone(), [*role].into());
            }
            Grant::Trust(trust, role) => {
                grants.trusts.insert(trust.clone(), [*role].into());
            }
            Grant::Scope(school, scope) => {
                grants.scopes.insert(school.clone(), [*scope].into());
            }
        }
        grants
    }
}

fn word(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn parse<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .with_context(|| format!("{text:?} is not a {what}"))
}

/// The demo users: a DSL, a staff member, a technician and a governor per school, each trust's safeguarding
/// lead and a trust governor, and per school its MIS, captive portal and filter feed clients.
pub fn demo_grants(tenancy: &Tenancy) -> Vec<Grant> {
    let mut demo = Vec::new();
    for trust in &tenancy.trusts {
        for school in &trust.schools {
            for role in [
                SchoolRole::Dsl,
                SchoolRole::Staff,
                SchoolRole::Technician,
                SchoolRole::Governor,
            ] {
                demo.push(Grant::School(school.id.clone(), role));
            }
            demo.push(Grant::Scope(school.id.clone(), Scope::Mis));
            demo.push(Grant::Scope(school.id.clone(), Scope::CaptivePortal));
            demo.push(Grant::Scope(school.id.clone(), Scope::FilterFeed));
        }
        demo.push(Grant::Trust(trust.id.clone(), TrustRole::TrustSafeguardingLead));
        demo.push(Grant::Trust(trust.id.clone(), TrustRole::TrustGovernor));
    }
    demo
}

pub fn mint(identity: &DevIdentity, grant: &Grant, subject: Option<&str>) -> String {
    let subject = subject.map(str::to_owned).unwrap_or_else(|| grant.demo_subject());
    identity.mint(&subject, Some(&grant.describe()), &grant.grants(), TOKEN_LIFETIME)
}

pub fn token(args: TokenArgs) -> Result<()> {
    let tenancy = match &args.tenancy {
        Some(path) => Tenancy::load(path)?,
        None => Tenancy::example(),
    };
    let grant = match (&args.school, &args.trust, &args.role, &args.scope) {
        (Some(school), None, Some(role), None) => Grant::School(school.clone(), parse(role, "school role")?),
        (Some(school), None, None, Some(scope)) => Grant::Scope(school.clone(), parse(scope, "scope")?),
        (None, Some(trust), Some(role), None) => Grant::Trust(trust.clone(), parse(role, "trust role")?),
        _ => bail!("say --school S --role R, --school S --scope mis, or --trust T --role R"),
    };
    match &grant {
        Grant::School(school, _) | Grant::Scope(school, _) if tenancy.school(school).is_none() => {
            bail!("no school {school:?} in the tenancy")
        }
        Grant::Trust(trust, _) if tenancy.trust(trust).is_none() => {
            bail!("no trust {trust:?} in the tenancy")
        }
        _ => {}
    }
    let identity = DevIdentity::load_or_create(&args.data_dir.join("identity"))
        .with_context(|| format!("the dev signing key in {}", args.data_dir.display()))?;
    eprintln!(
        "token for {} (valid {} days)",
        grant.describe(),
        TOKEN_LIFETIME.as_secs() / 86400
    );
    println!("{}", mint(&identity, &grant, args.subject.as_deref()));
    Ok(())
}
