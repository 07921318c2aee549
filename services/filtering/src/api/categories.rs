//! `/api/v1/schools/{school_id}/filtering/categories` and `…/suppressions`: the normalised categories,
//! the school's own rules from vendors' words to them, and what it suppresses as noise.

use actix_web::{HttpRequest, HttpResponse, get, put, web};
use serde::{Deserialize, Serialize};
use trustsafe_events::filtering::{CategoryRule, Suppression};
use trustsafe_problem::Problem;
use utoipa::ToSchema;

use super::body;
use crate::app::breaches::ReaderScope;
use crate::app::categories::{Categories, LeadScope};
use crate::domain::categories::STANDARD;

/// A school's rule: the vendor's words (matched whole, else as a part of the vendor's category,
/// without regard to case) to a category (a standard one or the school's own, `a-z0-9_`) and a
/// severity 1–4 (5 is for illegal content alone; no rule may name words that mark it).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleDocument {
    #[schema(example = "esports")]
    pub vendor: String,
    #[schema(example = "gaming")]
    pub category: String,
    /// 1 to 4; a rule to `illegal` is kept at 5.
    #[schema(minimum = 1, maximum = 5)]
    pub severity: u8,
}

impl From<CategoryRule> for RuleDocument {
    fn from(rule: CategoryRule) -> Self {
        Self {
            vendor: rule.vendor,
            category: rule.category,
            severity: rule.severity,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesDocument {
    pub rules: Vec<RuleDocument>,
}

#[derive(Serialize, ToSchema)]
pub struct CategoriesView {
    /// The UK Safer Internet Centre's categories (and `uncategorised`) every school has.
    pub standard: Vec<String>,
    /// The school's own rules, in front of the built-in ones.
    pub rules: Vec<RuleDocument>,
}

/// The categories and the school's own rules (those who read its breaches).
#[utoipa::path(operation_id = "get_filter_categories", tag = "filtering",
    params(("school_id" = String, Path)),
    responses((status = 200, description = "The categories and the school's rules", body = CategoriesView)))]
#[get("/api/v1/schools/{school_id}/filtering/categories")]
pub async fn get(scope: ReaderScope, categories: web::Data<Categories>) -> Result<HttpResponse, Problem> {
    let rules = categories.rules(&scope).await?;
    Ok(HttpResponse::Ok().json(CategoriesView {
        standard: STANDARD.iter().map(|name| (*name).to_owned()).collect(),
        rules: rules.into_iter().map(RuleDocument::from).collect(),
    }))
}

/// Replaces the school's own rules (its safeguarding leads). They apply to what is ingested from
/// then on; each change is an event on the school's log.
#[utoipa::path(operation_id = "put_filter_category_rules", tag = "filtering",
    params(("school_id" = String, Path)),
    request_body(content = RulesDocument),
    responses(
        (status = 200, description = "The rules as kept (vendor words lower-cased)", body = RulesDocument),
        (status = 400, description = "A rule is malformed, maps 5 to other than illegal content, names illegal content's words, or repeats a vendor", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[put("/api/v1/schools/{school_id}/filtering/categories/rules")]
pub async fn put_rules(
    req: HttpRequest,
    scope: LeadScope,
    payload: web::Payload,
    categories: web::Data<Categories>,
) -> Result<HttpResponse, Problem> {
    let document: RulesDocument = body(&req, payload, 256 * 1024).await?;
    let rules: Vec<CategoryRule> = document
        .rules
        .into_iter()
        .map(|rule| CategoryRule {
            vendor: rule.vendor,
            category: rule.category,
            severity: rule.severity,
        })
        .collect();
    let kept = categories.replace(&scope, &rules).await?;
    Ok(HttpResponse::Ok().json(RulesDocument {
        rules: kept.into_iter().map(RuleDocument::from).collect(),
    }))
}

/// A suppression rule: a host (and its subdomains) or a phrase in the address or a monitor's capture,
/// whose blocks only make noise, and why. It never covers illegal content.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionDocument {
    #[schema(example = "ads.example")]
    pub host: Option<String>,
    pub phrase: Option<String>,
    #[schema(example = "Advert frames on every page")]
    pub reason: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionsDocument {
    pub rules: Vec<SuppressionDocument>,
}

impl From<Suppression> for SuppressionDocument {
    fn from(rule: Suppression) -> Self {
        Self {
            host: rule.host,
            phrase: rule.phrase,
            reason: rule.reason,
        }
    }
}

/// The school's suppression rules (those who read its breaches).
#[utoipa::path(operation_id = "get_filter_suppressions", tag = "filtering",
    params(("school_id" = String, Path)),
    responses((status = 200, description = "The rules", body = SuppressionsDocument)))]
#[get("/api/v1/schools/{school_id}/filtering/suppressions")]
pub async fn get_suppressions(
    scope: ReaderScope,
    categories: web::Data<Categories>,
) -> Result<HttpResponse, Problem> {
    let rules = categories.suppressions(&scope).await?;
    Ok(HttpResponse::Ok().json(SuppressionsDocument {
        rules: rules.into_iter().map(SuppressionDocument::from).collect(),
    }))
}

/// Replaces the school's suppression rules (its safeguarding leads): blocked or flagged requests they
/// cover are counted from then on, not recorded as breaches; illegal content is recorded whatever they
/// say. Each change is an event on the school's log.
#[utoipa::path(operation_id = "put_filter_suppressions", tag = "filtering",
    params(("school_id" = String, Path)),
    request_body(content = SuppressionsDocument),
    responses(
        (status = 200, description = "The rules as kept (lower-cased)", body = SuppressionsDocument),
        (status = 400, description = "A rule is malformed, has both or neither of host and phrase, or no reason", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[put("/api/v1/schools/{school_id}/filtering/suppressions")]
pub async fn put_suppressions(
    req: HttpRequest,
    scope: LeadScope,
    payload: web::Payload,
    categories: web::Data<Categories>,
) -> Result<HttpResponse, Problem> {
    let document: SuppressionsDocument = body(&req, payload, 256 * 1024).await?;
    let rules: Vec<Suppression> = document
        .rules
        .into_iter()
        .map(|rule| Suppression {
            host: rule.host,
            phrase: rule.phrase,
            reason: rule.reason,
        })
        .collect();
    let kept = categories.replace_suppressions(&scope, &rules).await?;
    Ok(HttpResponse::Ok().json(SuppressionsDocument {
        rules: kept.into_iter().map(SuppressionDocument::from).collect(),
    }))
}
