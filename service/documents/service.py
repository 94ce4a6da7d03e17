"""Store documents: generated from templates or uploaded; versioned, checksummed, never overwritten."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import BinaryIO

import filetype
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.audit.service import record
from service.auth.models import User
from service.cases.models import Case
from service.config import get_settings
from service.db import utcnow
from service.documents import builders
from service.documents.models import Document, DocumentKind
from service.documents.rendering import render
from service.errors import PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType
from storage.base import ObjectStore, StorageUnavailable
from storage.factory import store_from_url

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Allowed uploads by magic bytes (the client's content type is not trusted).
ALLOWED_UPLOADS = {
    "application/pdf": "pdf",
    DOCX: "docx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "image/png": "png",
    "image/jpeg": "jpg",
}
UNAVAILABLE = "Dokumentlagringen svarar inte; försök igen om en stund / document storage unavailable, retry later"


@lru_cache
def get_store() -> ObjectStore:
    """The configured object store (filesystem by default)."""
    s = get_settings()
    return store_from_url(s.storage_url, endpoint=s.s3_endpoint, access_key=s.s3_access_key, secret_key=s.s3_secret_key, secure=s.s3_secure)


def safe_filename(name: str) -> str:
    """A storage-safe file name that keeps Swedish letters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^\w.\- ]+", "_", name, flags=re.UNICODE).strip(" .") or "fil"
    return name[:120]


def next_version(session: Session, case_id: int, kind: DocumentKind) -> int:
    """One more than the highest stored version of this kind (the unique index settles races)."""
    return (session.scalar(select(func.max(Document.version)).where(Document.case_id == case_id, Document.kind == kind)) or 0) + 1


def store_document(session: Session, store: ObjectStore, *, case: Case, kind: DocumentKind, filename: str, content: bytes,
                   content_type: str, user: User | None, template_name: str | None = None, template_sha256: str | None = None,
                   internal: bool = False) -> Document:
    """Put the object first, then add its row: a failed put leaves no row, a failed commit leaves an orphan to sweep."""
    version = next_version(session, case.id, kind)
    key = f"cases/{case.id}/{kind.value}/v{version}/{safe_filename(filename)}"
    try:
        obj = store.put(key, content, length=len(content), content_type=content_type, metadata={"case-id": str(case.id), "kind": kind.value})
    except StorageUnavailable as exc:
        raise ServiceUnavailable(UNAVAILABLE, retry_after=30) from exc
    doc = Document(case_id=case.id, organisation_id=case.organisation_id, kind=kind, version=version, filename=safe_filename(filename),
                   content_type=content_type, size=obj.size, sha256=obj.sha256, storage_key=key, storage_version_id=obj.version_id,
                   template_name=template_name, template_sha256=template_sha256, internal=internal, created_by_id=user.id if user else None)
    session.add(doc)
    session.flush()
    record(session, actor=user, action="document.stored", case_id=case.id,
           after={"document_id": doc.id, "kind": kind.value, "version": version, "sha256": doc.sha256, "key": key})
    return doc


def generate(session: Session, store: ObjectStore, user: User | None, case: Case, kind: DocumentKind, today: date | None = None) -> Document:
    """Render the kind's template from the case and store it as a new version."""
    context = builders.BUILDERS[kind](session, case, today or date.today())
    rendered = render(context)
    filename = f"{builders.FILENAMES[kind]}-{(case.diarienummer or str(case.id)).replace(' ', '-').replace('/', '-')}.docx"
    return store_document(session, store, case=case, kind=kind, filename=filename, content=rendered.content, content_type=DOCX,
                          user=user, template_name=rendered.template_name, template_sha256=rendered.template_sha256)


def read_upload(stream: BinaryIO, limit: int) -> tuple[bytes, str]:
    """Read at most `limit` bytes (413 beyond) and identify the type by magic bytes (415 if not allowed)."""
    chunks, size = [], 0
    while chunk := stream.read(1024 * 1024):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Filen är större än {limit // (1024 * 1024)} MB / file exceeds {limit} bytes", limit_bytes=limit)
        chunks.append(chunk)
    data = b"".join(chunks)
    kind = filetype.guess(data[:8192]) if data else None
    if kind is None or kind.mime not in ALLOWED_UPLOADS:
        raise UnsupportedMediaType(
            "Tillåtna filtyper: PDF, Word (docx), OpenDocument (odt), Excel (xlsx), PNG och JPEG / allowed: pdf, docx, odt, xlsx, png, jpg",
            detected=kind.mime if kind else None,
        )
    return data, kind.mime


def open_content(store: ObjectStore, doc: Document) -> Iterator[bytes]:
    """Stream a stored version; storage down is a 503."""
    try:
        it = store.open(doc.storage_key, doc.storage_version_id)
        first = next(it, b"")  # fail here, before the response starts, if storage is down
    except StorageUnavailable as exc:
        raise ServiceUnavailable(UNAVAILABLE, retry_after=30) from exc

    def gen() -> Iterator[bytes]:
        yield first
        yield from it

    return gen()


def sweep_orphans(session: Session, store: ObjectStore, *, older_than: timedelta = timedelta(hours=1), now: datetime | None = None) -> list[str]:
    """Delete stored versions under cases/ that no Document row refers to (left by a failed commit)."""
    cutoff = (now or utcnow()) - older_than
    known = {(k, v) for k, v in session.execute(select(Document.storage_key, Document.storage_version_id))}
    removed = []
    for info in store.list_versions("cases/"):
        if (info.key, info.version_id) in known or info.last_modified is None or info.last_modified > cutoff:
            continue
        store.delete(info.key, info.version_id)
        removed.append(f"{info.key}@{info.version_id}")
    return removed
