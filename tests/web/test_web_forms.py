"""Every stage form of the web interface against the real services, on SQLite and PostgreSQL (no browser)."""

from __future__ import annotations

from datetime import datetime

from zoneinfo import ZoneInfo

import csv
import io
import re
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import pytest
from factories import PASSWORD, World, case
from fastapi.testclient import TestClient
from gates_setup import terms_payload
from helpers import drop_sessions, use_sessions
from sqlalchemy.orm import Session

from service.auth.models import User
from service.cases.models import Case
from service.cases.stages import Stage
from service.reads import SessionReader
from service.dialogue.checklist import ITEMS
from service.documents import service as documents
from service.documents.models import Document, DocumentKind
from storage.filesystem import FilesystemStore

# Signatures are dated from the day the agreement document was drawn up (here: today, in the municipality's time zone).
TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date().isoformat()

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Browserless:
    """A TestClient on https (the session cookies are Secure) that logs in and posts forms with their CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def token(self) -> str:
        html = self.client.get("/logga-in" if "__Host-iop_session" not in self.client.cookies else "/om-iop").text
        m = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert m, html[:500]
        return m.group(1)

    def login(self, user: User) -> Browserless:
        self.client.cookies.clear()
        r = self.client.post("/logga-in", data={"email": user.email, "password": PASSWORD, "csrf_token": self.token()}, follow_redirects=False)
        assert r.status_code == 303, r.text
        return self

    def post(self, path: str, data: dict[str, Any] | None = None, files: Any = None, expect: int = 303) -> Any:
        r = self.client.post(path, data={**(data or {}), "csrf_token": self.token()}, files=files, follow_redirects=False)
        assert r.status_code == expect, f"{path}: {r.status_code}\n{_errors(r.text)}"
        return r

    def get(self, path: str, expect: int = 200) -> Any:
        r = self.client.get(path, follow_redirects=False)
        assert r.status_code == expect, f"{path}: {r.status_code}"
        return r


def _errors(html: str) -> str:
    return "\n".join(re.findall(r'class="error-message"[^>]*>(?:<span[^>]*>[^<]*</span>)?([^<]+)<', html)
                     + re.findall(r"<li>(?:<a [^>]+>)?([^<]+)", html.split("error-summary__list", 1)[-1][:3000] if "error-summary" in html else ""))


@pytest.fixture
def web(app, db: Session, tmp_path) -> Iterator[Browserless]:  # noqa: ANN001
    """Pages served by the app with request sessions inside the test's rolled-back transaction."""

    def _session() -> Iterator[Session]:
        db.commit()
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    store = FilesystemStore(tmp_path / "objects")
    use_sessions(app, _session, SessionReader(lambda: nullcontext(db)))
    app.dependency_overrides[documents.get_store] = lambda: store
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=True) as c:
        yield Browserless(c)
    drop_sessions(app)
    app.dependency_overrides.pop(documents.get_store, None)


def _terms_form(org_name: str, orgnr: str) -> dict[str, str]:
    """A complete agreement as the agreement page's form fields."""
    t = terms_payload(org_name, orgnr)
    form: dict[str, str] = {}
    for party in ("public_party", "organisation_party"):
        for k, v in t[party].items():
            form[f"{party}-{k}"] = v
    for k in ("background", "purpose", "target_group", "activities", "extension_terms", "governance", "period_start", "period_end"):
        form[k] = str(t[k])
    form |= {f"goals-{g}-title": title for g, title in enumerate(t["goals"])}
    form["funding_amount_sek"] = f"{t['funding_amount_sek']:,}".replace(",", " ")
    form["notice_period_months"] = str(t["notice_period_months"])
    for group in ("contributions", "instalments", "followup_schedule"):
        for i, row in enumerate(t[group]):
            for k, v in row.items():
                form[f"{group}-{i}-{k}"] = ("ja" if v else "") if k == "is_final" else str(v)
    form["contributions-5-description"] = ""  # an untouched spare row is ignored
    for k in ("principles", "changes_clause", "termination_clause", "disputes_clause"):
        form[k] = "Enligt den lokala överenskommelsen."
    return form


