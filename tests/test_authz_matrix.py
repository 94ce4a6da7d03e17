"""Authorisation matrix: every /api/v1 route × every role, against a case in the stage where the route applies.

MATRIX below is the documentation of who may do what. It follows the SPEC's role table:
- org_member: own organisation and its cases (create, edit drafts or reopened cases, submit, withdraw, messages,
  attachments, own signature, follow-up reports); another organisation's anything is 404, never 403;
- officer: cases of the own department (not drafts); dialogue, checklist, agreement terms, documents, reviews,
  follow-up assessment; another department's case is 404;
- approver: decisions (and terminate) within the department; four-eyes is tested in tests/reviews;
- registrar: reads everything incl. audit, corrects registration data, erases contacts on request; no case work;
- admin: users and departments; no case access at all (404 on every case route);
- anonymous: 401 except login and self-registration.
Outcome classes: OK (2xx), 401, 403, 404, and 409 where the role passes authorisation but the state refuses.
Each (route, role) runs in a savepoint that is rolled back, so every role meets the same state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo
from pathlib import Path

import pytest
from factories import PASSWORD, World, auth, case, department, make_orgnr, user
from fastapi.testclient import TestClient
from gates_setup import add_document, signed_agreement_case, terms_payload
from helpers import committing_sessions, drop_sessions, use_sessions
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.reads import SessionReader

from service.agreements.models import Agreement
from service.agreements.schemas import AgreementTerms
from service.auth.models import Role
from service.cases.stages import Stage
from service.db import utcnow
from service.dialogue.models import DialogueMeeting
from service.documents import service as documents
from service.documents.models import DocumentKind
from service.followup.models import FollowUpReport
from service.messages.models import Message
from service.organisations import service as organisations
from service.organisations.models import ContactPerson
from service.reviews.models import Review, ReviewStatus
from storage.filesystem import FilesystemStore

ROOT = Path(__file__).resolve().parents[1]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ROLES = ("org_member", "org_member_other", "officer", "officer_other_dep", "approver", "registrar", "admin", "anonymous")
OK = "OK"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# The agreement document is generated today in the prepared world: a signature is dated today (not earlier, not later).
TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date().isoformat()


def expect(ok: str = "", e403: str = "", e404: str = "", e409: str = "", public: bool = False) -> dict[str, object]:
    """Outcome per role from space-separated role lists; anonymous is 401 unless the route is public."""
    out: dict[str, object] = {}
    for outcome, names in ((OK, ok), (403, e403), (404, e404), (409, e409)):
        for name in names.split():
            assert name in ROLES and name not in out, name
            out[name] = outcome
    out.setdefault("anonymous", OK if public else 401)
    missing = set(ROLES) - set(out)
    assert not missing, f"roles without an expected outcome: {missing}"
    return out


# Shapes that recur: who sees a case (member of its organisation, its department's civil servants, registrars).
CASE_READ = expect(ok="org_member officer approver registrar", e404="org_member_other officer_other_dep admin")
OFFICER_ONLY = expect(ok="officer", e403="org_member approver registrar", e404="org_member_other officer_other_dep admin")
APPROVER_ONLY = expect(ok="approver", e403="org_member officer registrar", e404="org_member_other officer_other_dep admin")
MEMBER_ONLY = expect(ok="org_member", e403="officer approver registrar", e404="org_member_other officer_other_dep admin")
# Drafts belong to the organisation until submitted: the department does not see them yet.
DRAFT_MEMBER_ONLY = expect(ok="org_member", e403="registrar", e404="org_member_other officer officer_other_dep approver admin")
CASE_AUDIT = expect(ok="officer approver registrar", e403="org_member", e404="org_member_other officer_other_dep admin")
ANY_USER = expect(ok="org_member org_member_other officer officer_other_dep approver registrar admin")
ADMIN_ONLY = expect(ok="admin", e403="org_member org_member_other officer officer_other_dep approver registrar")
ORG_READ = expect(ok="org_member officer officer_other_dep approver registrar admin", e404="org_member_other")
ORG_EDIT = expect(ok="org_member registrar", e403="officer officer_other_dep approver admin", e404="org_member_other")
REGISTRAR_ONLY = expect(ok="registrar", e403="org_member org_member_other officer officer_other_dep approver admin")
ORG_REGISTRAR = expect(ok="registrar", e403="org_member officer officer_other_dep approver admin", e404="org_member_other")
# No login at all (the public register): the same answer for every role and for anonymous.
EVERYONE = expect(ok=" ".join(r for r in ROLES if r != "anonymous"), public=True)


@dataclass
class Call:
    """How to call a route as an allowed role would: the stage it needs and the request it sends."""

    outcomes: dict[str, object]
    path: Callable[[dict], dict] = lambda ids: {}
    request: Callable[[dict], dict] = lambda ids: {}
    note: str = ""


def _json(body: dict) -> Callable[[dict], dict]:
    return lambda ids: {"json": body}


CASE = {  # which prepared case each route runs against (by the stage it needs)
    "draft": lambda ids: {"case_id": ids["draft"]},
    "identify_need": lambda ids: {"case_id": ids["identify_need"]},
    "reopened": lambda ids: {"case_id": ids["reopened"]},
    "dialogue": lambda ids: {"case_id": ids["dialogue"]},
    "agreement": lambda ids: {"case_id": ids["agreement"]},
    "signed": lambda ids: {"case_id": ids["signed"]},
    "follow_up": lambda ids: {"case_id": ids["follow_up"]},
}


def _with(stage: str, **more: str) -> Callable[[dict], dict]:
    return lambda ids: {**CASE[stage](ids), **{k: ids[v] for k, v in more.items()}}


def _org(**more: str) -> Callable[[dict], dict]:
    return lambda ids: {"org_id": ids["org"], **{k: ids[v] for k, v in more.items()}}


ORG_BODY = {"name": "Föreningen Matris", "orgnr": make_orgnr(90_001), "legal_form": "ideell_forening"}

MATRIX: dict[tuple[str, str], Call] = {
    # ------------------------------------------------------------------ auth, users, departments
    ("POST", "/api/v1/auth/token"): Call(
        expect(ok=" ".join(r for r in ROLES if r != "anonymous"), public=True),
        request=lambda ids: {"data": {"username": ids["email"], "password": PASSWORD}}),
    ("POST", "/api/v1/auth/register"): Call(
        expect(ok=" ".join(r for r in ROLES if r != "anonymous"), public=True),
        request=_json({"email": "ny.medlem@matris.example.se", "password": "långt-lösenord-1", "full_name": "Ny Medlem",
                       "organisation": {**ORG_BODY, "orgnr": make_orgnr(90_002)}})),
    ("POST", "/api/v1/auth/password"): Call(
        ANY_USER, request=_json({"current_password": PASSWORD, "new_password": "Granskogens-Tysta-Stigar-41"}),
        note="one's own password; older tokens are revoked and a new one returned"),
    ("POST", "/api/v1/auth/password-reset"): Call(
        expect(ok=" ".join(r for r in ROLES if r != "anonymous"), public=True), request=lambda ids: {"json": {"email": ids["email"]}},
        note="the same answer for every address; only the account's owner gets the e-mail"),
    ("POST", "/api/v1/auth/password-reset/confirm"): Call(
        dict.fromkeys(ROLES, 422), request=_json({"token": "x" * 43, "new_password": "Granskogens-Tysta-Stigar-41"}),
        note="public: the e-mailed token is the authorisation; an unknown one is a 422 for everyone"),
    ("POST", "/api/v1/auth/confirm-email"): Call(
        dict.fromkeys(ROLES, 422), request=_json({"token": "x" * 43}), note="public: the e-mailed token is the authorisation"),
    ("GET", "/api/v1/auth/me"): Call(ANY_USER),
    ("GET", "/api/v1/users"): Call(ANY_USER),
    ("GET", "/api/v1/reminders/failed"): Call(ADMIN_ONLY),
    ("POST", "/api/v1/reminders/{reminder_id}/resend"): Call(ADMIN_ONLY, lambda ids: {"reminder_id": ids["reminder"]}),
    ("POST", "/api/v1/users"): Call(ADMIN_ONLY, request=_json(
        {"email": "ny.registrator@matris.example.se", "full_name": "Ny Registrator", "role": "registrar", "password": "lösen-123456"})),
    ("PATCH", "/api/v1/users/{user_id}"): Call(
        ADMIN_ONLY, lambda ids: {"user_id": ids["officer2"]}, _json({"title": "Enhetschef"})),
    ("GET", "/api/v1/departments"): Call(ANY_USER),
    ("POST", "/api/v1/departments"): Call(ADMIN_ONLY, request=_json({"name": "Matrisförvaltningen", "diarie_prefix": "MATRIX"})),
    ("GET", "/api/v1/departments/{department_id}/deadline-policy"): Call(
        expect(ok="officer officer_other_dep approver registrar admin", e403="org_member org_member_other"),
        lambda ids: {"department_id": ids["dep"]}, note="the policy is internal to the municipality"),
    ("PUT", "/api/v1/departments/{department_id}/deadline-policy"): Call(
        ADMIN_ONLY, lambda ids: {"department_id": ids["dep"]}, _json({"kinds": {"triage": {"due": {"working_days": 4}}}})),
    # ------------------------------------------------------------------ the municipality's own document templates (admin)
    ("GET", "/api/v1/document-templates"): Call(ADMIN_ONLY),
    ("GET", "/api/v1/document-templates/{kind}"): Call(ADMIN_ONLY, lambda ids: {"kind": "decision"}),
    ("POST", "/api/v1/document-templates/{kind}"): Call(
        ADMIN_ONLY, lambda ids: {"kind": "decision"},
        lambda ids: {"files": {"file": ("beslut.docx", (ROOT / "templates" / "beslut.docx").read_bytes(), DOCX)}},
        note="the shipped template uploaded again: it passes the variable check and the test render"),
    ("GET", "/api/v1/document-templates/{kind}/versions/{version}/content"): Call(
        ADMIN_ONLY, lambda ids: {"kind": "decision", "version": 0}),
    ("GET", "/api/v1/document-templates/{kind}/versions/{version}/preview"): Call(
        ADMIN_ONLY, lambda ids: {"kind": "decision", "version": 0}),
    ("POST", "/api/v1/document-templates/{kind}/versions/{version}/activate"): Call(
        ADMIN_ONLY, lambda ids: {"kind": "decision", "version": 0}, note="version 0: back to the shipped template"),
    # ------------------------------------------------------------------ organisations
    ("GET", "/api/v1/organisations"): Call(ANY_USER),
    ("POST", "/api/v1/organisations"): Call(
        expect(ok="registrar admin", e403="officer officer_other_dep approver", e409="org_member org_member_other"),
        request=_json(ORG_BODY), note="members already belong to an organisation (409); registrars and admins register others"),
    ("GET", "/api/v1/organisations/{org_id}"): Call(ORG_READ, _org()),
    ("PATCH", "/api/v1/organisations/{org_id}"): Call(ORG_EDIT, _org(), _json({"city": "Norrby"})),
    ("POST", "/api/v1/organisations/{org_id}/verify"): Call(
        expect(ok="officer officer_other_dep registrar admin", e403="org_member approver", e404="org_member_other"), _org(),
        note="the municipality's staff confirm a self-registered organisation"),
    ("GET", "/api/v1/organisations/{org_id}/contacts"): Call(ORG_READ, _org()),
    ("POST", "/api/v1/organisations/{org_id}/invitations"): Call(
        expect(ok="org_member officer officer_other_dep registrar admin", e403="approver", e404="org_member_other"), _org(),
        _json({"email": "inbjuden@example.se"}), note="members invite into their own organisation, the municipality's staff into any"),
    ("GET", "/api/v1/organisations/{org_id}/invitations"): Call(
        expect(ok="org_member officer officer_other_dep registrar admin", e403="approver", e404="org_member_other"), _org(),
        note="whoever may invite sees the invitations"),
    ("POST", "/api/v1/auth/oidc/{provider}/backchannel-logout"): Call(
        dict.fromkeys(ROLES, 404), lambda ids: {"provider": "ingen"}, lambda ids: {"data": {"logout_token": "a.b.c"}}, note="public (the provider's signature authorises); "
        "no provider is configured here, so the name is unknown for everyone"),
    ("POST", "/api/v1/organisations/{org_id}/contacts"): Call(ORG_EDIT, _org(), _json({"name": "Kim Kassör"})),
    ("PATCH", "/api/v1/organisations/{org_id}/contacts/{contact_id}"): Call(ORG_EDIT, _org(contact_id="contact"), _json({"role": "Kassör"})),
    ("DELETE", "/api/v1/organisations/{org_id}/contacts/{contact_id}"): Call(ORG_EDIT, _org(contact_id="contact")),
    ("GET", "/api/v1/organisations/{org_id}/contacts/{contact_id}/export"): Call(ORG_EDIT, _org(contact_id="contact")),
    ("POST", "/api/v1/organisations/{org_id}/contacts/{contact_id}/erase"): Call(ORG_REGISTRAR, _org(contact_id="contact")),
    ("POST", "/api/v1/organisations/{org_id}/overenskommelse"): Call(
        ORG_EDIT, _org(), lambda ids: {"data": {"date": "2026-01-15"}, "files": {"file": ("protokoll.pdf", PDF, "application/pdf")}}),
    ("GET", "/api/v1/organisations/{org_id}/overenskommelse"): Call(ORG_READ, _org()),
    ("GET", "/api/v1/organisations/{org_id}/board-minutes/{document_id}/content"): Call(ORG_READ, _org(document_id="board_minutes")),
    ("GET", "/api/v1/organisations/{org_id}/audit"): Call(ORG_REGISTRAR, _org()),
    ("GET", "/api/v1/organisations/{org_id}/audit/verify"): Call(ORG_REGISTRAR, _org()),
    # ------------------------------------------------------------------ cases
    ("GET", "/api/v1/cases"): Call(ANY_USER, note="lists are filtered by visibility, never refused"),
    ("POST", "/api/v1/cases"): Call(
        expect(ok="org_member org_member_other", e403="officer officer_other_dep approver registrar admin"),
        request=lambda ids: {"json": {"title": "Nytt förslag", "department_id": ids["dep"]}}),
    ("GET", "/api/v1/cases/{case_id}"): Call(CASE_READ, CASE["dialogue"]),
    ("PATCH", "/api/v1/cases/{case_id}"): Call(
        expect(ok="org_member officer", e403="approver registrar", e404="org_member_other officer_other_dep admin"),
        CASE["reopened"], lambda ids: {"json": {"target_group": "Äldre i Norrby"}, "headers": {"If-Match": f'"{ids["reopened_version"]}"'}},
        note="a case reopened for changes: the organisation completes it, the officer refines it"),
    ("POST", "/api/v1/cases/{case_id}/submit"): Call(DRAFT_MEMBER_ONLY, CASE["draft"]),
    ("POST", "/api/v1/cases/{case_id}/withdraw"): Call(MEMBER_ONLY, CASE["identify_need"], _json({"reason": "Vi drar tillbaka"})),
    ("POST", "/api/v1/cases/{case_id}/request-completion"): Call(
        OFFICER_ONLY, CASE["identify_need"], _json({"message": "Komplettera budgeten"}), note="the department's officer asks directly"),
    ("POST", "/api/v1/cases/{case_id}/assign"): Call(
        expect(ok="officer approver", e403="org_member registrar", e404="org_member_other officer_other_dep admin"),
        CASE["identify_need"], lambda ids: {"json": {"officer_id": ids["officer2"]}}),
    ("POST", "/api/v1/cases/{case_id}/terminate"): Call(APPROVER_ONLY, CASE["follow_up"], _json({"reason": "Verksamheten har upphört"})),
    ("GET", "/api/v1/cases/{case_id}/stages"): Call(CASE_READ, CASE["dialogue"]),
    # ------------------------------------------------------------------ reviews
    ("POST", "/api/v1/cases/{case_id}/reviews"): Call(
        expect(ok="officer approver", e403="org_member registrar", e404="org_member_other officer_other_dep admin"),
        CASE["identify_need"], _json({}), note="the department's civil servants request; four-eyes stops the requester deciding"),
    ("GET", "/api/v1/cases/{case_id}/reviews"): Call(CASE_READ, CASE["dialogue"]),
    ("POST", "/api/v1/cases/{case_id}/reviews/{review_id}/decision"): Call(
        APPROVER_ONLY, _with("dialogue", review_id="review"), _json({"decision": "changes_requested", "motivation": "Komplettera budgeten"})),
    ("POST", "/api/v1/cases/{case_id}/reviews/{review_id}/assign"): Call(
        expect(ok="officer approver", e403="org_member registrar", e404="org_member_other officer_other_dep admin"),
        _with("dialogue", review_id="review"), _json({"approver_id": None}),
        note="the department's civil servants move a pending review to another approver (or to any who may decide it)"),
    ("POST", "/api/v1/cases/{case_id}/reviews/{review_id}/cancel"): Call(
        OFFICER_ONLY, _with("dialogue", review_id="review"), note="only the requester (here the officer) takes a review back"),
    ("GET", "/api/v1/reviews/pending"): Call(
        expect(ok="approver", e403="org_member org_member_other officer officer_other_dep registrar admin")),
    # ------------------------------------------------------------------ dialogue
    ("POST", "/api/v1/cases/{case_id}/meetings"): Call(
        OFFICER_ONLY, CASE["dialogue"], _json({"held_on": "2026-10-20", "participants": [{"name": "Anna Andersson"}]})),
    ("GET", "/api/v1/cases/{case_id}/meetings"): Call(CASE_READ, CASE["dialogue"]),
    ("GET", "/api/v1/cases/{case_id}/suitability"): Call(CASE_READ, CASE["dialogue"]),
    ("PUT", "/api/v1/cases/{case_id}/suitability"): Call(OFFICER_ONLY, CASE["dialogue"], _json({"items": {}})),
    ("GET", "/api/v1/cases/{case_id}/de-minimis"): Call(CASE_READ, CASE["dialogue"]),
    # ------------------------------------------------------------------ documents
    ("POST", "/api/v1/cases/{case_id}/documents/{kind}/generate"): Call(
        OFFICER_ONLY, lambda ids: {**CASE["dialogue"](ids), "kind": "dialogue_minutes"}),
    ("POST", "/api/v1/cases/{case_id}/attachments"): Call(
        expect(ok="org_member officer", e403="approver registrar", e404="org_member_other officer_other_dep admin"),
        CASE["dialogue"], lambda ids: {"files": {"file": ("bilaga.pdf", PDF, "application/pdf")}}),
    ("GET", "/api/v1/cases/{case_id}/documents"): Call(CASE_READ, CASE["dialogue"]),
    ("GET", "/api/v1/cases/{case_id}/documents/{doc_id}"): Call(CASE_READ, _with("dialogue", doc_id="document")),
    ("GET", "/api/v1/cases/{case_id}/documents/{doc_id}/content"): Call(CASE_READ, _with("dialogue", doc_id="document")),
    ("POST", "/api/v1/cases/{case_id}/documents/{doc_id}/pdf"): Call(
        expect(e409="officer", e403="org_member approver registrar", e404="org_member_other officer_other_dep admin"),
        _with("dialogue", doc_id="document"),
        note="the prepared document is a PDF upload, so the officer meets the .docx check; conversion is tested in tests/documents"),
    ("POST", "/api/v1/cases/{case_id}/documents/{doc_id}/confirm"): Call(
        expect(e409="officer", e403="org_member approver registrar", e404="org_member_other officer_other_dep admin"),
        _with("dialogue", doc_id="document"),
        note="the prepared document is an attachment, not a signed agreement; confirmation is tested in tests/documents"),
    # ------------------------------------------------------------------ agreement
    ("PUT", "/api/v1/cases/{case_id}/agreement"): Call(OFFICER_ONLY, CASE["agreement"], lambda ids: {"json": ids["terms"]}),
    ("GET", "/api/v1/cases/{case_id}/agreement"): Call(CASE_READ, CASE["agreement"]),
    ("PATCH", "/api/v1/cases/{case_id}/agreement"): Call(OFFICER_ONLY, CASE["agreement"], _json({"purpose": "Minska ensamheten."}),
                                                         note="a draft: only what is given is checked"),
    ("POST", "/api/v1/cases/{case_id}/signatures"): Call(
        expect(ok="org_member officer", e403="approver registrar", e404="org_member_other officer_other_dep admin"),
        CASE["agreement"], _json({"party": "organisation", "name": "Olle Ordförande", "role": "Ordförande", "signed_on": TODAY}),
        note="the organisation records its own signature; the officer records both"),
    ("GET", "/api/v1/cases/{case_id}/signatures"): Call(CASE_READ, CASE["agreement"]),
    ("PUT", "/api/v1/cases/{case_id}/signatures/{signature_id}"): Call(
        OFFICER_ONLY, _with("signed", signature_id="signature"),
        _json({"party": "public", "name": "Eva Ek", "role": "Kommundirektör", "signed_on": TODAY}),
        note="the municipality's signature: the officer corrects it; the organisation corrects only its own"),
    ("DELETE", "/api/v1/cases/{case_id}/signatures/{signature_id}"): Call(OFFICER_ONLY, _with("signed", signature_id="signature")),
    # ------------------------------------------------------------------ electronic signing (service/signing, tests/signing)
    ("POST", "/api/v1/cases/{case_id}/signing-orders"): Call(
        expect(e409="officer", e403="org_member approver registrar", e404="org_member_other officer_other_dep admin"),
        CASE["signed"], lambda ids: {"json": {"signatories": [{"party": "organisation", "user_id": ids["officer2"]},
                                                              {"party": "public", "user_id": ids["officer2"]}]}},
        note="the municipality has signed the prepared agreement on paper, so the officer meets that refusal"),
    ("GET", "/api/v1/cases/{case_id}/signing-orders"): Call(CASE_READ, CASE["agreement"]),
    ("POST", "/api/v1/cases/{case_id}/signing-orders/{order_id}/sign"): Call(
        expect(e409="org_member", e403="officer approver registrar", e404="org_member_other officer_other_dep admin"),
        _with("agreement", order_id="signing_order"),
        note="only the invited signatory (the member) passes; the prepared order's PDF is not in storage, so it meets that 409"),
    ("GET", "/api/v1/cases/{case_id}/documents/{doc_id}/signatures"): Call(CASE_READ, _with("dialogue", doc_id="document")),
    # ------------------------------------------------------------------ follow-up
    ("POST", "/api/v1/cases/{case_id}/followup-reports"): Call(
        OFFICER_ONLY, CASE["follow_up"], _json({"period_start": "2027-01-01", "period_end": "2027-06-30", "due_on": "2027-08-31"})),
    ("GET", "/api/v1/cases/{case_id}/followup-reports"): Call(CASE_READ, CASE["follow_up"]),
    ("GET", "/api/v1/cases/{case_id}/indicators"): Call(CASE_READ, CASE["follow_up"]),
    ("POST", "/api/v1/cases/{case_id}/followup-reports/{report_id}/submit"): Call(
        MEMBER_ONLY, _with("follow_up", report_id="report_due"),
        _json({"activities_done": "Träffar varje vecka", "participants_reached": 120, "money_used_sek": 150_000})),
    ("POST", "/api/v1/cases/{case_id}/followup-reports/{report_id}/assessment"): Call(
        OFFICER_ONLY, _with("follow_up", report_id="report_submitted"), _json({"assessment": "approved"})),
    # ------------------------------------------------------------------ audit, messages, timeline
    ("GET", "/api/v1/cases/{case_id}/audit"): Call(CASE_AUDIT, CASE["dialogue"]),
    ("GET", "/api/v1/cases/{case_id}/audit/verify"): Call(CASE_AUDIT, CASE["dialogue"]),
    ("POST", "/api/v1/cases/{case_id}/messages"): Call(
        expect(ok="org_member officer approver", e403="registrar", e404="org_member_other officer_other_dep admin"),
        CASE["dialogue"], _json({"body": "Hej, vi har en fråga om budgeten."})),
    ("GET", "/api/v1/cases/{case_id}/messages"): Call(CASE_READ, CASE["dialogue"]),
    ("GET", "/api/v1/cases/{case_id}/messages/{message_id}"): Call(CASE_READ, _with("dialogue", message_id="message")),
    ("GET", "/api/v1/cases/{case_id}/timeline"): Call(CASE_READ, CASE["dialogue"]),
    # ------------------------------------------------------------------ diarium
    ("GET", "/api/v1/cases/{case_id}/diary"): Call(CASE_READ, CASE["dialogue"], note="the organisation: not confidential, not internal"),
    ("PATCH", "/api/v1/cases/{case_id}/diary/{entry_id}"): Call(
        expect(ok="registrar", e403="org_member officer approver", e404="org_member_other officer_other_dep admin"),
        _with("dialogue", entry_id="diary_entry"), lambda ids: {"json": {"description": "Bilaga: rättad beskrivning"},
                                                               "headers": {"If-Match": '"1"'}}),
    ("GET", "/api/v1/public/diary"): Call(EVERYONE, note="the public register: confidential entries only as existing, no internal"),
    ("GET", "/api/v1/public/diary.csv"): Call(EVERYONE),
    ("GET", "/api/v1/public/partnerships"): Call(EVERYONE, note="active partnerships (agreement in force)"),
    ("GET", "/api/v1/public/partnerships.csv"): Call(EVERYONE),
    ("GET", "/api/v1/diary"): Call(
        expect(ok="officer officer_other_dep registrar", e403="org_member org_member_other approver admin"),
        note="officers search their department's cases, registrars all"),
    ("GET", "/api/v1/diary/report"): Call(
        expect(ok="officer officer_other_dep registrar", e403="org_member org_member_other approver admin"),
        request=lambda ids: {"params": {"from": "2026-01-01", "to": "2026-12-31"}},
        note="the period's diarium as CSV (PDF/A: tests/diarium/test_report.py), confidential entries with their OSL reference"),
    # ------------------------------------------------------------------ retention (gallring): the registrar's alone
    ("GET", "/api/v1/retention/due"): Call(REGISTRAR_ONLY),
    ("GET", "/api/v1/retention/decisions"): Call(REGISTRAR_ONLY),
    ("POST", "/api/v1/retention/decisions"): Call(REGISTRAR_ONLY, note="the open list (a case closed in 2015 has a due attachment)"),
    ("GET", "/api/v1/retention/decisions/{decision_id}"): Call(REGISTRAR_ONLY, lambda ids: {"decision_id": ids["gallring"]}),
    ("POST", "/api/v1/retention/decisions/{decision_id}/approve"): Call(
        REGISTRAR_ONLY, lambda ids: {"decision_id": ids["gallring"]}, _json({}), note="the deletion runs from the outbox after commit"),
    # ------------------------------------------------------------------ e-archive export: the registrar's alone
    ("POST", "/api/v1/archive-exports"): Call(
        REGISTRAR_ONLY, request=_json({"closed_from": "2015-01-01", "closed_to": "2015-12-31"}),
        note="every case closed in 2015 (the one closed 2015-03-02); the flow starts from the outbox after commit"),
    ("GET", "/api/v1/archive-exports"): Call(REGISTRAR_ONLY),
    ("GET", "/api/v1/archive-exports/{export_id}"): Call(REGISTRAR_ONLY, lambda ids: {"export_id": ids["archive_export"]}),
    ("GET", "/api/v1/archive-exports/{export_id}/packages/{package_id}/content"): Call(
        REGISTRAR_ONLY, lambda ids: {"export_id": ids["archive_export"], "package_id": ids["archive_package"]}),
    # ------------------------------------------------------------------ deadlines and notifications
    ("GET", "/api/v1/cases/{case_id}/deadlines"): Call(CASE_READ, CASE["dialogue"]),
    ("POST", "/api/v1/cases/{case_id}/suspend"): Call(
        expect(ok="officer approver", e403="org_member registrar", e404="org_member_other officer_other_dep admin"),
        CASE["dialogue"], _json({"reason": "Väntar på organisationens underlag"})),
    ("POST", "/api/v1/cases/{case_id}/resume"): Call(
        expect(e409="officer approver", e403="org_member registrar", e404="org_member_other officer_other_dep admin"),
        CASE["dialogue"], note="the prepared case is not suspended, so the allowed roles meet the state check"),
    ("POST", "/api/v1/cases/{case_id}/deadlines/{deadline_id}/extend"): Call(
        expect(ok="officer approver", e403="org_member registrar", e404="org_member_other officer_other_dep admin"),
        _with("dialogue", deadline_id="deadline"), _json({"working_days": 2, "reason": "Väntar på underlag"})),
    ("GET", "/api/v1/notifications"): Call(ANY_USER),
    ("GET", "/api/v1/notifications/settings"): Call(ANY_USER),
    ("PUT", "/api/v1/notifications/settings"): Call(ANY_USER, request=_json({"email": False}), note="one's own setting"),
    ("POST", "/api/v1/notifications/{notification_id}/read"): Call(
        expect(ok="org_member", e404="org_member_other officer officer_other_dep approver registrar admin"),
        lambda ids: {"notification_id": ids["notification"]}, note="only the addressee sees a notification"),
    ("GET", "/api/v1/dashboard/my-deadlines"): Call(ANY_USER),
    ("GET", "/api/v1/dashboard/overdue"): Call(
        expect(ok="officer officer_other_dep approver registrar", e403="org_member org_member_other admin")),
    **{("GET", f"/api/v1/statistics{ext}"): Call(
        expect(ok="officer officer_other_dep approver registrar admin", e403="org_member org_member_other"),
        note="aggregates only: the municipality's staff may see any department's figures") for ext in ("", ".csv", ".xlsx")},
}

# Where the code disagrees with the SPEC today: (route, role) -> (what the code answers, who was told).
# The matrix above keeps the SPEC's answer; an entry here must still reproduce, so a fix shows up as a failure
# that asks for the entry to be removed.
KNOWN_DEVIATIONS: dict[tuple[tuple[str, str], str], tuple[object, str]] = {
}


def api_routes(app) -> set[tuple[str, str]]:  # noqa: ANN001
    """Every (method, path) the application serves under /api/v1, whether or not it is in the OpenAPI document."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.150 keeps included routers unflattened
        routes = list(iter_route_contexts(app.routes))
    except ImportError:
        routes = list(app.routes)
    return {(m, r.path) for r in routes if (r.path or "").startswith("/api/v1/") for m in (r.methods or set()) - {"HEAD", "OPTIONS"}}


