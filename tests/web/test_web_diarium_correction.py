"""A registrar corrects a diary entry on the case page (the API's diarium.service.correct): audited, bad input a Swedish
message with nothing written, a stale form refused, CSRF checked, other roles refused (no browser)."""

from __future__ import annotations

import html as htmllib

from factories import World, case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.audit.models import AuditEvent
from service.cases.stages import Stage
from service.diarium.models import DiaryEntry
from service.documents import service as documents
from service.documents.models import DocumentKind
from tests.web.test_web_forms import Browserless, web  # noqa: F401  (the fixture)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _world(db: Session, store):  # noqa: ANN001, ANN202
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id, title="Läxhjälp i Norrby")
    doc = documents.store_document(db, store, case=c, kind=DocumentKind.ATTACHMENT, filename="intyg.pdf", content=PDF,
                                   content_type="application/pdf", user=w.member, original_filename="Intyg.pdf")
    entry = db.scalars(select(DiaryEntry).where(DiaryEntry.document_id == doc.id)).one()
    return w, c, entry


def _form(entry: DiaryEntry, **changes: str) -> dict[str, str]:
    return {"description": entry.description, "document_type": entry.document_type, "counterpart": entry.counterpart,
            "osl_reference": "", "version": str(entry.version), **changes}


def _corrections(db: Session, c) -> int:  # noqa: ANN001
    return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == c.id, AuditEvent.action == "diary.corrected"))


def _unchanged(db: Session, entry: DiaryEntry, version: int = 1) -> None:
    db.expire_all()
    row = db.get(DiaryEntry, entry.id)
    assert (row.description, row.document_type, row.confidential, row.osl_reference, row.version) == (
        "Bilaga: Intyg.pdf", "Bilaga", False, None, version)


def test_registrar_corrects_an_entry_on_the_case_page(web: Browserless, db: Session, app) -> None:  # noqa: F811, ANN001
    store = app.dependency_overrides[documents.get_store]()
    w, c, entry = _world(db, store)
    registrar = Browserless(web.client).login(w.registrar)
    page = htmllib.unescape(registrar.get(f"/arenden/{c.id}").text)
    assert f"<summary>Rätta {c.diarienummer}-{entry.number}</summary>" in page
    assert f'action="/arenden/{c.id}/diarium/{entry.id}"' in page and 'value="Bilaga: Intyg.pdf"' in page
    r = registrar.post(f"/arenden/{c.id}/diarium/{entry.id}", _form(entry, description="Intyg om ekonomisk ställning", document_type="Övrigt",
                                                                      confidential="ja", osl_reference="OSL 31 kap. 16 §"))
    assert r.headers["location"].startswith(f"/arenden/{c.id}")
    db.expire_all()
    row = db.get(DiaryEntry, entry.id)
    assert (row.description, row.document_type, row.confidential, row.osl_reference, row.version, row.counterpart) == (
        "Intyg om ekonomisk ställning", "Övrigt", True, "OSL 31 kap. 16 §", 2, w.org.name)
    event = db.scalars(select(AuditEvent).where(AuditEvent.case_id == c.id, AuditEvent.action == "diary.corrected")).one()
    assert event.actor_id == w.registrar.id and event.before["confidential"] is False and event.after["osl_reference"] == "OSL 31 kap. 16 §"
    page = htmllib.unescape(registrar.get(f"/arenden/{c.id}").text)
    assert "Diarieposten är rättad." in page and "OSL 31 kap. 16 §" in page
    # Released again: the checkbox left empty clears the secrecy and its reference.
    registrar.post(f"/arenden/{c.id}/diarium/{entry.id}", _form(row, osl_reference="OSL 31 kap. 16 §"))
    db.expire_all()
    assert (db.get(DiaryEntry, entry.id).confidential, db.get(DiaryEntry, entry.id).osl_reference) == (False, None)


def test_bad_corrections_show_swedish_messages_and_write_nothing(web: Browserless, db: Session, app) -> None:  # noqa: F811, ANN001
    store = app.dependency_overrides[documents.get_store]()
    w, c, entry = _world(db, store)
    registrar = Browserless(web.client).login(w.registrar)
    url = f"/arenden/{c.id}/diarium/{entry.id}"
    for changes, message in (
        ({"confidential": "ja", "description": "Ny text"}, "Hänvisning till OSL krävs när handlingen är sekretessmarkerad"),
        ({"document_type": "Hemlig typ"}, "Okänd handlingstyp"),
        ({"description": ""}, "Fältet måste fyllas i."),
        ({"description": "x" * 301}, "Texten är för lång (högst 300 tecken)."),
        ({"counterpart": "Anna\x07"}, "får inte innehålla styrtecken"),
    ):
        page = htmllib.unescape(registrar.post(url, _form(entry, **changes), expect=422).text)
        assert message in page, (changes, page[:3000])
        assert "<details class=\"details\" open>" in page  # the refused form is shown open with the input kept
        _unchanged(db, entry)
    page = htmllib.unescape(registrar.post(url, _form(entry, description="Gammal flik", version="7"), expect=409).text)
    assert "Någon annan har ändrat uppgifterna" in page
    _unchanged(db, entry)
    # Without the CSRF token nothing is written.
    r = web.client.post(url, data=_form(entry, description="Utan token"), follow_redirects=False)
    assert r.status_code == 403
    _unchanged(db, entry)
    assert _corrections(db, c) == 0


def test_only_the_registrar_corrects(web: Browserless, db: Session, app) -> None:  # noqa: F811, ANN001
    store = app.dependency_overrides[documents.get_store]()
    w, c, entry = _world(db, store)
    for who in (w.officer, w.approver, w.member):
        person = Browserless(web.client).login(who)
        assert "Rätta en diariepost" not in person.get(f"/arenden/{c.id}").text
        person.post(f"/arenden/{c.id}/diarium/{entry.id}", _form(entry, description="Ändrad"), expect=403)
    Browserless(web.client).login(w.other_member).post(f"/arenden/{c.id}/diarium/{entry.id}", _form(entry), expect=404)
    _unchanged(db, entry)
    assert _corrections(db, c) == 0
