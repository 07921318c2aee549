//! Access that follows from agreements: `…/access-grants`, `…/devices/{device}/…`, `…/loans`,
//! `…/visitors` and the captive portal's `…/wifi-codes/{code}`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::SchoolScope;
use trustsafe_servicekit::policy::CaptivePortal;
use trustsafe_servicekit::query::accepts_csv;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{body, path_id};
use crate::app::access::{Access, Action, Grant, StaffScope};
use crate::domain::people::RosterView;
use crate::store::LoanRow;

const PROBLEM: &str = "application/problem+json";
const BODY_LIMIT: usize = 16 * 1024;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantDocument {
    pub person_id: Uuid,
    /// What they may use: "school network", "learning platform", …
    pub system: String,
}

#[derive(Serialize, ToSchema)]
pub struct GrantView {
    pub grant_id: Uuid,
    pub person_id: Uuid,
    pub forename: Option<String>,
    pub surname: Option<String>,
    pub system: String,
    pub granted_at: DateTime<Utc>,
    pub granted_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    /// `active`; `lapsed` (their agreement is no longer current); `revoked`.
    pub state: &'static str,
}

impl GrantView {
    fn of(granted: Grant, view: RosterView) -> Self {
        let details = granted
            .person
            .and_then(|person| person.record.restricted)
            .map(|details| view.shows(&details))
            .unwrap_or_default();
        Self {
            grant_id: granted.row.grant_id,
            person_id: granted.row.person_id,
            forename: details.forename,
            surname: details.surname,
            system: granted.row.system,
            granted_at: granted.row.granted_at,
            granted_by: granted.row.granted_by,
            revoked_at: granted.row.revoked_at,
            revoked_by: granted.row.revoked_by,
            state: granted.state.name(),
        }
    }
}

/// A cell a spreadsheet will not run as a formula (a name from the MIS could start with `=`).
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn grants_csv(grants: &[GrantView]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "grant_id",
        "person_id",
        "forename",
        "surname",
        "system",
        "granted_at",
        "granted_by",
        "revoked_at",
        "revoked_by",
        "state",
    ])?;
    let time = |at: Option<DateTime<Utc>>| at.map(|at| at.to_rfc3339()).unwrap_or_default();
    for grant in grants {
        writer.write_record([
            grant.grant_id.to_string(),
            grant.person_id.to_string(),
            cell(grant.forename.as_deref().unwrap_or_default()),
            cell(grant.surname.as_deref().unwrap_or_default()),
            cell(&grant.system),
            time(Some(grant.granted_at)),
            cell(&grant.granted_by),
            time(grant.revoked_at),
            cell(grant.revoked_by.as_deref().unwrap_or_default()),
            grant.state.to_owned(),
        ])?;
    }
    writer.into_inner().map_err(|err| err.into_error().into())
}

/// Gives a person access to a system (the DSL, deputies, headteacher or technician): only with a
/// current agreement to their own policy (422 otherwise, saying where they stand).
#[utoipa::path(operation_id = "grant_access", tag = "acceptable-use",
    params(("school_id" = String, Path)),
    request_body(content = GrantDocument),
    responses(
        (status = 201, description = "Granted", body = GrantView),
        (status = 403, description = "Staff who may not grant access", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
        (status = 422, description = "Not on the roster, or no current agreement", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
    ))]
#[post("/api/v1/schools/{school_id}/access-grants")]
pub async fn grant_access(
    req: HttpRequest,
    scope: StaffScope,
    payload: web::Payload,
    access: web::Data<Access>,
) -> Result<HttpResponse, Problem> {
    Access::may(&scope, Action::Grant)?;
    let asked: GrantDocument = body(&req, payload, BODY_LIMIT).await?;
    let granted = access.grant(&scope, asked.person_id, &asked.system).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "grant_id": granted.grant_id, "person_id": granted.person_id, "system": granted.system,
        "granted_at": granted.granted_at, "granted_by": scope.caller.subject, "state": "active"
    })))
}

