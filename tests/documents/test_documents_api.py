"""Documents through the API on both stores: generate, version, checksum, upload limits, 503."""

from __future__ import annotations

import hashlib
import io
import time
from datetime import date

from docx import Document as Docx
from factories import World, auth, case
from gates_setup import terms_payload
from helpers import problem
from sqlalchemy import func, select

from service.agreements.models import Agreement
from service.agreements.schemas import AgreementTerms
from service.cases.stages import Stage
from service.documents import service as documents
from service.documents.models import Document
from storage.s3 import S3Store

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _agreement_case(db, w, **terms_changes):  # noqa: ANN001, ANN202
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    payload = {**terms_payload(w.org.name, w.org.orgnr), **terms_changes}
    t = AgreementTerms.model_validate(payload)
    db.add(Agreement(case_id=c.id, terms=t.model_dump(mode="json"), funding_amount_sek=t.funding_amount_sek,
                     period_start=t.period_start, period_end=t.period_end))
    db.flush()
    return c


def _text(content: bytes) -> str:
    d = Docx(io.BytesIO(content))
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def test_generate_agreement_versions_and_checksums(client, db, store) -> None:
    w = World(db)
    nasty = "Vi & ni <tillsammans> {{ 7*7 }} {% for x in y %}"
    c = _agreement_case(db, w, background=nasty, instalments=[
        {"due_on": "2027-01-15", "amount_sek": 100_000}, {"due_on": "2027-04-15", "amount_sek": 100_000},
        {"due_on": "2027-07-15", "amount_sek": 100_000}, {"due_on": "2027-10-15", "amount_sek": 100_000}])
    r = client.post(f"/api/v1/cases/{c.id}/documents/agreement/generate", headers=auth(w.officer))
    assert r.status_code == 201, r.text
    meta = r.json()
    assert meta["version"] == 1 and meta["template_name"] == "iop_avtal.docx" and len(meta["template_sha256"]) == 64
    dl = client.get(f"/api/v1/cases/{c.id}/documents/{meta['id']}/content", headers=auth(w.member))
    assert dl.status_code == 200
    assert hashlib.sha256(dl.content).hexdigest() == meta["sha256"] == dl.headers["x-content-sha256"]
    assert len(dl.content) == meta["size"]
    text = _text(dl.content)
    assert c.diarienummer in text and w.org.name in text and w.org.orgnr in text
    # The background is its own paragraph, verbatim: nothing in it was evaluated (7*7 would have become 49).
    # (Checking the whole text for "49" broke once the factories' counters reached 3490.)
    assert nasty in text.splitlines() and not any("49" in line for line in text.splitlines() if "Vi & ni" in line)
    for d in ("2027-01-15", "2027-04-15", "2027-07-15", "2027-10-15"):
        assert d in text
    assert text.count("100 000 kr") >= 4
    r2 = client.post(f"/api/v1/cases/{c.id}/documents/agreement/generate", headers=auth(w.officer))
    assert r2.json()["version"] == 2 and r2.json()["id"] != meta["id"]
    listed = client.get(f"/api/v1/cases/{c.id}/documents", headers=auth(w.member)).json()
    assert [(d["kind"], d["version"]) for d in listed] == [("agreement", 1), ("agreement", 2)]
    # The first version is still there, unchanged.
    again = client.get(f"/api/v1/cases/{c.id}/documents/{meta['id']}/content", headers=auth(w.member))
    assert hashlib.sha256(again.content).hexdigest() == meta["sha256"]
    # Only the department's officers generate.
    problem(client.post(f"/api/v1/cases/{c.id}/documents/agreement/generate", headers=auth(w.member)), 403)
    problem(client.get(f"/api/v1/cases/{c.id}/documents/{meta['id']}/content", headers=auth(w.other_member)), 404)


def test_generate_decision_after_review(client, db, store) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    problem(client.post(f"/api/v1/cases/{c.id}/documents/decision/generate", headers=auth(w.officer)), 409)
    rid = client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer)).json()["id"]
    problem(client.post(f"/api/v1/cases/{c.id}/documents/decision/generate?review_id={rid}", headers=auth(w.officer)), 409)  # pending
    client.post(f"/api/v1/cases/{c.id}/reviews/{rid}/decision", json={"decision": "approve", "motivation": "Behovet är väl belagt."}, headers=auth(w.approver))
    r = client.post(f"/api/v1/cases/{c.id}/documents/decision/generate", headers=auth(w.officer))
    assert r.status_code == 201, r.text
    assert r.json()["review_id"] == rid
    text = _text(client.get(f"/api/v1/cases/{c.id}/documents/{r.json()['id']}/content", headers=auth(w.member)).content)
    # Into dialogue is a preparatory step: the decision says it cannot be appealed instead of printing the appeal page.
    assert "Behovet är väl belagt." in text and c.diarienummer in text and "tre veckor" not in text and "kan inte överklagas" in text
    problem(client.post(f"/api/v1/cases/{c.id}/documents/agreement/generate?review_id={rid}", headers=auth(w.officer)), 422)
    problem(client.post(f"/api/v1/cases/{c.id}/documents/decision/generate?review_id=999999", headers=auth(w.officer)), 404)