def test_dialogue_agreement_and_follow_up_forms(web: Browserless, db: Session) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id, title="=HYPERLINK(\"http://x\")")
    officer = Browserless(web.client).login(w.officer)
    base = f"/arenden/{c.id}"

    # Dialogue meeting: refused without participants (message at the field), then recorded.
    r = officer.post(f"{base}/dialog/mote", {"held_on": "2026-10-01", "place": "Stadshuset", "participants": ""}, expect=422)
    assert 'id="meeting-participants-error"' in r.text and "Minst en rad krävs." in r.text
    assert 'value="Stadshuset"' in r.text  # input kept
    officer.post(f"{base}/dialog/mote", {"held_on": "2026-10-01", "place": "Stadshuset",
                                         "participants": "Anna Ek, Exempelstads kommun, handläggare\nOlle Ordf; Föreningen; ordförande"})
    page = officer.get(f"{base}/dialog").text
    assert "Olle Ordf" in page and "Föreningen" in page

    # Checklist: all yes.
    officer.post(f"{base}/dialog/lamplighet", {f"answer-{i.key}": "yes" for i in ITEMS})
    assert "Alla villkor för nästa skede är uppfyllda." in officer.get(base).text

    # Review and four-eyes decision into the agreement stage.
    officer.post(f"{base}/begar-beslut", {"approver_id": "", "comment": "Dialogen är klar", "version": str(c.version)})
    approver = Browserless(web.client).login(w.approver)
    review_id = re.search(r'name="review_id" value="(\d+)"', approver.get(f"{base}/beslut").text).group(1)
    approver.post(f"{base}/beslut", {"review_id": review_id, "decision": "approve", "motivation": ""})
    db.expire_all()
    assert db.get(Case, c.id).stage == Stage.AGREEMENT

    # Agreement terms: a wrong instalment sum is shown at the instalments; valid terms are saved.
    officer = Browserless(web.client).login(w.officer)
    assert "Kommunens ekonomiska bidrag" in officer.get(f"{base}/avtal").text
    form = _terms_form(w.org.name, w.org.orgnr)
    r = officer.post(f"{base}/avtal", {**form, "instalments-1-amount_sek": "1"}, expect=422)
    assert 'id="avtal-instalments"' in r.text and "Utbetalningarna summerar till" in r.text
    assert "Behovsanalys gjord tillsammans under dialogen." in r.text  # input kept
    officer.post(f"{base}/avtal", form)

    # Agreement document, the signed copy, both signatures (e-signature, the signed copy as evidence) and an uploaded
    # file; a disallowed type is refused, and an e-signature without its evidence is refused at the field.
    officer.post(f"{base}/dokument/skapa", {"kind": "agreement"})
    signature = {"name": "Namn Namnsson", "role": "Firmatecknare", "signed_on": TODAY, "method": "e_signature"}
    r = officer.post(f"{base}/underskrift", {**signature, "party": "public"}, expect=422)
    assert "En e-underskrift kräver det undertecknade avtalet" in r.text
    officer.post(f"{base}/undertecknat-avtal", {"kind": "signed_agreement"}, files={"file": ("undertecknat.pdf", PDF, "application/pdf")})
    copy_id = re.search(r'<option value="(\d+)"[^>]*>undertecknat.pdf', officer.get(base).text).group(1)
    for party in ("public", "organisation"):
        officer.post(f"{base}/underskrift", {**signature, "party": party, "document_id": copy_id})
    officer.post(f"{base}/bilagor", {"kind": "attachment"}, files={"file": ("budget.pdf", PDF, "application/pdf")})
    r = officer.post(f"{base}/bilagor", {}, files={"file": ("virus.exe", b"MZ\x90\x00" * 10, "application/pdf")}, expect=415)
    assert "Tillåtna filtyper" in r.text
    kinds = {d.kind for d in db.query(Document).filter_by(case_id=c.id)}
    assert kinds == {DocumentKind.AGREEMENT, DocumentKind.SIGNED_AGREEMENT, DocumentKind.ATTACHMENT}

    officer.post(f"{base}/begar-beslut", {"approver_id": str(w.approver2.id), "version": ""})
    approver = Browserless(web.client).login(w.approver2)
    review_id = re.search(r'name="review_id" value="(\d+)"', approver.get(f"{base}/beslut").text).group(1)
    approver.post(f"{base}/beslut", {"review_id": review_id, "decision": "approve", "motivation": "Avtalet är undertecknat."})
    db.expire_all()
    assert db.get(Case, c.id).stage == Stage.FOLLOW_UP

    # Follow-up: the officer schedules, the organisation reports, the officer approves.
    officer = Browserless(web.client).login(w.officer)
    officer.post(f"{base}/uppfoljning/planera", {"period_start": "2027-01-01", "period_end": "2027-12-31", "due_on": "2028-01-31"})
    member = Browserless(web.client).login(w.member)
    page = member.get(base).text
    report_id = re.search(r"/uppfoljning/(\d+)/lamna", page).group(1)
    r = member.post(f"{base}/uppfoljning/{report_id}/lamna", {"activities_done": "", "participants_reached": "tolv",
                                                               "money_used_sek": "100 000"}, expect=422)
    assert f'id="report-{report_id}-participants_reached-error"' in r.text and "Ange ett heltal" in r.text
    member.post(f"{base}/uppfoljning/{report_id}/lamna", {"activities_done": "Träffar varje vecka.", "participants_reached": "212",
                                                           "money_used_sek": "195 000", "deviations": ""})
    officer = Browserless(web.client).login(w.officer)
    officer.post(f"{base}/uppfoljning/{report_id}/bedom", {"assessment": "needs_completion", "comment": ""}, expect=422)
    officer.post(f"{base}/uppfoljning/{report_id}/bedom", {"assessment": "approved", "comment": "Bra rapport."})
    assert "Godkänd" in officer.get(base).text

    # CSV export of the list: Swedish Excel dialect, formulas neutralised, filter applied.
    r = officer.get("/export/arenden.csv?skede=follow_up")
    assert r.headers["content-type"].startswith("text/csv") and r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Diarienummer", "Titel", "Organisation"]
    assert [row[1] for row in rows[1:]] == ["'=HYPERLINK(\"http://x\")"]
    assert rows[1][5] == "Uppföljning"
    overview = officer.get("/oversikt").text
    assert "Uppföljning" in overview and w.dep.name in overview


