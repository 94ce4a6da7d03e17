"""Authorisation matrix of the web interface: every page route × every role, the web twin of tests/test_authz_matrix.py.

The routes are read from the application's route table at test time (everything outside /api/v1, /docs, /openapi.json,
/health, /ready and the static mounts); a route missing from MATRIX, or a MATRIX row naming a route that is gone, fails
test_every_web_route_is_classified.

Roles: anonymous, org_member (of the case's organisation), org_member_other (another organisation), officer (of the
case's department), officer_other_dep (another department), approver (own department), registrar, admin. All cases belong
to one organisation and one department, so "own" and "other" are the same case seen by different people.

Outcome classes (by status code and Location, not by wording):
- OK: the role gets past authorisation: a page, a download, a 303 after success, or a 409/422 page where the state or the
  input refuses (for POSTs we only claim the check reached is not authorisation);
- LOGIN: 303 to /logga-in?nasta=… (no session);
- E403: the 403 page ("Du har inte behörighet") or a form re-shown with 403;
- E404: the 404 page ("Sidan finns inte"): missing or invisible, so another organisation's case never answers 403.
A GET page answering 409 counts as its own class (a page a role may open never refuses with a state conflict).
Every POST carries a valid CSRF token (cookie + form field), so a 403 is never the CSRF check.

Each cell runs in a savepoint that is rolled back, on one prepared world per backend (SQLite and PostgreSQL; the db
fixtures parametrise over both; the whole module, both backends, runs in about 30 s).

KNOWN_BUGS lists cells where the web disagrees with the SPEC / the API matrix; MATRIX holds the correct answer and those
cells are xfail(strict=True), so a fix shows up as XPASS and asks for the entry to be removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import PASSWORD, World, case, department, user
from fastapi.testclient import TestClient
from gates_setup import add_document, signed_agreement_case, terms_payload
from helpers import committing_sessions, drop_sessions, use_sessions
from sqlalchemy.orm import Session

from service.agreements.models import Agreement, Party, Signature
from service.agreements.schemas import AgreementTerms
from service.auth.models import Role
from service.cases.stages import Stage
from service.db import utcnow
from service.dialogue.models import DialogueMeeting
from service.documents import service as documents
from service.documents.models import DocumentKind
from service.followup.models import FollowUpReport
from service.messages.models import Message
from service.reads import SessionReader
from service.reviews.models import Review, ReviewStatus
from storage.filesystem import FilesystemStore

ROLES = ("anonymous", "org_member", "org_member_other", "officer", "officer_other_dep", "approver", "registrar", "admin")
USERS = ROLES[1:]
OK, LOGIN, E403, E404 = "OK", "LOGIN", "403", "404"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SESSION_COOKIE, CSRF_COOKIE = "__Host-iop_session", "__Host-iop_csrf"
EXCLUDED_PREFIXES = ("/api/v1/", "/docs", "/static/")
EXCLUDED_PATHS = {"/openapi.json", "/health", "/ready"}

# The agreement document is generated today in the prepared world: a signature is dated today (not earlier, not later).
TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date().isoformat()


def expect(ok: str = "", e403: str = "", e404: str = "", anonymous: str = LOGIN) -> dict[str, str]:
    """Outcome per role from space-separated role lists; anonymous goes to the login page unless told otherwise."""
    out: dict[str, str] = {"anonymous": anonymous}
    for outcome, names in ((OK, ok), (E403, e403), (E404, e404)):
        for name in names.split():
            assert name in USERS and name not in out, name
            out[name] = outcome
    missing = set(ROLES) - set(out)
    assert not missing, f"roles without an expected outcome: {missing}"
    return out


EVERYONE = " ".join(USERS)
PUBLIC = expect(ok=EVERYONE, anonymous=OK)
ANY_USER = expect(ok=EVERYONE)
MEMBERS = expect(ok="org_member org_member_other", e403="officer officer_other_dep approver registrar admin")
CIVIL = expect(ok="officer officer_other_dep approver", e403="org_member org_member_other registrar admin")
LISTERS = expect(ok="officer officer_other_dep approver registrar", e403="org_member org_member_other admin")
ADMIN_ONLY = expect(ok="admin", e403="org_member org_member_other officer officer_other_dep approver registrar")
STATISTICS = expect(ok="officer officer_other_dep approver registrar admin", e403="org_member org_member_other")
REGISTRAR_ONLY = expect(ok="registrar", e403="org_member org_member_other officer officer_other_dep approver admin")
# A case as seen through get_visible_case(): its organisation's members, its department's civil servants, registrars.
CASE_READ = expect(ok="org_member officer approver registrar", e404="org_member_other officer_other_dep admin")
MEMBER_ONLY = expect(ok="org_member", e403="officer approver registrar", e404="org_member_other officer_other_dep admin")
DRAFT_MEMBER_ONLY = expect(ok="org_member", e403="registrar", e404="org_member_other officer officer_other_dep approver admin")
MEMBER_OR_OFFICER = expect(ok="org_member officer", e403="approver registrar", e404="org_member_other officer_other_dep admin")
# Pages and actions for the department's civil servants on a case (the SPEC: another organisation's case is 404,
# admins have no case access at all, exactly as the API answers).
STAFF = expect(ok="officer approver", e403="org_member registrar", e404="org_member_other officer_other_dep admin")
OFFICER_ONLY = expect(ok="officer", e403="org_member approver registrar", e404="org_member_other officer_other_dep admin")
APPROVER_ONLY = expect(ok="approver", e403="org_member officer registrar", e404="org_member_other officer_other_dep admin")


@dataclass
class Call:
    """How an allowed role would call a route: the path parameters and the form it posts."""

    outcomes: dict[str, str]
    path: Callable[[dict], dict] = lambda ids: {}
    form: Callable[[dict], dict] = lambda ids: {}
    files: Callable[[dict], dict | None] = lambda ids: None
    note: str = ""


def _case(name: str, **more: str) -> Callable[[dict], dict]:
    return lambda ids: {"case_id": ids[name], **{k: ids[v] for k, v in more.items()}}


def _form(body: dict) -> Callable[[dict], dict]:
    return lambda ids: body


def _terms_form(ids: dict) -> dict[str, str]:
    """A complete agreement as the agreement page's form fields (as in test_web_forms)."""
    t = ids["terms"]
    form: dict[str, str] = {}
    for party in ("public_party", "organisation_party"):
        for k, v in t[party].items():
            form[f"{party}-{k}"] = v
    for k in ("background", "purpose", "target_group", "activities", "extension_terms", "governance", "period_start", "period_end"):
        form[k] = str(t[k])
    form |= {f"goals-{g}-title": title for g, title in enumerate(t["goals"])}
    form["funding_amount_sek"] = str(t["funding_amount_sek"])
    form["notice_period_months"] = str(t["notice_period_months"])
    for group in ("contributions", "instalments", "followup_schedule"):
        for i, row in enumerate(t[group]):
            for k, v in row.items():
                form[f"{group}-{i}-{k}"] = ("ja" if v else "") if k == "is_final" else ("" if v is None else str(v))
    for k in ("principles", "changes_clause", "termination_clause", "disputes_clause"):
        form[k] = "Enligt den lokala överenskommelsen."
    return form