def test_generated_agreement_prints_the_case_organisation_two_signatories_and_own_clauses(client, db, store) -> None:
    """Two firmatecknare printed; the local överenskommelse text printed; the default §11–12 clauses not twice."""
    w = World(db)
    payload = terms_payload(w.org.name, w.org.orgnr)
    payload["organisation_party"] |= {"second_signatory": {"name": "Kim Kassör", "role": "Kassör"}}
    c = _agreement_case(db, w, organisation_party=payload["organisation_party"],
                        principles="Parterna följer Exempelstads lokala överenskommelse med civilsamhället (2024).")
    r = client.post(f"/api/v1/cases/{c.id}/documents/agreement/generate", headers=auth(w.officer))
    assert r.status_code == 201, r.text
    text = _text(client.get(f"/api/v1/cases/{c.id}/documents/{r.json()['id']}/content", headers=auth(w.officer)).content)
    assert "Olle Ordförande, Ordförande; Kim Kassör, Kassör" in text
    assert text.count("Namnteckning") == 3  # one line per firmatecknare: one public, two for the organisation
    assert "Exempelstads lokala överenskommelse med civilsamhället (2024)" in text
    assert "har anslutit sig till den lokala överenskommelsen" not in text  # the organisation has not joined
    w.org.joined_overenskommelse_on = date(2025, 3, 1)
    db.flush()
    r = client.post(f"/api/v1/cases/{c.id}/documents/agreement/generate", headers=auth(w.officer))
    text = _text(client.get(f"/api/v1/cases/{c.id}/documents/{r.json()['id']}/content", headers=auth(w.officer)).content)
    assert f"{w.org.name} har anslutit sig till den lokala överenskommelsen mellan {w.dep.municipality} och den idéburna " \
           "sektorn sedan 2025-03-01." in text
    defaults = AgreementTerms.model_fields
    for clause in ("changes_clause", "termination_clause", "disputes_clause"):
        assert defaults[clause].default not in text
    lines = text.splitlines()
    assert lines[lines.index("Adress") + 2] == w.org.city  # the case organisation's address (the public party has none)


def test_upload_type_size_and_internal(client, db, store, app) -> None:
    from service.config import Settings
    from service.deps import app_settings

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    up = lambda user, data, name="fil.pdf", **form: client.post(  # noqa: E731
        f"/api/v1/cases/{c.id}/attachments", files={"file": (name, data, "application/pdf")}, data=form, headers=auth(user))
    r = up(w.member, PDF, "Verksamhetsberättelse 2025.pdf")
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "application/pdf" and r.json()["sha256"] == hashlib.sha256(PDF).hexdigest()
    body = problem(up(w.member, b"MZ\x90\x00 this is an exe pretending", "virus.pdf"), 415)
    assert "PDF" in body["detail"]
    problem(up(w.member, b"just text", "notes.pdf"), 415)
    internal = up(w.officer, PDF, "intern-bedömning.pdf", internal="true")
    assert internal.status_code == 201 and internal.json()["internal"] is True
    member_view = {d["id"] for d in client.get(f"/api/v1/cases/{c.id}/documents", headers=auth(w.member)).json()}
    assert internal.json()["id"] not in member_view and r.json()["id"] in member_view
    problem(client.get(f"/api/v1/cases/{c.id}/documents/{internal.json()['id']}/content", headers=auth(w.member)), 404)
    app.dependency_overrides[app_settings] = lambda: Settings(upload_limit_bytes=1024)
    try:
        before = db.scalar(select(func.count()).select_from(Document))
        problem(up(w.member, PDF + b"0" * 2048, "stor.pdf"), 413)
        assert db.scalar(select(func.count()).select_from(Document)) == before
    finally:
        app.dependency_overrides.pop(app_settings, None)


def test_storage_down_is_503_and_writes_no_row(client, db, app, seaweed_factory, s3_bucket) -> None:
    server = seaweed_factory()
    s = S3Store(server.endpoint, server.access_key, server.secret_key, s3_bucket)
    app.dependency_overrides[documents.get_store] = lambda: s
    try:
        w = World(db)
        c = _agreement_case(db, w)
        server.kill()
        before = db.scalar(select(func.count()).select_from(Document))
        t0 = time.monotonic()
        r = client.post(f"/api/v1/cases/{c.id}/documents/agreement/generate", headers=auth(w.officer))
        elapsed = time.monotonic() - t0
        body = problem(r, 503)
        assert r.headers["retry-after"] and "lagring" in body["detail"]
        assert elapsed < 6, elapsed
        assert db.scalar(select(func.count()).select_from(Document)) == before
    finally:
        app.dependency_overrides.pop(documents.get_store, None)