def test_stale_edit_keeps_the_text_and_explains(web: Browserless, db: Session) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DRAFT)
    member = Browserless(web.client).login(w.member)
    form = {"title": "Ny titel", "need": "Nytt behov", "version": str(c.version - 1 if c.version > 1 else c.version + 5)}
    stored_title = c.title
    r = member.post(f"/arenden/{c.id}/redigera", form, expect=409)
    assert "Någon annan har sparat en ändring" in r.text and "Nytt behov" in r.text  # yours kept
    assert "Den andras version" in r.text and stored_title in r.text  # theirs shown
    assert re.search(r'name="version" value="(\d+)"', r.text).group(1) == form["version"]  # still where you started
    seen = re.search(r'name="seen_version" value="(\d+)"', r.text).group(1)
    member.post(f"/arenden/{c.id}/redigera", {**form, "seen_version": seen}, expect=409)  # "spara igen" overwrites nothing
    db.expire_all()
    assert db.get(Case, c.id).title == stored_title
    member.post(f"/arenden/{c.id}/redigera", {**form, "seen_version": seen, "overwrite": "ja"})
    db.expire_all()
    assert db.get(Case, c.id).title == "Ny titel"


def test_two_tabs_on_the_agreement_terms_lose_nothing(web, db) -> None:
    """Issue 22: the second save from an older version gets the conflict view: its values kept, the other's shown,
    and a plain resubmit does not overwrite; only the explicit choice does."""
    from service.agreements.models import Agreement

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    base = f"/arenden/{c.id}/avtal"
    tab_a = Browserless(web.client).login(w.officer)
    opened = re.search(r'name="version" value="(\d+)"', tab_a.get(base).text).group(1)
    assert opened == "0"  # nothing saved yet
    form = {**_terms_form(w.org.name, w.org.orgnr), "version": opened}
    tab_a.post(base, {**form, "governance": "Styrgrupp varje månad (flik A)"})
    # Tab B opened the same empty form before A saved, and now saves its own text.
    r = tab_a.post(base, {**form, "governance": "Styrgrupp varje kvartal (flik B)"}, expect=409)
    assert "Den andras version" in r.text and "Styrgrupp varje månad (flik A)" in r.text  # theirs shown
    assert "Styrgrupp varje kvartal (flik B)" in r.text  # yours kept in the form
    db.expire_all()
    assert db.query(Agreement).filter_by(case_id=c.id).one().terms["governance"] == "Styrgrupp varje månad (flik A)"
    seen = re.search(r'name="seen_version" value="(\d+)"', r.text).group(1)
    kept = re.search(r'name="version" value="(\d+)"', r.text).group(1)
    assert kept == "0"  # the form still says where B started
    tab_a.post(base, {**form, "governance": "Styrgrupp varje kvartal (flik B)", "seen_version": seen}, expect=409)  # plain resubmit
    db.expire_all()
    assert db.query(Agreement).filter_by(case_id=c.id).one().terms["governance"] == "Styrgrupp varje månad (flik A)"
    tab_a.post(base, {**form, "governance": "Styrgrupp varje kvartal (flik B)", "seen_version": seen, "overwrite": "ja"})
    db.expire_all()
    assert db.query(Agreement).filter_by(case_id=c.id).one().terms["governance"] == "Styrgrupp varje kvartal (flik B)"