def test_every_route_is_classified(app) -> None:  # noqa: ANN001
    routes = api_routes(app)
    assert routes - set(MATRIX) == set(), "new routes need a row in MATRIX (who may call them?)"
    assert set(MATRIX) - routes == set(), "MATRIX names routes that no longer exist"
    spec_paths = app.openapi()["paths"]
    assert {(m, p) for m, p in routes} <= {(m.upper(), p) for p, ops in spec_paths.items() for m in ops}


@pytest.fixture(scope="module")
def matrix(app, engine, tmp_path_factory) -> Iterator[dict]:  # noqa: ANN001
    """One prepared world per backend; each call runs in a savepoint that is rolled back afterwards."""
    conn = engine.connect()
    outer = conn.begin()
    store = FilesystemStore(tmp_path_factory.mktemp("matrix-objects"))
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
                               content={"activities_done": "Träffar"}, submitted_at=utcnow(), submitted_by_id=w.member.id)
    contact = ContactPerson(organisation_id=w.org.id, name="Olle Ordförande", email="olle@forening.example.se", role="Ordförande")
    message = Message(case_id=dialogue.id, author_id=w.member.id, body="Hej!")
    setup.add_all([review, due, submitted, contact, message])
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
    from service.config import get_settings
    from service.deadlines import rules as deadline_rules
    from service.deadlines.models import DeadlineKind
    from service.notifications.models import Notification

    deadline = deadline_rules.create(setup, dialogue, DeadlineKind.DIALOGUE, get_settings())
    from service.deadlines.models import Reminder

    setup.flush()
    reminder = Reminder(deadline_id=deadline.id, recipient=w.officer.email, recipient_user_id=w.officer.id, offset_key="due",
                        scheduled_for=utcnow(), token="matrix", attempts=3, gave_up_at=utcnow(), dedupe_key=f"{deadline.id}:matrix:due")
    setup.add(reminder)
    notification = Notification(user_id=w.member.id, case_id=dialogue.id, kind="decision_made", title="Beslut")
    setup.add(notification)
    setup.flush()
    doc = documents.store_document(setup, store, case=dialogue, kind=DocumentKind.ATTACHMENT, filename="bilaga.pdf",
                                   content=PDF, content_type="application/pdf", user=w.member)
    minutes = organisations.join_overenskommelse(setup, store, w.member, w.org, joined_on=date(2026, 1, 10),
                                                 filename="protokoll.pdf", content=PDF, content_type="application/pdf")
    from service.diarium.models import DiaryEntry

    diary_entry = setup.scalars(select(DiaryEntry).where(DiaryEntry.document_id == doc.id)).one()  # registered with the upload
    from service.cases.models import StageChange
    from service.retention import service as retention

    closed = case(setup, w.org, w.dep, stage=Stage.CLOSED, officer_id=w.officer.id)
    documents.store_document(setup, store, case=closed, kind=DocumentKind.ATTACHMENT, filename="gammal-bilaga.pdf", content=PDF,
                             content_type="application/pdf", user=w.officer)
    setup.add(StageChange(case_id=closed.id, from_stage=Stage.FOLLOW_UP, to_stage=Stage.CLOSED, at=datetime(2015, 3, 2, tzinfo=UTC)))
    setup.flush()
    gallring, _ = retention.propose(setup)
    from archive_world import stored_export

    archive_ids = stored_export(setup, store, w.registrar, closed)
    setup.commit()  # releases the setup savepoint; the outer transaction keeps it all until the module ends
    ids = {**{k: c.id for k, c in cases.items()}, "signature": signature.id, "signed": signed.id, "signing_order": signing_order.id, "org": w.org.id, "dep": w.dep.id, "officer2": w.officer2.id, "review": review.id,
           "report_due": due.id, "report_submitted": submitted.id, "contact": contact.id, "message": message.id, "document": doc.id, "diary_entry": diary_entry.id, "gallring": gallring.id,
           "board_minutes": minutes.id, "deadline": deadline.id, "reminder": reminder.id, "notification": notification.id, "terms": terms.model_dump(mode="json"), "reopened_version": cases["reopened"].version}
    ids.update(archive_ids)

    state: dict = {}

    sessions = lambda: Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)  # noqa: E731
    use_sessions(app, committing_sessions(sessions), SessionReader(sessions))
    app.dependency_overrides[documents.get_store] = lambda: store
    with TestClient(app, raise_server_exceptions=False) as client:
        state.update(client=client, conn=conn, ids=ids,
                     headers={**{name: auth(u) for name, u in people.items()}, "anonymous": {}},
                     emails={**{name: u.email for name, u in people.items()}, "anonymous": w.member.email})
        yield state
    drop_sessions(app)
    app.dependency_overrides.pop(documents.get_store, None)
    setup.close()
    outer.rollback()
    conn.close()


def _outcome(status: int) -> object:
    return OK if 200 <= status < 300 else status


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1].removeprefix('/api/v1')}")
def test_authorisation_matrix(matrix, route) -> None:  # noqa: ANN001
    method, template = route
    spec = MATRIX[route]
    got, wrong = {}, []
    for role in ROLES:
        ids = {**matrix["ids"], "email": matrix["emails"][role]}
        request = spec.request(ids)
        headers = {**matrix["headers"][role], **request.pop("headers", {})}
        savepoint = matrix["conn"].begin_nested()
        try:
            response = matrix["client"].request(method, template.format(**spec.path(ids)), headers=headers, **request)
        finally:
            savepoint.rollback()
        got[role] = _outcome(response.status_code)
        wanted, note = KNOWN_DEVIATIONS.get((route, role), (spec.outcomes[role], ""))
        if got[role] != wanted:
            wrong.append(f"{role}: expected {wanted}, got {response.status_code} {response.text[:300]}")
        if got[role] != OK:
            assert response.headers["content-type"].startswith("application/problem+json"), (role, response.text[:200])
    assert not wrong, f"{method} {template}\n" + "\n".join(wrong)
