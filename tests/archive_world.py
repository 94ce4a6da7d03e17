"""A fully closed demo case (dialogue, agreement, follow-up, closed) with real stored documents (the e-archive tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from factories import World, auth, case as make_case
from gates_setup import satisfy_gate, terms_payload
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from service.cases.models import Case
from service.cases.stages import Stage
from service.diarium.models import DiaryEntry
from service.documents import service as documents
from service.documents.models import DocumentKind
from service.reviews.models import Review, ReviewStatus
from storage.base import ObjectStore

TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date().isoformat()


def pdf(text: str) -> bytes:
    """A small well-formed one-page PDF."""
    from test_journey import minimal_pdf

    return minimal_pdf(text)


@dataclass
class Closed:
    """The demo case and who took part."""

    world: World
    case: Case
    confidential_entry: DiaryEntry


def _call(client: TestClient, method: str, path: str, who, status: int, **kw):  # noqa: ANN001, ANN202
    r = client.request(method, f"/api/v1{path}", headers={**auth(who), **kw.pop("headers", {})}, **kw)
    assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
    return r


def _advance(client: TestClient, case_id: int, requester, approver, to_stage: str, **body) -> None:  # noqa: ANN001
    review = _call(client, "POST", f"/cases/{case_id}/reviews", requester, 201, json=body).json()
    assert review["to_stage"] == to_stage
    _call(client, "POST", f"/cases/{case_id}/reviews/{review['id']}/decision", approver, 200,
          json={"decision": "approve", "motivation": "Villkoren är uppfyllda."})


def build_closed_case(client: TestClient, db: Session, store: ObjectStore, w: World | None = None) -> Closed:
    """A case walked to closed through the API, with messages, an attachment, an agreement, its signed copy and decisions."""
    w = w or World(db)
    c = make_case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id, title="Mötesplats Solrosen")
    db.commit()
    _call(client, "POST", f"/cases/{c.id}/messages", w.member, 201, json={"body": "Vi skickar vår verksamhetsplan."})
    _call(client, "POST", f"/cases/{c.id}/attachments", w.member, 201, data={"kind": "attachment"},
          files={"file": ("Verksamhetsplan 2027.pdf", pdf("Verksamhetsplan"), "application/pdf")})
    _advance(client, c.id, w.officer, w.approver, "dialogue")
    db.refresh(c)
    satisfy_gate(db, c, w)
    db.commit()
    _call(client, "POST", f"/cases/{c.id}/messages", w.officer, 201, json={"body": "Välkomna till dialogmöte."})
    _advance(client, c.id, w.officer, w.approver2, "agreement")
    _call(client, "PUT", f"/cases/{c.id}/agreement", w.officer, 200, json=terms_payload(w.org.name, w.org.orgnr, c.requested_amount_sek))
    _call(client, "POST", f"/cases/{c.id}/documents/agreement/generate", w.officer, 201)
    _call(client, "POST", f"/cases/{c.id}/signatures", w.officer, 201,
          json={"party": "public", "name": "Eva Ek", "role": "Förvaltningschef", "signed_on": TODAY})
    _call(client, "POST", f"/cases/{c.id}/signatures", w.member, 201,
          json={"party": "organisation", "name": "Olle Ordförande", "role": "Ordförande", "signed_on": TODAY})
    _call(client, "POST", f"/cases/{c.id}/attachments", w.officer, 201, data={"kind": "signed_agreement"},
          files={"file": ("IOP-avtal undertecknat.pdf", pdf("Undertecknat avtal"), "application/pdf")})
    _advance(client, c.id, w.officer, w.approver, "follow_up", approver_id=w.approver.id)
    db.refresh(c)
    satisfy_gate(db, c, w)
    db.commit()
    _advance(client, c.id, w.officer, w.approver2, "closed")
    db.refresh(c)
    assert c.stage == Stage.CLOSED
    # Each decision's own document, as the review.decided outbox handler draws it up after commit.
    for review in db.scalars(select(Review).where(Review.case_id == c.id, Review.status == ReviewStatus.APPROVED).order_by(Review.id)):
        documents.generate(db, store, None, c, DocumentKind.DECISION, review=review)
    db.commit()
    # The registrar marks the organisation's attachment confidential (OSL 19 kap. 3 §: business secrets of an association).
    entry = db.scalar(select(DiaryEntry).where(DiaryEntry.case_id == c.id, DiaryEntry.document_id.is_not(None)).order_by(DiaryEntry.number))
    case_id, entry_id, entry_version = c.id, entry.id, entry.version
    db.commit()  # no transaction open while the request writes (SQLite: one writer)
    _call(client, "PATCH", f"/cases/{case_id}/diary/{entry_id}", w.registrar, 200, headers={"If-Match": f'"{entry_version}"'},
          json={"confidential": True, "osl_reference": "19 kap. 3 § OSL"})
    db.refresh(entry)
    return Closed(world=w, case=c, confidential_entry=entry)


def stored_export(session: Session, store: ObjectStore, registrar, case: Case) -> dict[str, int]:  # noqa: ANN001
    """An export job of a closed case whose package is written (a small zip in the store), for the authorisation matrices."""
    import hashlib

    from service.archive.models import ArchiveExport, ArchiveExportItem, ExportStatus, ItemStatus

    export = ArchiveExport(requested_by_id=registrar.id, status=ExportStatus.DONE)
    session.add(export)
    session.flush()
    data = b"PK\x05\x06" + b"\x00" * 18  # an empty zip
    key = f"exports/{export.id}/uuid-matrix.zip"
    obj = store.put(key, data, length=len(data), content_type="application/zip")
    item = ArchiveExportItem(export_id=export.id, case_id=case.id, status=ItemStatus.DONE, objid="uuid-matrix", object_key=key,
                             object_version_id=obj.version_id, size=len(data), sha256=hashlib.sha256(data).hexdigest(), files=0)
    session.add(item)
    session.flush()
    return {"archive_export": export.id, "archive_package": item.id}