def test_the_checklist_keeps_both_tabs_and_every_comment(web, db) -> None:
    """Issue 22: a stale checklist save shows the conflict; a comment on an unanswered question is refused, not dropped."""
    from service.dialogue.models import SuitabilityAssessment

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    base = f"/arenden/{c.id}/dialog/lamplighet"
    officer = Browserless(web.client).login(w.officer)
    first, second = ITEMS[0].key, ITEMS[1].key
    r = officer.post(base, {"version": "0", f"comment-{first}": "Oklart om målgruppen"}, expect=422)
    assert "Svara på frågan för att kommentaren ska sparas" in r.text and "Oklart om målgruppen" in r.text
    assert db.query(SuitabilityAssessment).filter_by(case_id=c.id).count() == 0
    officer.post(base, {"version": "0", f"answer-{first}": "yes", f"comment-{first}": "Tydligt behov"})
    r = officer.post(base, {"version": "0", f"answer-{second}": "no"}, expect=409)  # opened before the first save
    assert "Den andras version" in r.text and "Tydligt behov" in r.text
    db.expire_all()
    assert set(db.query(SuitabilityAssessment).filter_by(case_id=c.id).one().items) == {first}


def test_web_text_fields_follow_the_apis_rules(web, db) -> None:
    """The review comment, the completion request and the withdrawal reason are read through the API's schemas: a NUL
    character (PostgreSQL cannot store it: a 500) or an over-long text is refused at the field, and nothing is saved."""
    from service.reviews.models import Review

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    officer = Browserless(web.client).login(w.officer)
    r = officer.post(f"/arenden/{c.id}/begar-beslut", {"approver_id": "", "comment": "Klart\x00", "version": str(c.version)}, expect=422)
    assert "kontrolltecken" in r.text
    officer.post(f"/arenden/{c.id}/begar-komplettering", {"message": "x" * 5001, "version": str(c.version)}, expect=422)
    member = Browserless(web.client).login(w.member)
    member.post(f"/arenden/{c.id}/aterkalla", {"confirm": "ja", "reason": "Vi\x00slutar"}, expect=422)
    db.expire_all()
    assert db.query(Review).filter_by(case_id=c.id).count() == 0
    assert db.get(Case, c.id).stage == Stage.IDENTIFY_NEED and not db.get(Case, c.id).open_for_changes