MATRIX: dict[tuple[str, str], Call] = {
    # ------------------------------------------------------------------ public pages, login, logout
    ("GET", "/"): Call(PUBLIC, note="a dispatcher: anonymous to /logga-in (without nasta), users to their start page"),
    ("GET", "/logga-in"): Call(PUBLIC),
    ("POST", "/logga-in"): Call(PUBLIC, form=lambda ids: {"email": ids["email"], "password": PASSWORD}),
    ("POST", "/logga-ut"): Call(PUBLIC),
    ("POST", "/logga-in/oidc/{provider}"): Call(expect(e404=EVERYONE, anonymous=E404), path=lambda ids: {"provider": "ingen"},
                                                note="single sign-on: no provider is configured here, so the name is unknown for everyone"),
    ("GET", "/logga-in/oidc/{provider}/svar"): Call(expect(e404=EVERYONE, anonymous=E404), path=lambda ids: {"provider": "ingen"},
                                                    note="the provider's answer; tests/web/test_web_sso_browser.py with a real provider"),
    ("GET", "/organisation/inbjudningar"): Call(MEMBERS, note="the member's own organisation"),
    ("POST", "/organisation/inbjudningar"): Call(MEMBERS, form=_form({"email": "inbjuden@example.se"})),
    ("GET", "/organisationer/{org_id}/inbjudningar"): Call(
        expect(ok="officer officer_other_dep registrar admin", e403="org_member org_member_other approver"), path=lambda ids: {"org_id": ids["org"]},
        note="the municipality's staff invite into any organisation; members use /organisation/inbjudningar"),
    ("POST", "/organisationer/{org_id}/inbjudningar"): Call(
        expect(ok="officer officer_other_dep registrar admin", e403="org_member org_member_other approver"), path=lambda ids: {"org_id": ids["org"]},
        form=_form({"email": "inbjuden@example.se"})),
    ("GET", "/om-iop"): Call(PUBLIC),
    ("GET", "/tillganglighet"): Call(PUBLIC),
    ("GET", "/offentligt"): Call(PUBLIC, note="the public register (offentlighetsprincipen): no login, rate-limited per client"),
    ("GET", "/konto/losenord"): Call(ANY_USER),
    ("POST", "/konto/losenord"): Call(ANY_USER, form=_form({"current_password": PASSWORD, "new_password": "Granskogens-Tysta-Stigar-41",
                                                            "repeat": "Granskogens-Tysta-Stigar-41"}), note="one's own password"),
    ("GET", "/glomt-losenord"): Call(PUBLIC),
    ("POST", "/glomt-losenord"): Call(PUBLIC, form=lambda ids: {"email": ids["email"]}, note="the same page for every address"),
    ("GET", "/aterstall-losenord"): Call(PUBLIC),
    ("GET", "/bekrafta-konto"): Call(PUBLIC),
    ("GET", "/skapa-konto"): Call(PUBLIC, note="anyone may sign up; a logged-in person is sent to their start page"),
    ("POST", "/skapa-konto"): Call(PUBLIC, form=_form({"account_name": "Ny Person", "account_email": "ny@example.se",
                                                       "password": "kort", "password2": "kort"}),
                                   note="refused input (a 422 page) for everyone; the same answer for a known e-mail"),
    ("POST", "/bekrafta-konto"): Call(PUBLIC, form=_form({"token": "x" * 43}), note="the e-mailed token authorises"),
    ("GET", "/organisationer/att-bekrafta"): Call(expect(ok="officer officer_other_dep registrar admin", e403="org_member org_member_other approver")),
    ("POST", "/organisationer/{org_id}/bekrafta"): Call(
        expect(ok="officer officer_other_dep registrar admin", e403="org_member org_member_other approver"), path=lambda ids: {"org_id": ids["org"]},
        note="the API's verify; members are refused before the organisation is looked up, as on the listing page"),
    ("POST", "/aterstall-losenord"): Call(PUBLIC, form=_form({"token": "x" * 43, "new_password": "Granskogens-Tysta-Stigar-41",
                                                              "repeat": "Granskogens-Tysta-Stigar-41"}), note="the e-mailed token authorises"),
    ("GET", "/notiser"): Call(ANY_USER),
    ("POST", "/notiser/lasta"): Call(ANY_USER),
    ("GET", "/konto/notiser"): Call(ANY_USER),
    ("POST", "/konto/notiser"): Call(ANY_USER, form=_form({"channels": "app"}), note="one's own setting"),
    # ------------------------------------------------------------------ the organisation's pages
    ("GET", "/start"): Call(MEMBERS),
    ("GET", "/organisation/registrera"): Call(MEMBERS, note="members with an organisation are sent on to /organisation"),
    ("POST", "/organisation/registrera"): Call(MEMBERS, form=_form({"name": "Föreningen Matris"}),
                                               note="members already have an organisation: refused by state, not by role"),
    ("GET", "/organisation"): Call(MEMBERS, note="always the member's own organisation, no id in the address"),
    ("POST", "/organisation"): Call(MEMBERS, form=_form({"name": "Ändrat namn", "version": "0"})),
    ("GET", "/forslag/nytt"): Call(MEMBERS),
    ("POST", "/forslag/nytt"): Call(MEMBERS, form=lambda ids: {"title": "Nytt förslag", "department_id": str(ids["dep"])}),
    ("GET", "/arenden/{case_id}/redigera"): Call(
        expect(ok="org_member officer", e403="approver registrar", e404="org_member_other officer_other_dep admin"),
        _case("reopened"), note="a case reopened for changes: the organisation completes it, the officer refines it"),
    ("POST", "/arenden/{case_id}/redigera"): Call(
        expect(ok="org_member officer", e403="approver registrar", e404="org_member_other officer_other_dep admin"),
        _case("reopened"), lambda ids: {"title": "Ändrad titel", "need": "Behov", "version": str(ids["reopened_version"])}),
    # ------------------------------------------------------------------ the case page and its shared actions
    ("GET", "/arenden/{case_id}"): Call(CASE_READ, _case("dialogue")),
    ("GET", "/arenden/{case_id}/utskrift"): Call(CASE_READ, _case("dialogue"), note="the printable sheet: whoever sees the case page"),
    ("POST", "/arenden/{case_id}/skicka-in"): Call(DRAFT_MEMBER_ONLY, _case("draft"),
                                                   note="drafts are the organisation's until submitted"),
    ("POST", "/arenden/{case_id}/aterkalla"): Call(MEMBER_ONLY, _case("identify_need"), _form({"confirm": "ja", "reason": "Vi drar tillbaka"})),
    ("POST", "/arenden/{case_id}/bilagor"): Call(
        MEMBER_OR_OFFICER, _case("dialogue"), files=lambda ids: {"file": ("bilaga.pdf", PDF, "application/pdf")}),
    ("GET", "/arenden/{case_id}/dokument/{doc_id}"): Call(CASE_READ, _case("dialogue", doc_id="document")),
    ("POST", "/arenden/{case_id}/diarium/{entry_id}"): Call(
        expect(ok="registrar", e403="org_member officer approver", e404="org_member_other officer_other_dep admin"),
        _case("dialogue", entry_id="diary_entry"),
        _form({"description": "Bilaga: rättad beskrivning", "document_type": "Bilaga", "counterpart": "", "osl_reference": "", "version": "1"}),
        note="the registrar's correction (diarium.service.correct), audited"),
    ("POST", "/arenden/{case_id}/uppfoljning/{report_id}/lamna"): Call(
        MEMBER_ONLY, _case("follow_up", report_id="report_due"),
        _form({"activities_done": "Träffar varje vecka", "participants_reached": "120", "money_used_sek": "150000"})),
    ("POST", "/arenden/{case_id}/meddelanden"): Call(
        expect(ok="org_member officer approver", e403="registrar", e404="org_member_other officer_other_dep admin"),
        _case("dialogue"), _form({"body": "Hej, vi har en fråga om budgeten."})),
    # ------------------------------------------------------------------ civil servants: lists
    ("GET", "/arbetsko"): Call(CIVIL),
    ("GET", "/arenden"): Call(LISTERS, note="lists are filtered by visibility"),
    ("GET", "/export/arenden.csv"): Call(LISTERS),
    ("GET", "/oversikt"): Call(LISTERS),
    ("GET", "/statistik"): Call(STATISTICS, note="aggregates only: any department or the whole municipality"),
    ("GET", "/diarium"): Call(expect(ok="officer officer_other_dep registrar", e403="org_member org_member_other approver admin"),
                              note="officers search their department's cases' diarium, registrars every case's"),
    ("GET", "/diarium/rapport"): Call(expect(ok="officer officer_other_dep registrar", e403="org_member org_member_other approver admin"),
                                      note="the diarium report of a period (without one: the page with its errors)"),
    ("GET", "/statistik.csv"): Call(STATISTICS),
    # ------------------------------------------------------------------ the registrar's e-archive export (service/archive)
    ("GET", "/e-arkiv"): Call(REGISTRAR_ONLY, note="the export form and the jobs with their packages"),
    ("POST", "/e-arkiv"): Call(REGISTRAR_ONLY, form=lambda ids: {"fran": "2015-01-01", "till": "2015-12-31"},
                               note="every case closed in 2015 (the one closed 2015-03-02)"),
    ("GET", "/e-arkiv/{export_id}/paket/{package_id}"): Call(
        REGISTRAR_ONLY, lambda ids: {"export_id": ids["archive_export"], "package_id": ids["archive_package"]}),
    # ------------------------------------------------------------------ the registrar's gallring (service/retention)
    ("GET", "/gallring"): Call(REGISTRAR_ONLY, note="what is due under the informationshanteringsplan, the list, the decisions"),
    ("POST", "/gallring/lista"): Call(REGISTRAR_ONLY, note="the due attachment of a case closed in 2015 goes on the open list"),
    ("POST", "/gallring/{decision_id}/godkann"): Call(REGISTRAR_ONLY, lambda ids: {"decision_id": ids["gallring"]},
                                                       lambda ids: {"item": str(ids["gallring_item"])},
                                                       note="deleted from storage by the outbox after the commit"),
    ("GET", "/statistik.xlsx"): Call(STATISTICS),
    # ------------------------------------------------------------------ civil servants: stage actions on a case
    ("POST", "/arenden/{case_id}/tilldela"): Call(STAFF, _case("identify_need"), lambda ids: {"officer_id": str(ids["officer2"])}),
    ("POST", "/arenden/{case_id}/begar-beslut"): Call(STAFF, _case("identify_need"), _form({"comment": "Klart"})),
    ("POST", "/arenden/{case_id}/begar-komplettering"): Call(OFFICER_ONLY, _case("identify_need"), _form({"message": "Komplettera budgeten"})),
    ("POST", "/arenden/{case_id}/granskning/{review_id}/tilldela"): Call(
        STAFF, _case("dialogue", review_id="review"), _form({"approver_id": ""}),
        note="the department's civil servants move a pending review to any approver who may decide it"),
    ("POST", "/arenden/{case_id}/granskning/{review_id}/aterta"): Call(
        OFFICER_ONLY, _case("dialogue", review_id="review"), note="only the requester (the officer) takes a review back"),
    ("GET", "/arenden/{case_id}/beslut"): Call(STAFF, _case("dialogue"), note="the decision page is shown to the department's staff"),
    ("POST", "/arenden/{case_id}/beslut"): Call(
        APPROVER_ONLY, _case("dialogue"),
        lambda ids: {"decision": "changes_requested", "motivation": "Komplettera budgeten", "review_id": str(ids["review"])}),
    ("GET", "/arenden/{case_id}/dialog"): Call(STAFF, _case("dialogue"),
                                               note="a work page; registrars read the dialogue on the case page"),
    ("POST", "/arenden/{case_id}/dialog/mote"): Call(
        OFFICER_ONLY, _case("dialogue"), _form({"held_on": "2026-10-20", "participants": "Anna Andersson, Föreningen, ordförande"})),
    ("POST", "/arenden/{case_id}/dialog/lamplighet"): Call(OFFICER_ONLY, _case("dialogue")),
    ("GET", "/arenden/{case_id}/avtal"): Call(STAFF, _case("agreement")),
    ("POST", "/arenden/{case_id}/avtal"): Call(OFFICER_ONLY, _case("agreement"), _terms_form),
    ("POST", "/arenden/{case_id}/underskrift"): Call(
        MEMBER_OR_OFFICER, _case("agreement"),
        _form({"party": "organisation", "name": "Olle Ordförande", "role": "Ordförande", "signed_on": TODAY}),
        note="as the API: the officer records either party's signature, the organisation its own"),
    ("POST", "/arenden/{case_id}/underskrift/{signature_id}"): Call(
        MEMBER_OR_OFFICER, _case("signed", signature_id="org_signature"),
        _form({"party": "organisation", "name": "Olle Ordförande", "role": "Ordförande", "signed_on": TODAY}),
        note="the organisation's signature: its members correct it as the officer may (the other party's: test_web_signatures)"),
    ("POST", "/arenden/{case_id}/underskrift/{signature_id}/ta-bort"): Call(MEMBER_OR_OFFICER, _case("signed", signature_id="org_signature")),
    ("POST", "/arenden/{case_id}/e-underskrift"): Call(
        OFFICER_ONLY, _case("signed"), lambda ids: {"organisation_user_id": str(ids["officer2"]), "public_user_id": str(ids["officer2"])},
        note="the prepared agreement is signed on paper already, so the officer meets that refusal (409); e-signing: test_web_esigning"),
    ("POST", "/arenden/{case_id}/e-underskrift/{order_id}/skriv-under"): Call(
        MEMBER_ONLY, _case("agreement", order_id="signing_order"),
        note="only the invited signatory (the member) passes; the prepared order's PDF is not in storage (409)"),
    ("POST", "/arenden/{case_id}/undertecknat-avtal"): Call(
        MEMBER_OR_OFFICER, _case("agreement"), _form({"kind": "signed_agreement"}),
        files=lambda ids: {"file": ("undertecknat.pdf", PDF, "application/pdf")},
        note="the signed agreement, uploaded in the signing section (the organisation's copy awaits the officer's confirmation)"),
    ("POST", "/arenden/{case_id}/dokument/skapa"): Call(OFFICER_ONLY, _case("dialogue"), _form({"kind": "dialogue_minutes"})),
    ("POST", "/arenden/{case_id}/dokument/{doc_id}/pdf"): Call(
        OFFICER_ONLY, _case("dialogue", doc_id="document"),
        note="the document is a PDF upload, so the officer meets the .docx check (409); conversion is tested elsewhere"),
    ("POST", "/arenden/{case_id}/uppfoljning/planera"): Call(
        OFFICER_ONLY, _case("follow_up"), _form({"period_start": "2027-01-01", "period_end": "2027-06-30", "due_on": "2027-08-31"})),
    ("POST", "/arenden/{case_id}/uppfoljning/{report_id}/bedom"): Call(
        OFFICER_ONLY, _case("follow_up", report_id="report_submitted"), _form({"assessment": "approved"})),
    ("POST", "/arenden/{case_id}/pausa"): Call(STAFF, _case("dialogue"), _form({"reason": "Väntar på organisationens underlag"})),
    ("POST", "/arenden/{case_id}/ateruppta"): Call(STAFF, _case("dialogue"), note="not suspended: the allowed roles meet a 409"),
    ("POST", "/arenden/{case_id}/frister/{deadline_id}/forlang"): Call(
        STAFF, _case("dialogue", deadline_id="deadline"), _form({"working_days": "2", "reason": "Väntar på underlag"})),
    # ------------------------------------------------------------------ the administrator
    ("GET", "/admin"): Call(ADMIN_ONLY),
    ("POST", "/admin/anvandare"): Call(ADMIN_ONLY, lambda ids: {}, _form(
        {"email": "ny.registrator@matris.example.se", "full_name": "Ny Registrator", "role": "registrar", "password": "lösen-123456"})),
    ("POST", "/admin/anvandare/{user_id}/{action}"): Call(ADMIN_ONLY, lambda ids: {"user_id": ids["officer2"], "action": "sparra"}),
    ("GET", "/admin/forvaltningar/{department_id}/frister"): Call(ADMIN_ONLY, lambda ids: {"department_id": ids["dep"]}),
    ("POST", "/admin/forvaltningar/{department_id}/frister"): Call(
        ADMIN_ONLY, lambda ids: {"department_id": ids["dep"]}, _form({"triage-due": "4", "triage-due_unit": "working_days"})),
}

