"""Drives every operation of the trustsafe API with a client generated from its OpenAPI document by
openapi-python-client, as an MIS integrator would, against a running `trustsafe dev`. Each answer must
be a success the client parses into the model the document promises (not a Problem, not None).
Prints one line per operation and a closing count; exits 1 on the first that fails.

    drive_generated_client.py CLIENT_DIR BASE_URL DEMO_TOKENS_FILE OPENAPI_DOCUMENT
"""

import datetime
import importlib
import io
import json
import sys
import time
from http import HTTPStatus


def main(client_dir: str, base: str, tokens_file: str, document: str) -> int:
    sys.path.insert(0, client_dir)
    package = "trustsafe_api_client"
    client_module = importlib.import_module(package)
    models = importlib.import_module(f"{package}.models")
    api = lambda tag, name: importlib.import_module(f"{package}.api.{tag}.{name}")  # noqa: E731

    tokens = dict(line.split("\t", 1) for line in open(tokens_file).read().splitlines() if "\t" in line)
    as_user = lambda who: client_module.AuthenticatedClient(base_url=base, token=tokens[who])  # noqa: E731
    anonymous = client_module.Client(base_url=base)
    staff, dsl = as_user("raps staff"), as_user("raps dsl")
    lead, governor = as_user("viking trust_safeguarding_lead"), as_user("viking trust_governor")
    driven = []

    def call(tag: str, name: str, *args, want_model=True, **kwargs):
        response = api(tag, name).sync_detailed(*args, **kwargs)
        ok = HTTPStatus.OK <= response.status_code < HTTPStatus.MULTIPLE_CHOICES
        parsed = response.parsed
        if not ok or (want_model and (parsed is None or type(parsed).__name__ == "Problem")):
            print(f"FAIL {tag}.{name}: {response.status_code} {response.content[:400]!r}")
            raise SystemExit(1)
        driven.append(f"{tag}.{name}")
        print(f"ok   {tag}.{name}: {response.status_code} {type(parsed).__name__}")
        return parsed

    call("operations", "healthz", client=anonymous, want_model=False)
    call("operations", "readyz", client=anonymous, want_model=False)
    call("operations", "metrics", client=anonymous, want_model=False)
    call("identity", "jwks", client=anonymous, want_model=False)
    call("identity", "list_demo_users", client=anonymous)

    report = models.ReportRequest(
        category=models.ReportRequestCategory("indecent_images_of_children"),
        summary="Generated client: an image on a shared laptop",
        description="Reported through a client generated from the OpenAPI document.",
        occurred_at=datetime.datetime.now(datetime.timezone.utc),
    )
    concern = call("incidents", "report_incident", "raps", client=staff, body=report, idempotency_key="generated-1")
    concern_id = concern.id
    call("incidents", "get_incident", "raps", concern_id, client=dsl)
    call("incidents", "list_incidents", "raps", client=dsl)
    call("incidents", "get_incident_history", "raps", concern_id, client=dsl)
    act = lambda name, body: call("incidents", name, "raps", concern_id, client=dsl, body=body)  # noqa: E731
    act("acknowledge_incident", models.Empty())
    act("add_incident_note", models.NoteRequest(text="Laptop locked away"))
    call(
        "incidents", "complete_incident_step", "raps", concern_id, "secure_devices",
        client=dsl, body=models.CompleteStepRequest(note="Quarantined"),
    )
    act("record_incident_referral", models.ReferralRequest(agency=models.ReferralRequestAgency("iwf"), reference="IWF-GEN-1"))
    act("escalate_incident", models.ReasonRequest(reason="The trust lead is told of every IIOC concern"))
    act("close_incident", models.CloseRequest(outcome="Handed to police", lessons_learned="None", override_reason="Police asked"))
    act("reopen_incident", models.ReasonRequest(reason="More came to light"))

    workflow = call("workflow", "get_workflow", "raps", client=dsl)
    call("workflow", "put_workflow", "raps", client=dsl, body=workflow, if_match='"0"')

    term = {1: "spring", 2: "spring", 3: "spring", 9: "autumn", 10: "autumn", 11: "autumn", 12: "autumn"}.get(
        datetime.date.today().month, "summer"
    )
    call("tenancy", "get_trust", "viking", client=lead)
    call("reporting", "get_trust_dashboard", "viking", client=lead)
    call("reporting", "get_trust_dashboard", "viking", client=governor)
    call("reporting", "get_school_dashboard", "raps", client=dsl)
    call("reporting", "list_trust_cases", "viking", client=lead)
    call("reporting", "get_governors_report", "viking", client=governor, term=f"{datetime.date.today().year}-{term}")
    call("reporting", "list_policy_reviews", "viking", client=lead)

    # The roster and acceptable use, as the school's MIS, its staff and its captive portal use them.
    mis, portal = as_user("raps mis client"), as_user("raps captive_portal client")
    batch = models.RosterBatchDocument.from_dict({"people": [
        {"kind": "pupil", "mis_id": "GEN-P1", "upn": "B801200005001", "forename": "Gen", "surname": "Pupil", "year_group": "Year 4", "accounts": ["gen.pupil"]},
        {"kind": "staff", "mis_id": "GEN-S1", "forename": "Gen", "surname": "Teacher", "email": "gen@raps.sch.uk"},
    ]})
    synced = call("people", "sync_people", "raps", client=mis, body=batch)
    pupil = synced.results[0].person_id
    call("people", "list_people", "raps", client=dsl)
    call("people", "get_person", "raps", pupil, client=dsl)
    call("people", "person_history", "raps", pupil, client=dsl)
    draft = lambda title: models.DraftDocument(title=title, text=f"{title}: I will be kind online.", effective_from=datetime.date.today())  # noqa: E731
    call("acceptable_use", "publish_trust_aup", "viking", "ks2", client=lead, body=draft("KS2"))
    call("acceptable_use", "publish_school_aup", "raps", "visitors_volunteers", client=dsl, body=draft("Visitors"))
    call("acceptable_use", "list_aup_in_force", "raps", client=staff)
    call("acceptable_use", "list_aup_versions", "raps", "ks2", client=staff)
    answer = models.AgreementDocument.from_dict({"person_id": str(pupil), "audience": "ks2", "decision": "agreed"})
    call("acceptable_use", "record_agreement", "raps", client=staff, body=answer)
    types = importlib.import_module(f"{package}.types")
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    export = f"Time,Username,Action\n{now},gen.pupil,Accepted\n".encode()
    call(
        "acceptable_use", "import_acceptances", "raps", client=dsl, system="smoothwall_monitor",
        body=types.File(payload=io.BytesIO(export), file_name="aup.csv", mime_type="application/octet-stream"),
    )
    call("acceptable_use", "person_aup_status", "raps", pupil, client=mis)
    call("acceptable_use", "person_agreements", "raps", pupil, client=dsl)
    call("acceptable_use", "aup_compliance", "raps", client=mis)
    grant = call("acceptable_use", "grant_access", "raps", client=dsl, body=models.GrantDocument(person_id=pupil, system="Learning platform"))
    call("acceptable_use", "list_access_grants", "raps", client=dsl)
    call("acceptable_use", "revoke_access", "raps", grant.grant_id, client=dsl, want_model=False)
    call("acceptable_use", "lend_device", "raps", "iPad-1", client=staff, body=models.LoanDocument(person_id=pupil))
    call("acceptable_use", "loans_out", "raps", client=staff)
    call("acceptable_use", "device_loans", "raps", "iPad-1", client=staff)
    call("acceptable_use", "return_device", "raps", "iPad-1", client=staff, want_model=False)
    welcome = call("acceptable_use", "welcome_visitor", "raps", client=staff, body=models.VisitorDocument(name="Vera Visitor"))
    call("acceptable_use", "check_wifi_code", "raps", welcome.wifi_code, client=portal)

    # A day's filter log from RAPS's proxy, as its feed sends it, then read as its DSL and technician do.
    feed, technician = as_user("raps filter_feed client"), as_user("raps technician")
    now = int(time.time())
    log = "".join(
        f"{now - 60 * n}.000 12 10.20.4.17 {'TCP_DENIED/403' if n % 3 == 0 else 'TCP_MISS/200'} 3910 GET "
        f"http://casino.example/{n} gen.pupil HIER_NONE/- text/html\n"
        for n in range(9)
    ).encode()
    call(
        "filtering", "upload_filter_log", "raps", client=feed, format_=models.Format("squid"),
        body=types.File(payload=io.BytesIO(log), file_name="access.log", mime_type="application/octet-stream"),
    )
    alert = models.IncomingAlert.from_dict({"time": datetime.datetime.now(datetime.timezone.utc).isoformat(), "category": "Bullying", "severity": "caution", "user": "gen.pupil"})
    call("filtering", "push_filter_alerts", "raps", client=feed, body=models.AlertPush(alerts=[alert]))
    rules = models.RulesDocument(rules=[models.RuleDocument(vendor="esports", category="gaming", severity=1)])
    call("filtering", "put_filter_category_rules", "raps", client=dsl, body=rules)
    call("filtering", "get_filter_categories", "raps", client=technician)
    noise = models.SuppressionsDocument(rules=[models.SuppressionDocument(host="ads.example", reason="Advert frames")])
    call("filtering", "put_filter_suppressions", "raps", client=dsl, body=noise)
    call("filtering", "get_filter_suppressions", "raps", client=technician)
    found = models.IncomingReport.from_dict({"what": "A pupil found a casino site", "when": datetime.datetime.now(datetime.timezone.utc).isoformat(), "url": "http://casino.example/", "where": "Laptop 12", "category": "Gambling", "by_learner": True})
    call("filtering", "report_breach", "raps", client=staff, body=found)
    page = call("filtering", "list_breaches", "raps", client=dsl)
    breach_id = next(breach.id for breach in page.breaches if breach.user == "gen.pupil")
    # The roster learns gen.pupil's account from the log; the breach becomes theirs.
    for _ in range(300):
        breach = call("filtering", "get_breach", "raps", breach_id, client=technician)
        if breach.person_kind == "pupil":
            break
        time.sleep(0.1)
    else:
        print("FAIL the breach was never attributed to the pupil")
        raise SystemExit(1)
    call("filtering", "triage_breach", "raps", breach_id, client=technician, body=models.TriageDocument(verdict="genuine"))
    call("filtering", "breach_parents_informed", "raps", breach_id, client=dsl, body=models.ParentsDocument(how="phone"))
    call("filtering", "escalate_breach", "raps", breach_id, client=dsl, body=models.EscalateDocument(reason="Third time this week"))
    call("filtering", "resolve_breach", "raps", breach_id, client=dsl, body=models.ResolveDocument(outcome="Talked it through"))
    call("reporting", "get_trust_filtering", "viking", client=lead)
    call("reporting", "get_trust_acceptable_use", "viking", client=lead)
    call("reporting", "get_school_acceptable_use", "raps", client=dsl)
    # The DfE duties: a change through its four steps, the roles, a check, the annual review and its document.
    proposal = models.ProposalDocument(action="unblock", host="museum.example", reason="History archive")
    change_id = call("filtering", "propose_filter_change", "raps", client=technician, body=proposal).id
    for perspective, who in (("educational", dsl), ("technical", technician)):
        assessment = models.AssessmentDocument(perspective=perspective, risk="low")
        call("filtering", "assess_filter_change", "raps", change_id, client=who, body=assessment)
    call("filtering", "decide_filter_change", "raps", change_id, client=lead, body=models.DecisionDocument(approved=True))
    call("filtering", "apply_filter_change", "raps", change_id, client=technician, body=models.AppliedDocument())
    call("filtering", "get_filter_change", "raps", change_id, client=governor)
    call("filtering", "list_filter_changes", "raps", client=governor)
    roles = models.RolesDocument(senior_leader="Ms Head", governor="Mr Governor", dsl="Ms Lead", it_provider="TalkStraight")
    call("filtering", "put_filter_roles", "raps", client=dsl, body=roles)
    call("filtering", "get_filter_roles", "raps", client=governor)
    check = models.CheckDocument(checked_by="TalkStraight", what_tested="testfiltering.com", result="passed")
    call("filtering", "log_filter_check", "raps", client=technician, body=check)
    call("filtering", "list_filter_checks", "raps", client=governor)
    review = models.ReviewDocument(
        reviewed_on=datetime.date.today(),
        participants=models.RolesDocument(senior_leader="Ms Head", dsl="Ms Lead", it_provider="TalkStraight"),
        risk_profile=models.RiskProfileDocument(ages="4-11", send="Few", eal="Some"),
        byod="None", ai="Blocked for pupils", provision="Lightspeed",
    )
    review_id = call("filtering", "record_filter_review", "raps", client=dsl, body=review).id
    call("filtering", "list_filter_reviews", "raps", client=governor)
    call("filtering", "get_filter_review_document", "raps", review_id, client=governor, want_model=False)
    call("filtering", "get_filter_duties", "raps", client=governor)
    since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
    call("filtering", "filter_hours", "raps", client=technician, from_=since, want_model=False)

    documented = {
        operation["operationId"]
        for item in json.load(open(document))["paths"].values()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }
    missed = documented - {name.split(".", 1)[1] for name in driven}
    print(json.dumps({"operations_documented": len(documented), "operations_driven": len(set(driven)), "missed": sorted(missed)}))
    return 1 if missed else 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    sys.exit(main(*sys.argv[1:]))
