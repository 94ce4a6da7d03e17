"""A municipality's own templates through the API: checked before acceptance, versioned, previewed, activated, reset.

Real databases (both backends), real object stores (files and a SeaweedFS bucket), the real generator.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document as Docx
from factories import World, auth, case
from gates_setup import terms_payload
from helpers import problem
from sqlalchemy import select

from service.agreements.models import Agreement
from service.agreements.schemas import AgreementTerms
from service.audit.models import AuditEvent
from service.cases.stages import Stage
from service.documents import service as documents
from storage.filesystem import FilesystemStore
from storage.s3 import S3Store

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SHIPPED = Path(__file__).resolve().parents[2] / "templates" / "iop_avtal.docx"


@pytest.fixture(params=["filesystem", "s3"])
def store(request, app, tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    """One store for the routes and for the generator's template lookup (in production both are get_store())."""
    if request.param == "filesystem":
        s = FilesystemStore(tmp_path / "objects")
    else:
        server = request.getfixturevalue("seaweed_server")
        s = S3Store(server.endpoint, server.access_key, server.secret_key, request.getfixturevalue("s3_bucket"))
    original = documents.get_store  # the routes' dependency
    app.dependency_overrides[original] = lambda: s
    monkeypatch.setattr(documents, "get_store", lambda: s)
    yield s
    app.dependency_overrides.pop(original, None)


def docx(*paragraphs: str) -> bytes:
    """A Word file whose paragraphs are the given (template) text."""
    d = Docx()
    for p in paragraphs:
        d.add_paragraph(p)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def text(content: bytes) -> str:
    d = Docx(io.BytesIO(content))
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def upload(client, admin, content: bytes, kind: str = "agreement", name: str = "egen-mall.docx"):  # noqa: ANN001, ANN201
    return client.post(f"/api/v1/document-templates/{kind}", headers=auth(admin), files={"file": (name, content, DOCX)})


def agreement_case(db, w):  # noqa: ANN001, ANN201
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    t = AgreementTerms.model_validate(terms_payload(w.org.name, w.org.orgnr))
    db.add(Agreement(case_id=c.id, terms=t.model_dump(mode="json"), funding_amount_sek=t.funding_amount_sek,
                     period_start=t.period_start, period_end=t.period_end))
    db.flush()
    return c


def generate(client, w, c) -> tuple[dict, str]:  # noqa: ANN001
    r = client.post(f"/api/v1/cases/{c.id}/documents/agreement/generate", headers=auth(w.officer))
    assert r.status_code == 201, r.text
    body = client.get(f"/api/v1/cases/{c.id}/documents/{r.json()['id']}/content", headers=auth(w.officer)).content
    return r.json(), text(body)


CUSTOM = ("EGEN MALL {{ marker }}", "Diarienummer {{ case.diarienummer }}", "Part: {{ organisation.name }}",
          "Belopp: {{ funding_amount|sek }}", "{% for g in goals %}Mål: {{ g }}\n{% endfor %}")


def custom(marker: str) -> bytes:
    return docx(*(p.replace("{{ marker }}", marker) for p in CUSTOM))


def test_an_unknown_variable_is_refused_and_named(client, db, store) -> None:  # noqa: ANN001
    w = World(db)
    r = upload(client, w.admin, docx("{{ case.diarienummer }}", "Hej {{ mottagare }} och {{ organisation.name }} {{ belopp|sek }}"))
    body = problem(r, 422)
    assert body["unknown_variables"] == ["belopp", "mottagare"]
    assert "mottagare" in body["detail"] and "belopp" in body["detail"]
    assert {e["message"] for e in body["errors"]} == {"okänd variabel / unknown variable: belopp",
                                                      "okänd variabel / unknown variable: mottagare"}
    # Nothing half-written: no version row, no stored object.
    assert client.get("/api/v1/document-templates/agreement", headers=auth(w.admin)).json()["versions"] == []
    assert store.list_versions("doctemplates/") == []


@pytest.mark.parametrize("body, reason", [
    ("{{ case.hemligt_falt }}", "hemligt_falt"),  # an unknown attribute: only the test render can see it
    ("{{ case.__class__.__mro__ }}", "unsafe"),  # the sandbox refuses it
    ("{{ funding_amount|okant_filter }}", "okant_filter"),
    ("{% for x in goals %}", "for"),  # not closed
])
def test_a_template_that_cannot_render_is_refused(client, db, store, body, reason) -> None:  # noqa: ANN001
    w = World(db)
    problem_body = problem(upload(client, w.admin, docx("{{ case.diarienummer }}", body)), 422)
    assert reason in problem_body["detail"], problem_body
    assert store.list_versions("doctemplates/") == []