# Staff case routes check the role before the case's visibility, so someone who cannot see the case at all
# (another organisation's member, an admin) is told 403 instead of the 404 the SPEC and the API give.
_ROLE_BEFORE_VISIBILITY = [
    ("POST", "/arenden/{case_id}/tilldela"), ("POST", "/arenden/{case_id}/begar-beslut"), ("POST", "/arenden/{case_id}/begar-komplettering"),
    ("POST", "/arenden/{case_id}/granskning/{review_id}/aterta"), ("GET", "/arenden/{case_id}/beslut"),
    ("POST", "/arenden/{case_id}/beslut"), ("GET", "/arenden/{case_id}/dialog"), ("POST", "/arenden/{case_id}/dialog/mote"),
    ("POST", "/arenden/{case_id}/dialog/lamplighet"), ("GET", "/arenden/{case_id}/avtal"), ("POST", "/arenden/{case_id}/avtal"),
    ("POST", "/arenden/{case_id}/dokument/skapa"),
    ("POST", "/arenden/{case_id}/dokument/{doc_id}/pdf"), ("POST", "/arenden/{case_id}/uppfoljning/planera"),
    ("POST", "/arenden/{case_id}/uppfoljning/{report_id}/bedom"), ("POST", "/arenden/{case_id}/pausa"),
    ("POST", "/arenden/{case_id}/ateruppta"), ("POST", "/arenden/{case_id}/frister/{deadline_id}/forlang"),
]
# (route, role) -> what the web answers today; MATRIX keeps the correct answer.
KNOWN_BUGS: dict[tuple[tuple[str, str], str], str] = {}