/// Takes a person's access away.
#[utoipa::path(operation_id = "revoke_access", tag = "acceptable-use",
    params(("school_id" = String, Path), ("grant_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Taken away"),
        (status = 403, description = "Staff who may not take access away", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
        (status = 404, description = "No such grant at this school", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
        (status = 409, description = "Already taken away", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
    ))]
#[post("/api/v1/schools/{school_id}/access-grants/{grant_id}/revoke")]
pub async fn revoke_access(
    scope: StaffScope,
    path: web::Path<(String, String)>,
    access: web::Data<Access>,
) -> Result<HttpResponse, Problem> {
    let revoked = access.revoke(&scope, path_id(&path.1)?).await?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({"grant_id": revoked.grant_id, "revoked_at": revoked.revoked_at})))
}

/// The school's record of who has access to what, since when, on whose say-so, and whether it holds
/// today (a grant lapses when its agreement does). JSON, or CSV with `Accept: text/csv`.
#[utoipa::path(operation_id = "list_access_grants", tag = "acceptable-use",
    params(("school_id" = String, Path)),
    responses(
        (status = 200, description = "Every grant, oldest first",
         content((Vec<GrantView> = "application/json"), (String = "text/csv"))),
        (status = 403, description = "Staff who may not read the record of access", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
    ))]
#[get("/api/v1/schools/{school_id}/access-grants")]
pub async fn list_grants(
    req: HttpRequest,
    scope: StaffScope,
    access: web::Data<Access>,
) -> Result<HttpResponse, Problem> {
    let (view, grants) = access.grants(&scope).await?;
    let grants: Vec<GrantView> = grants
        .into_iter()
        .map(|grant| GrantView::of(grant, view))
        .collect();
    if !accepts_csv(&req) {
        return Ok(HttpResponse::Ok().json(grants));
    }
    let body = grants_csv(&grants)
        .map_err(|err| Problem::new(Kind::Internal, format!("The CSV could not be written: {err}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"access-{}.csv\"", scope.school_id),
        ))
        .body(body))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoanDocument {
    pub person_id: Uuid,
}

#[derive(Serialize, ToSchema)]
pub struct LoanView {
    pub loan_id: Uuid,
    pub device: String,
    pub person_id: Uuid,
    pub lent_at: DateTime<Utc>,
    pub lent_by: String,
    pub returned_at: Option<DateTime<Utc>>,
    pub returned_by: Option<String>,
}

impl From<LoanRow> for LoanView {
    fn from(row: LoanRow) -> Self {
        Self {
            loan_id: row.loan_id,
            device: row.device,
            person_id: row.person_id,
            lent_at: row.lent_at,
            lent_by: row.lent_by,
            returned_at: row.returned_at,
            returned_by: row.returned_by,
        }
    }
}

/// Lends a numbered device (any member of staff): only to someone with a current agreement, and not
/// while it is out (409).
#[utoipa::path(operation_id = "lend_device", tag = "acceptable-use",
    params(("school_id" = String, Path), ("device" = String, Path, description = "The school's number for it, e.g. iPad-14")),
    request_body(content = LoanDocument),
    responses(
        (status = 201, description = "Lent", body = LoanView),
        (status = 409, description = "Out on loan already", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
        (status = 422, description = "Not on the roster, or no current agreement", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
    ))]
#[post("/api/v1/schools/{school_id}/devices/{device}/loans")]
pub async fn lend(
    req: HttpRequest,
    scope: StaffScope,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    access: web::Data<Access>,
) -> Result<HttpResponse, Problem> {
    Access::may(&scope, Action::Lend)?;
    let asked: LoanDocument = body(&req, payload, BODY_LIMIT).await?;
    let lent = access.lend(&scope, &path.1, asked.person_id).await?;
    Ok(HttpResponse::Created().json(LoanView {
        loan_id: lent.loan_id,
        device: lent.device,
        person_id: lent.person_id,
        lent_at: lent.lent_at,
        lent_by: scope.caller.subject.clone(),
        returned_at: None,
        returned_by: None,
    }))
}

/// Takes a lent device back.
#[utoipa::path(operation_id = "return_device", tag = "acceptable-use",
    params(("school_id" = String, Path), ("device" = String, Path)),
    responses(
        (status = 200, description = "Back"),
        (status = 409, description = "Not out on loan", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
    ))]
