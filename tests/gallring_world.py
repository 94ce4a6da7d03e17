"""Closed cases with stored documents for the gallring tests: real rows, real objects, closed through the stage machine."""

from __future__ import annotations

from datetime import datetime

from factories import World, case
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.cases import service as cases
from service.cases.models import Case, StageChange
from service.cases.stages import Action, Stage
from service.diarium import service as diarium
from service.documents import service as documents
from service.documents.models import Document, DocumentKind
from storage.base import ObjectStore

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def open_case(db: Session, w: World) -> Case:
    """A case in follow-up (open)."""
    return case(db, w.org, w.dep, stage=Stage.FOLLOW_UP, officer_id=w.officer.id)


def add(db: Session, store: ObjectStore, w: World, c: Case, kind: DocumentKind = DocumentKind.ATTACHMENT, name: str = "bilaga.pdf",
        body: bytes = PDF) -> Document:
    """A document stored the way the API stores it (object first, row, diary entry)."""
    return documents.store_document(db, store, case=c, kind=kind, filename=name, content=body + name.encode(), content_type="application/pdf",
                                    user=w.officer)


def add_locked(db: Session, store: ObjectStore, w: World, c: Case, until: datetime, name: str = "låst.pdf") -> Document:
    """An attachment whose stored version is under object lock until `until` (as a signed agreement's is, for years)."""
    key = f"cases/{c.id}/attachment/{documents.object_token()}/{name}"
    obj = store.put(key, PDF + name.encode(), content_type="application/pdf", retain_until=until)
    doc = Document(case_id=c.id, organisation_id=c.organisation_id, kind=DocumentKind.ATTACHMENT, version=documents.next_version(db, c.id, DocumentKind.ATTACHMENT),
                   filename=name, content_type="application/pdf", size=obj.size, sha256=obj.sha256, storage_key=key,
                   storage_version_id=obj.version_id, created_by_id=w.officer.id)
    db.add(doc)
    db.flush()
    diarium.register_document(db, c, doc, w.officer)
    return doc


def close(db: Session, w: World, c: Case, stage: Stage = Stage.CLOSED) -> datetime:
    """Close (or reject, withdraw) the case through the stage machine; when it was closed, from its history."""
    action = {Stage.CLOSED: Action.TERMINATE, Stage.REJECTED: Action.REVIEW_REJECT, Stage.WITHDRAWN: Action.WITHDRAW}[stage]
    cases.move(db, c, stage, actor=w.approver, action=action)
    db.flush()
    return db.scalars(select(StageChange.at).where(StageChange.case_id == c.id).order_by(StageChange.id.desc())).first()


def versions(store: ObjectStore, doc: Document) -> list[str]:
    """The stored version ids of a document's key."""
    return [v.version_id for v in store.list_versions(doc.storage_key) if v.key == doc.storage_key]