def test_only_a_docx_is_accepted(client, db, store) -> None:  # noqa: ANN001
    w = World(db)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    problem(upload(client, w.admin, pdf, name="mall.pdf"), 415)
    problem(client.post("/api/v1/document-templates/minutes", headers=auth(w.admin),
                        files={"file": ("m.docx", custom("x"), DOCX)}), 422)  # no such kind


def test_custom_template_is_used_for_the_next_generation_and_old_versions_stay(client, db, store) -> None:  # noqa: ANN001
    w = World(db)
    c = agreement_case(db, w)
    before, _ = generate(client, w, c)
    assert before["template_name"] == "iop_avtal.docx"

    r1 = upload(client, w.admin, custom("ETT"))
    assert r1.status_code == 201, r1.text
    v1 = r1.json()
    assert v1["version"] == 1 and v1["variables"] == ["case", "funding_amount", "goals", "organisation"]
    kind = client.get("/api/v1/document-templates/agreement", headers=auth(w.admin)).json()
    assert kind["active_version"] == 0 and [v["version"] for v in kind["versions"]] == [1]
    assert generate(client, w, c)[0]["template_name"] == "iop_avtal.docx"  # uploaded is not yet active

    act = client.post("/api/v1/document-templates/agreement/versions/1/activate", headers=auth(w.admin))
    assert act.status_code == 200 and act.json()["active_version"] == 1
    meta, body = generate(client, w, c)
    assert meta["template_name"] == "iop_avtal.docx@v1" and meta["template_sha256"] == v1["sha256"]
    assert "EGEN MALL ETT" in body and c.diarienummer in body and w.org.name in body and "kr" in body

    v2 = upload(client, w.admin, custom("TVÅ")).json()
    client.post("/api/v1/document-templates/agreement/versions/2/activate", headers=auth(w.admin))
    meta, body = generate(client, w, c)
    assert meta["template_name"] == "iop_avtal.docx@v2" and "EGEN MALL TVÅ" in body and "ETT" not in body

    # Every version stays downloadable as uploaded; version 0 is the shipped file.
    old = client.get("/api/v1/document-templates/agreement/versions/1/content", headers=auth(w.admin))
    assert old.status_code == 200 and old.headers["content-type"] == DOCX
    assert hashlib.sha256(old.content).hexdigest() == v1["sha256"] != v2["sha256"]
    shipped = client.get("/api/v1/document-templates/agreement/versions/0/content", headers=auth(w.admin))
    assert shipped.content == SHIPPED.read_bytes()

    # A preview renders a version with sample data, whichever is active.
    preview = client.get("/api/v1/document-templates/agreement/versions/1/preview", headers=auth(w.admin))
    assert preview.status_code == 200 and "EGEN MALL ETT" in text(preview.content) and "SOC 2026/0042" in text(preview.content)
    assert "Överenskommelse" in text(client.get("/api/v1/document-templates/agreement/versions/0/preview",
                                                headers=auth(w.admin)).content)

    # Back to the shipped default.
    reset = client.post("/api/v1/document-templates/agreement/versions/0/activate", headers=auth(w.admin))
    assert reset.json()["active_version"] == 0
    meta, body = generate(client, w, c)
    assert meta["template_name"] == "iop_avtal.docx" and "EGEN MALL" not in body
    # The other kinds were never touched.
    listed = {k["kind"]: k["active_version"] for k in client.get("/api/v1/document-templates", headers=auth(w.admin)).json()}
    assert listed == {"agreement": 0, "decision": 0, "dialogue_minutes": 0, "followup_request": 0, "followup_summary": 0}

    events = db.scalars(select(AuditEvent).where(AuditEvent.stream == "document-templates").order_by(AuditEvent.id)).all()
    assert [(e.action, (e.after or {}).get("version")) for e in events] == [
        ("document_template.uploaded", 1), ("document_template.activated", 1),
        ("document_template.uploaded", 2), ("document_template.activated", 2), ("document_template.activated", 0)]
    assert all(e.actor_id == w.admin.id for e in events)


def test_missing_versions_are_404(client, db, store) -> None:  # noqa: ANN001
    w = World(db)
    for path in ("versions/3/content", "versions/3/preview"):
        problem(client.get(f"/api/v1/document-templates/decision/{path}", headers=auth(w.admin)), 404)
    problem(client.post("/api/v1/document-templates/decision/versions/3/activate", headers=auth(w.admin)), 404)
    assert client.get("/api/v1/document-templates/decision", headers=auth(w.admin)).json()["active_version"] == 0


def test_every_process_that_renders_registers_the_lookup() -> None:
    """The API registers it with its router; flows (outbox, deadline sweep) through flows.runtime, without the app."""
    code = ("import flows.runtime, sys; from service.documents.rendering import TEMPLATE_OVERRIDES as o; "
            "assert 'service.app' not in sys.modules; assert [f.__module__ for f in o] == ['service.doctemplates.active'], o")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