def test_minutes_carry_protokollforare_and_justerare(client, db, store) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    body = {"held_on": "2026-10-01", "place": "Stadshuset", "participants": [{"name": "Anna Andersson"}],
            "recorder": "Sara Lindqvist", "adjuster": "Ali Hassan"}
    r = client.post(f"/api/v1/cases/{c.id}/meetings", json=body, headers=auth(w.officer))
    assert r.status_code == 201, r.text
    assert (r.json()["recorder"], r.json()["adjuster"]) == ("Sara Lindqvist", "Ali Hassan")
    assert client.get(f"/api/v1/cases/{c.id}/meetings", headers=auth(w.member)).json()[0]["adjuster"] == "Ali Hassan"
    doc = client.post(f"/api/v1/cases/{c.id}/documents/dialogue_minutes/generate", headers=auth(w.officer)).json()
    text = _text(client.get(f"/api/v1/cases/{c.id}/documents/{doc['id']}/content", headers=auth(w.officer)).content)
    assert "Protokollet har justerats" in text and "Sara Lindqvist" in text and "Ali Hassan" in text
    # A later meeting without a justerare: its minutes do not claim to be justerade.
    later = {**body, "held_on": "2026-10-15", "adjuster": None}
    assert client.post(f"/api/v1/cases/{c.id}/meetings", json=later, headers=auth(w.officer)).status_code == 201
    doc = client.post(f"/api/v1/cases/{c.id}/documents/dialogue_minutes/generate", headers=auth(w.officer)).json()
    text = _text(client.get(f"/api/v1/cases/{c.id}/documents/{doc['id']}/content", headers=auth(w.officer)).content)
    assert "Protokollet har justerats" not in text and "Protokollet har inte justerats." in text
    assert "Protokollförare: Sara Lindqvist" in text
    bad = {**body, "adjuster": "x" * 201}
    errors = problem(client.post(f"/api/v1/cases/{c.id}/meetings", json=bad, headers=auth(w.officer)), 422)["errors"]
    assert {e["field"] for e in errors} == {"adjuster"}


def test_admin_sets_the_delegation_point_printed_on_decisions(client, db, store) -> None:
    w = World(db)
    ref = "Socialnämndens delegationsordning, punkt 3.4"
    r = client.patch(f"/api/v1/users/{w.approver.id}", json={"delegation_reference": ref}, headers=auth(w.admin))
    assert r.status_code == 200, r.text
    assert r.json()["delegation_reference"] == ref
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    rid = client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer)).json()["id"]
    client.post(f"/api/v1/cases/{c.id}/reviews/{rid}/decision", json={"decision": "approve", "motivation": "Bra."}, headers=auth(w.approver))
    doc = client.post(f"/api/v1/cases/{c.id}/documents/decision/generate", headers=auth(w.officer)).json()
    text = _text(client.get(f"/api/v1/cases/{c.id}/documents/{doc['id']}/content", headers=auth(w.officer)).content)
    assert f"{ref}, beloppsgräns 1 000 000 kr" in text and f"med stöd av {ref}" in text
    problem(client.patch(f"/api/v1/users/{w.approver.id}", json={"delegation_reference": ref}, headers=auth(w.approver)), 403)


def test_versions_have_no_gaps_for_the_organisation_and_uploads_keep_their_names(client, db, store) -> None:
    """Issue 19/20: a hidden internal attachment left a gap (1, 3) that told the organisation it exists; the uploader's
    own file name was lost to the storage-safe one."""
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    url = f"/api/v1/cases/{c.id}/attachments"
    first = client.post(url, files={"file": ("Budget 2027 (slutlig)?.PDF", PDF, "application/pdf")}, headers=auth(w.member))
    assert first.status_code == 201, first.text
    assert first.json()["original_filename"] == "Budget 2027 (slutlig)?.PDF" and first.json()["filename"] != "Budget 2027 (slutlig)?.PDF"
    note = client.post(url, data={"internal": "true"}, files={"file": ("intern.pdf", PDF, "application/pdf")}, headers=auth(w.officer))
    assert note.status_code == 201 and note.json()["internal"] is True, note.text
    second = client.post(url, files={"file": ("bilaga.pdf", PDF, "application/pdf")}, headers=auth(w.member))
    assert second.status_code == 201, second.text
    seen = [d["version"] for d in client.get(f"/api/v1/cases/{c.id}/documents", headers=auth(w.member)).json() if d["kind"] == "attachment"]
    assert sorted(seen) == [1, 2]
    assert note.json()["version"] == 1  # internal documents are numbered on their own