#[post("/api/v1/schools/{school_id}/devices/{device}/return")]
pub async fn take_back(
    scope: StaffScope,
    path: web::Path<(String, String)>,
    access: web::Data<Access>,
) -> Result<HttpResponse, Problem> {
    let returned = access.take_back(&scope, &path.1).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "loan_id": returned.loan_id, "device": returned.device, "returned_at": returned.returned_at
    })))
}

/// A device's loans, newest first: who had it when.
#[utoipa::path(operation_id = "device_loans", tag = "acceptable-use",
    params(("school_id" = String, Path), ("device" = String, Path)),
    responses((status = 200, description = "Its loans", body = Vec<LoanView>)))]
#[get("/api/v1/schools/{school_id}/devices/{device}/loans")]
pub async fn device_loans(
    scope: StaffScope,
    path: web::Path<(String, String)>,
    access: web::Data<Access>,
) -> Result<HttpResponse, Problem> {
    let loans = access.loans(&scope, Some(&path.1)).await?;
    Ok(HttpResponse::Ok().json(loans.into_iter().map(LoanView::from).collect::<Vec<_>>()))
}

/// Every device out on loan now.
#[utoipa::path(operation_id = "loans_out", tag = "acceptable-use",
    params(("school_id" = String, Path)),
    responses((status = 200, description = "Devices out", body = Vec<LoanView>)))]
#[get("/api/v1/schools/{school_id}/loans")]
pub async fn loans_out(scope: StaffScope, access: web::Data<Access>) -> Result<HttpResponse, Problem> {
    let loans = access.loans(&scope, None).await?;
    Ok(HttpResponse::Ok().json(loans.into_iter().map(LoanView::from).collect::<Vec<_>>()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorDocument {
    pub name: String,
    pub organisation: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WelcomeView {
    pub visitor_id: Uuid,
    /// The visitors' policy version agreed to.
    pub version: i32,
    /// Hand it to the visitor: it is shown this once and kept nowhere.
    pub wifi_code: String,
    pub expires_at: DateTime<Utc>,
}

/// Records that a visitor read and agreed to the visitors' policy in force, and gives them a Wi-Fi
/// code valid for 24 hours (any member of staff, at reception).
#[utoipa::path(operation_id = "welcome_visitor", tag = "acceptable-use",
    params(("school_id" = String, Path)),
    request_body(content = VisitorDocument),
    responses(
        (status = 201, description = "Agreed; their code", body = WelcomeView),
        (status = 422, description = "No visitors' policy in force", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
    ))]
#[post("/api/v1/schools/{school_id}/visitors")]
pub async fn welcome(
    req: HttpRequest,
    scope: StaffScope,
    payload: web::Payload,
    access: web::Data<Access>,
) -> Result<HttpResponse, Problem> {
    Access::may(&scope, Action::Lend)?;
    let visitor: VisitorDocument = body(&req, payload, BODY_LIMIT).await?;
    let welcome = access
        .welcome(&scope, &visitor.name, visitor.organisation.as_deref())
        .await?;
    Ok(HttpResponse::Created().json(WelcomeView {
        visitor_id: welcome.agreed.visitor_id,
        version: welcome.agreed.version,
        wifi_code: welcome.code,
        expires_at: welcome.agreed.wifi_code_expires_at,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct CodeView {
    pub valid: bool,
    pub expires_at: DateTime<Utc>,
}

/// Whether a visitor's Wi-Fi code works now (the school's captive portal, scope `captive_portal`).
/// A code the school never issued is 404.
#[utoipa::path(operation_id = "check_wifi_code", tag = "acceptable-use",
    params(("school_id" = String, Path), ("code" = String, Path)),
    responses(
        (status = 200, description = "Valid, or expired", body = CodeView),
        (status = 404, description = "Never issued here", body = trustsafe_problem::ProblemDocument, content_type = PROBLEM),
    ))]
#[get("/api/v1/schools/{school_id}/wifi-codes/{code}")]
pub async fn check_code(
    scope: SchoolScope<CaptivePortal>,
    path: web::Path<(String, String)>,
    access: web::Data<Access>,
) -> Result<HttpResponse, Problem> {
    let check = access.check_code(&scope, &path.1).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CodeView {
            valid: check.valid,
            expires_at: check.expires_at,
        }))
}