def web_routes(app) -> set[tuple[str, str]]:  # noqa: ANN001
    """Every (method, path) of a page route: all routes outside the API, the docs, health probes and static mounts."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.150 keeps included routers unflattened
        routes = list(iter_route_contexts(app.routes))
    except ImportError:
        routes = list(app.routes)
    out = set()
    for r in routes:
        path, methods = getattr(r, "path", "") or "", getattr(r, "methods", None)
        if not methods or path in EXCLUDED_PATHS or path.startswith(EXCLUDED_PREFIXES):
            continue  # mounts (static files, docs assets) have no methods
        out |= {(m, path) for m in set(methods) - {"HEAD", "OPTIONS"}}
    return out


def test_every_web_route_is_classified(app) -> None:  # noqa: ANN001
    routes = web_routes(app)
    assert routes, "no web routes found: is the route table enumerated correctly?"
    assert routes - set(MATRIX) == set(), "new web routes need a row in MATRIX (who may call them?)"
    assert set(MATRIX) - routes == set(), "MATRIX names web routes that no longer exist"
    assert {route for route, _ in KNOWN_BUGS} <= set(MATRIX)


def _token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "every page with a form carries a CSRF token"
    return m.group(1)


@pytest.fixture(scope="module")
def matrix(app, engine, tmp_path_factory) -> Iterator[dict]:  # noqa: ANN001
    """One prepared world per backend, a session cookie per person and one CSRF pair; every cell is rolled back."""
    conn = engine.connect()
    outer = conn.begin()
    store = FilesystemStore(tmp_path_factory.mktemp("web-matrix-objects"))
    setup = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    w = World(setup)
    other_dep = department(setup)
    people = {
        "org_member": w.member, "org_member_other": w.other_member, "officer": w.officer,
        "officer_other_dep": user(setup, Role.OFFICER, department=other_dep), "approver": w.approver,
        "registrar": w.registrar, "admin": w.admin,
    }
    cases = {name: case(setup, w.org, w.dep, stage=stage, officer_id=None if stage == Stage.DRAFT else w.officer.id)
             for name, stage in (("draft", Stage.DRAFT), ("identify_need", Stage.IDENTIFY_NEED), ("reopened", Stage.IDENTIFY_NEED),
                                 ("dialogue", Stage.DIALOGUE), ("agreement", Stage.AGREEMENT), ("follow_up", Stage.FOLLOW_UP))}
    cases["reopened"].open_for_changes = True
    dialogue, agreement, follow_up = cases["dialogue"], cases["agreement"], cases["follow_up"]
    setup.add(DialogueMeeting(case_id=dialogue.id, held_on=date(2026, 10, 1), participants=[{"name": "Anna Andersson"}]))
    terms = AgreementTerms.model_validate(terms_payload(w.org.name, w.org.orgnr))
    setup.add(Agreement(case_id=agreement.id, terms=terms.model_dump(mode="json"), funding_amount_sek=terms.funding_amount_sek,
                        period_start=terms.period_start, period_end=terms.period_end))
    review = Review(case_id=dialogue.id, from_stage=Stage.DIALOGUE, to_stage=Stage.AGREEMENT, requested_by_id=w.officer.id,
                    requested_at=utcnow(), due_at=utcnow() + timedelta(days=14), status=ReviewStatus.PENDING)
    due = FollowUpReport(case_id=follow_up.id, period_start=date(2027, 1, 1), period_end=date(2027, 12, 31), due_on=date(2028, 1, 31))
    submitted = FollowUpReport(case_id=follow_up.id, period_start=date(2026, 1, 1), period_end=date(2026, 12, 31), due_on=date(2027, 1, 31),
                               content={"activities_done": "Träffar", "participants_reached": 40, "money_used_sek": 90_000, "deviations": ""},
                               submitted_at=utcnow(), submitted_by_id=w.member.id)
    setup.add_all([review, due, submitted, Message(case_id=dialogue.id, author_id=w.member.id, body="Hej!")])
    setup.flush()
    agreement_doc = add_document(setup, agreement, DocumentKind.AGREEMENT)  # generated from the saved terms: signatures may be recorded
    from service.signing.models import SigningInvitation, SigningOrder

    # Out for e-signature with the organisation's member as the first signatory.
    signing_order = SigningOrder(case_id=agreement.id, source_document_id=agreement_doc.id, document_id=agreement_doc.id,
                                 provider="builtin", provider_ref="builtin:matrix")
    setup.add(signing_order)
    setup.flush()
    setup.add(SigningInvitation(order_id=signing_order.id, position=1, party="organisation", user_id=w.member.id, name=w.member.full_name,
                                role="Ordförande", field_name="Underskrift1"))
    # A second agreement with the municipality's signature, to correct and remove (a signed agreement's terms are frozen).
    signed, signature = signed_agreement_case(setup, w, terms)
    org_signature = Signature(case_id=signed.id, party=Party.ORGANISATION, name="Olle Ordförande", role="Ordförande",
                              signed_on=signature.signed_on)
    setup.add(org_signature)
    setup.flush()
    from service.config import get_settings
    from service.deadlines import rules as deadline_rules
    from service.deadlines.models import DeadlineKind

    deadline = deadline_rules.create(setup, dialogue, DeadlineKind.DIALOGUE, get_settings())
    doc = documents.store_document(setup, store, case=dialogue, kind=DocumentKind.ATTACHMENT, filename="bilaga.pdf",
                                   content=PDF, content_type="application/pdf", user=w.member)
    from sqlalchemy import select

    from service.diarium.models import DiaryEntry

    diary_entry = setup.scalar(select(DiaryEntry.id).where(DiaryEntry.document_id == doc.id))  # registered with the upload
    from service.cases.models import StageChange
    from service.retention import service as retention

    closed = case(setup, w.org, w.dep, stage=Stage.CLOSED, officer_id=w.officer.id)
    documents.store_document(setup, store, case=closed, kind=DocumentKind.ATTACHMENT, filename="gammal-bilaga.pdf", content=PDF,
                             content_type="application/pdf", user=w.officer)
    setup.add(StageChange(case_id=closed.id, from_stage=Stage.FOLLOW_UP, to_stage=Stage.CLOSED, at=datetime(2015, 3, 2, tzinfo=UTC)))
    setup.flush()
    gallring, _ = retention.propose(setup)
    gallring_item = retention.items(setup, gallring)[0]
    from archive_world import stored_export

    archive_ids = stored_export(setup, store, w.registrar, closed)
    setup.commit()  # releases the setup savepoint; the outer transaction keeps it all until the module ends
    ids = {**{k: c.id for k, c in cases.items()}, "signature": signature.id, "org_signature": org_signature.id, "signed": signed.id, "signing_order": signing_order.id, "dep": w.dep.id, "org": w.org.id, "officer2": w.officer2.id, "review": review.id,
           "report_due": due.id, "report_submitted": submitted.id, "document": doc.id, "diary_entry": diary_entry, "deadline": deadline.id, "gallring": gallring.id, "gallring_item": gallring_item.id,
           "terms": terms.model_dump(mode="json"), "reopened_version": cases["reopened"].version}
    ids.update(archive_ids)

    sessions = lambda: Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)  # noqa: E731
    use_sessions(app, committing_sessions(sessions), SessionReader(sessions))
    app.dependency_overrides[documents.get_store] = lambda: store
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        page = client.get("/logga-in")
        csrf = {"cookie": page.cookies[CSRF_COOKIE], "token": _token(page.text)}
        cookies: dict[str, dict[str, str]] = {"anonymous": {CSRF_COOKIE: csrf["cookie"]}}
        for name, person in people.items():  # log in through the form, as a browser does
            client.cookies.clear()
            r = client.post("/logga-in", data={"email": person.email, "password": PASSWORD, "csrf_token": csrf["token"]},
                            cookies={CSRF_COOKIE: csrf["cookie"]}, follow_redirects=False)
            assert r.status_code == 303 and SESSION_COOKIE in r.cookies, (name, r.status_code)
            cookies[name] = {CSRF_COOKIE: csrf["cookie"], SESSION_COOKIE: r.cookies[SESSION_COOKIE]}
        client.cookies.clear()
        yield {"client": client, "conn": conn, "ids": ids, "csrf": csrf["token"], "cookies": cookies,
               "emails": {**{n: p.email for n, p in people.items()}, "anonymous": w.member.email}}
    drop_sessions(app)
    app.dependency_overrides.pop(documents.get_store, None)
    setup.close()
    outer.rollback()
    conn.close()


def classify(response) -> str:  # noqa: ANN001
    """The outcome class of a page response (a 409 after a post is the state refusing, past authorisation)."""
    status = response.status_code
    if status in (302, 303, 307) and response.headers.get("location", "").startswith("/logga-in?nasta="):
        return LOGIN
    if status in (401, 403, 404) or status >= 500 or (status == 409 and response.request.method == "GET"):
        return str(status)
    return OK


def _cells() -> list:
    out = []
    for route in sorted(MATRIX):
        for role in ROLES:
            marks = []
            if (route, role) in KNOWN_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=f"web answers {KNOWN_BUGS[route, role]}, "
                                                                   f"expected {MATRIX[route].outcomes[role]}"))
            out.append(pytest.param(route, role, marks=marks, id=f"{route[0]} {route[1]} {role}"))
    return out


@pytest.mark.parametrize(("route", "role"), _cells())
def test_web_authorisation_matrix(matrix, route, role) -> None:  # noqa: ANN001
    method, template = route
    spec = MATRIX[route]
    ids = {**matrix["ids"], "email": matrix["emails"][role]}
    url = template.format(**spec.path(ids))
    client: TestClient = matrix["client"]
    client.cookies.clear()  # each cell sends exactly its role's cookies; nothing a response sets is carried over
    kw: dict = {}
    if method == "POST":
        kw["data"] = {**spec.form(ids), "csrf_token": matrix["csrf"]}
        if (files := spec.files(ids)) is not None:
            kw["files"] = files
    savepoint = matrix["conn"].begin_nested()
    try:
        response = client.request(method, url, cookies=matrix["cookies"][role], follow_redirects=False, **kw)
    finally:
        savepoint.rollback()
        client.cookies.clear()
    got, wanted = classify(response), spec.outcomes[role]
    body = re.sub(r"\s+", " ", response.text)[:300]
    assert "CSRF token missing or invalid" not in response.text, "the CSRF check refused the post: the matrix is not testing authorisation"
    assert got == wanted, f"{method} {url} as {role}: expected {wanted}, got {response.status_code} " \
                          f"{response.headers.get('location', '')} {body}"
    if got in (E403, E404):
        assert response.headers["content-type"].startswith("text/html"), "refusals are pages, not problem+json"
