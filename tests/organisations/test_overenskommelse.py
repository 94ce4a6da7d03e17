"""Joining the local överenskommelse: board minutes stored as an organisation document, versioned, downloadable."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from factories import World, auth
from helpers import error_fields, problem
from sqlalchemy import func, select

from service.documents import service as documents
from service.documents.models import Document
from storage.filesystem import FilesystemStore


def minimal_pdf(text: str) -> bytes:
    """A small but well-formed one-page PDF (real xref table) with a line of ASCII text."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("ascii")
    stream = b"BT /F1 12 Tf 72 770 Td (" + safe + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture
def store(app, tmp_path):  # noqa: ANN001, ANN201
    """A filesystem object store for the app."""
    s = FilesystemStore(tmp_path / "objects")
    app.dependency_overrides[documents.get_store] = lambda: s
    yield s
    app.dependency_overrides.pop(documents.get_store, None)


def _join(client, org_id, who, content, joined_on="2026-03-12", name="Styrelseprotokoll 2026-03-12.pdf"):  # noqa: ANN001, ANN202
    return client.post(f"/api/v1/organisations/{org_id}/overenskommelse", data={"date": joined_on},
                       files={"file": (name, content, "application/pdf")}, headers=auth(who))


def test_member_joins_with_board_minutes_and_officer_downloads(client, db, store) -> None:
    w = World(db)
    pdf = minimal_pdf("Styrelsen beslutade att ansluta till den lokala overenskommelsen.")
    r = _join(client, w.org.id, w.member, pdf)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["joined_overenskommelse_on"] == "2026-03-12"
    [doc] = body["board_minutes"]
    assert doc["kind"] == "board_minutes" and doc["version"] == 1 and doc["content_type"] == "application/pdf"
    assert doc["sha256"] == hashlib.sha256(pdf).hexdigest() and doc["size"] == len(pdf)
    row = db.get(Document, doc["id"])
    assert row.case_id is None and row.organisation_id == w.org.id
    assert row.storage_key == f"organisations/{w.org.id}/board_minutes/v1/Styrelseprotokoll 2026-03-12.pdf"
    assert store.get(row.storage_key, row.storage_version_id) == pdf
    assert client.get(f"/api/v1/organisations/{w.org.id}", headers=auth(w.officer)).json()["joined_overenskommelse_on"] == "2026-03-12"
    for reader in (w.member, w.officer, w.registrar):
        dl = client.get(f"/api/v1/organisations/{w.org.id}/board-minutes/{doc['id']}/content", headers=auth(reader))
        assert dl.status_code == 200 and dl.content == pdf and dl.headers["x-content-sha256"] == doc["sha256"]
        assert "attachment" in dl.headers["content-disposition"]
    problem(client.get(f"/api/v1/organisations/{w.org.id}/board-minutes/{doc['id']}/content", headers=auth(w.other_member)), 404)
    problem(client.get(f"/api/v1/organisations/{w.other_org.id}/board-minutes/{doc['id']}/content", headers=auth(w.registrar)), 404)
    problem(client.get(f"/api/v1/organisations/{w.org.id}/overenskommelse", headers=auth(w.other_member)), 404)
    # The audit trail of the organisation records the document, and the chain holds.
    events = client.get(f"/api/v1/organisations/{w.org.id}/audit", headers=auth(w.registrar)).json()
    joined = [e for e in events if e["action"] == "organisation.joined_overenskommelse"]
    assert joined and joined[0]["after"]["document_id"] == doc["id"] and joined[0]["after"]["sha256"] == doc["sha256"]


def test_new_minutes_are_a_new_version(client, db, store) -> None:
    w = World(db)
    first = _join(client, w.org.id, w.member, minimal_pdf("v1"), "2026-03-12").json()["board_minutes"][0]
    r = _join(client, w.org.id, w.registrar, minimal_pdf("v2 korrigerat"), "2026-03-14")
    assert r.status_code == 201, r.text
    versions = r.json()["board_minutes"]
    assert [d["version"] for d in versions] == [2, 1] and versions[1]["id"] == first["id"]
    assert r.json()["joined_overenskommelse_on"] == "2026-03-14"
    same = client.get(f"/api/v1/organisations/{w.org.id}/overenskommelse", headers=auth(w.officer)).json()
    assert same == r.json()
    old = client.get(f"/api/v1/organisations/{w.org.id}/board-minutes/{first['id']}/content", headers=auth(w.member))
    assert old.content == minimal_pdf("v1")


def test_refusals_leave_nothing_behind(client, db, store, app) -> None:
    from service.config import Settings
    from service.deps import app_settings

    w = World(db)
    count = lambda: db.scalar(select(func.count()).select_from(Document))  # noqa: E731
    before = count()
    problem(_join(client, w.org.id, w.officer, minimal_pdf("x")), 403)
    problem(_join(client, w.org.id, w.other_member, minimal_pdf("x")), 404)
    problem(_join(client, w.org.id, w.member, b"MZ\x90\x00 not a pdf", name="protokoll.pdf"), 415)
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert error_fields(problem(_join(client, w.org.id, w.member, minimal_pdf("x"), tomorrow), 422)) == {"date"}
    assert error_fields(problem(_join(client, w.org.id, w.member, minimal_pdf("x"), "inte-ett-datum"), 422)) == {"date"}
    r = client.post(f"/api/v1/organisations/{w.org.id}/overenskommelse", data={"date": "2026-03-12"}, headers=auth(w.member))
    assert error_fields(problem(r, 422)) == {"file"}
    app.dependency_overrides[app_settings] = lambda: Settings(upload_limit_bytes=1024)
    try:
        problem(_join(client, w.org.id, w.member, minimal_pdf("x" * 4000)), 413)
    finally:
        app.dependency_overrides.pop(app_settings, None)
    assert count() == before
    assert client.get(f"/api/v1/organisations/{w.org.id}", headers=auth(w.member)).json()["joined_overenskommelse_on"] is None
    assert store.list_versions("organisations/") == []


def test_storage_down_is_503_and_changes_nothing(client, db, store) -> None:
    w = World(db)
    # A plain file where the organisations/ folder must go: every write below it fails for real.
    (store.root / "organisations").write_bytes(b"")
    before = db.scalar(select(func.count()).select_from(Document))
    r = _join(client, w.org.id, w.member, minimal_pdf("x"))
    assert problem(r, 503) and r.headers["retry-after"]
    assert db.scalar(select(func.count()).select_from(Document)) == before
    db.refresh(w.org)
    assert w.org.joined_overenskommelse_on is None
