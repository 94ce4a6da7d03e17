"""Store documents: generated from templates or uploaded; versioned, checksummed, never overwritten."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, UTC
from functools import lru_cache
from pathlib import PurePosixPath
from typing import BinaryIO
from urllib.parse import quote
from zoneinfo import ZoneInfo

import filetype
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.agreements.models import Signature
from service.cases.access import documents_shown, ensure_case_officer
from service.audit.models import AuditEvent
from service.audit.service import lock_stream, record, stream_for
from service.diarium import service as diarium
from service.auth.models import Role, User
from service.cases.models import Case
from service.cases.stages import TERMINAL, Stage
from service.config import Settings, get_settings
from service.db import utcnow
from service.documents import builders, pdfa
from service.documents.models import Document, DocumentKind
from service.documents.rendering import render
from service.documents.pdfa import PDF_CONTENT_TYPE, PdfConversionError, PdfConversionUnavailable
from service.outbox.service import emit
from service.reviews.models import Review
from service.signing import keys as signing_keys
from service.errors import AppError, Conflict, NotFound, PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType, ValidationFailed
from service.schemas import CONTROL_CHARS, MAX_ID
from storage.base import ContentMismatch, ObjectLocked, ObjectNotFound, ObjectStore, StorageError, StorageUnavailable, open_verified
from storage.factory import store_from_url

log = logging.getLogger(__name__)

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
# Uploads are read in 1 MiB chunks; spool files keep up to 1 MiB in memory, the rest on disk.
UPLOAD_CHUNK = 1024 * 1024
SPOOL_MEMORY = 1024 * 1024
UNAVAILABLE = "Dokumentlagringen svarar inte; försök igen om en stund / document storage unavailable, retry later"


@lru_cache
def get_store() -> ObjectStore:
    """The configured object store (filesystem by default)."""
    s = get_settings()
    # None lets `?object_lock=true` in the URL decide when the setting is off.
    return store_from_url(s.storage_url, endpoint=s.s3_endpoint, access_key=s.s3_access_key, secret_key=s.s3_secret_key, secure=s.s3_secure,
                          object_lock=True if s.storage_object_lock else None)


def get_visible_document(session: Session, user: User, case: Case, doc_id: int) -> Document:
    """A document of a case the user already sees; internal ones are invisible to the organisation (404)."""
    doc = session.scalar(select(Document).where(Document.id == doc_id, Document.case_id == case.id, documents_shown(user))) \
        if 0 < doc_id <= MAX_ID else None
    if doc is None:
        raise NotFound("Dokumentet finns inte / Document not found")
    return doc


def safe_filename(name: str) -> str:
    """A storage-safe file name that keeps Swedish letters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^\w.\- ]+", "_", name, flags=re.UNICODE).strip(" .") or "fil"
    return name[:120]


def content_disposition(filename: str) -> str:
    """``attachment`` with a plain ASCII ``filename=`` for old clients beside the exact UTF-8 ``filename*`` (RFC 6266)."""
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r'[^A-Za-z0-9._ -]+', "_", plain).strip(" .") or "dokument"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename)}"


def with_real_extension(filename: str, content_type: str) -> str:
    """The name with the extension of the detected type (a PNG called "avtal.pdf" is stored as "avtal.png")."""
    ext = ALLOWED_UPLOADS.get(content_type)
    if ext is None:
        return filename
    path = PurePosixPath(filename.replace("\\", "/").rsplit("/", 1)[-1] or "fil")
    if path.suffix.lower().lstrip(".") in ({ext, "jpeg"} if ext == "jpg" else {ext}):
        return filename
    return f"{path.stem or 'fil'}.{ext}"


def next_version(session: Session, case_id: int, kind: DocumentKind, internal: bool = False) -> int:
    """One more than the highest stored version of this kind, internal documents counted apart (taken under the case's lock)."""
    return (session.scalar(select(func.max(Document.version)).where(Document.case_id == case_id, Document.kind == kind,
                                                                    Document.internal.is_(internal))) or 0) + 1


def original_name(name: str) -> str | None:
    """The uploaded file's own name, as the uploader knows it (path and control characters dropped)."""
    name = CONTROL_CHARS.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return name[:255] or None


def retention_until(store: ObjectStore, settings: Settings | None = None, now: datetime | None = None) -> datetime | None:
    """Until when a version stored now is locked against deletion (None: retention off or not enforceable by this store)."""
    settings = settings or get_settings()
    if settings.signed_agreement_retention_days <= 0 or not store.supports_object_lock:
        return None
    # Whole seconds: what S3 keeps, so the audit event and the stored version agree exactly.
    return ((now or datetime.now(UTC)) + timedelta(days=settings.signed_agreement_retention_days)).replace(microsecond=0)


def object_token(now: datetime | None = None) -> str:
    """A unique path segment for a new object that sorts by time (UTC to the second, then random)."""
    return f"{(now or datetime.now(UTC)):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def store_document(session: Session, store: ObjectStore, *, case: Case, kind: DocumentKind, filename: str, content: bytes | Upload,
                   content_type: str, user: User | None, template_name: str | None = None, template_sha256: str | None = None,
                   internal: bool = False, settings: Settings | None = None, derived_from: Document | None = None,
                   review_id: int | None = None, retain: bool = False, audit: dict | None = None,
                   original_filename: str | None = None) -> Document:
    """Put the object first, then add its row: a failed put leaves no row, a failed commit leaves an orphan to sweep.

    ``retain`` (only ever set by ``upload_document`` and ``confirm_signed_agreement``, which decide it) stores the version
    under retention (see ``retention_until``); the date is in the audit event and on the stored version. ``audit`` adds
    fields to the ``document.stored`` event.
    """
    # The object goes in before the case's stream lock is taken: a large put takes seconds, and uploads queued behind
    # the lock would pass the database deadline (service/hangs.py) and fail. So its key cannot name the version number
    # (decided under the lock); a time-ordered token keeps keys unique and sorted.
    key = f"cases/{case.id}/{kind.value}/{object_token()}/{safe_filename(filename)}"
    retain_until = retention_until(store, settings) if retain else None
    metadata = {"case-id": str(case.id), "kind": kind.value}
    if derived_from is not None:
        metadata |= {"source-document-id": str(derived_from.id), "source-sha256": derived_from.sha256}
    try:
        if isinstance(content, Upload):  # streamed from its spool file: the body is never in memory as a whole
            content.file.seek(0)
            obj = store.put(key, content.file, length=content.size, content_type=content_type, metadata=metadata, retain_until=retain_until)
        else:
            obj = store.put(key, content, length=len(content), content_type=content_type, metadata=metadata, retain_until=retain_until)
    except StorageUnavailable as exc:
        raise ServiceUnavailable(UNAVAILABLE, retry_after=30) from exc
    lock_stream(session, stream_for(case.id, None))  # parallel uploads on a case get consecutive versions, no 409
    version = next_version(session, case.id, kind, internal)
    doc = Document(case_id=case.id, organisation_id=case.organisation_id, kind=kind, version=version, filename=safe_filename(filename),
                   original_filename=original_filename,
                   content_type=content_type, size=obj.size, sha256=obj.sha256, storage_key=key, storage_version_id=obj.version_id,
                   template_name=template_name, template_sha256=template_sha256, internal=internal, created_by_id=user.id if user else None,
                   review_id=review_id)
    session.add(doc)
    session.flush()
    # No key or file name: an uploaded file's name may name a person, and the chain can never forget it.
    after = {"document_id": doc.id, "kind": kind.value, "version": version, "sha256": doc.sha256,
             "storage_version_id": obj.version_id, **(audit or {})}
    if review_id is not None:
        after["review_id"] = review_id
    if retain_until is not None:
        after["retain_until"] = retain_until.isoformat(timespec="seconds")
    if derived_from is not None:
        after |= {"source_document_id": derived_from.id, "source_sha256": derived_from.sha256}
    record(session, actor=user, action="document.stored", case_id=case.id, after=after)
    if derived_from is None:  # a PDF/A, signed or sealed copy is the same handling in another form, already registered
        diarium.register_document(session, case, doc, user)
    return doc


# A signed agreement is kept under retention (nobody can delete it, not even for an erasure request), so only what a
# registrar would file as the signed agreement gets it: a PDF (the archive format of the signed copy), of a case whose
# agreement exists (agreement stage or later), uploaded or confirmed by the case's officer. The organisation's own
# upload is an incoming copy: stored, unretained, until an officer confirms it (confirm_signed_agreement).
SIGNED_AGREEMENT_FORMATS = frozenset({"application/pdf"})
SIGNED_AGREEMENT_STAGES = frozenset({Stage.AGREEMENT, Stage.FOLLOW_UP})


def _ensure_signed_agreement(case: Case, content_type: str) -> None:
    if case.stage not in SIGNED_AGREEMENT_STAGES:
        raise Conflict("Ett undertecknat avtal kan bara lämnas när ärendet är i skedet överenskommelse eller uppföljning / "
                       "a signed agreement belongs to a case in the agreement or follow-up stage",
                       current_stage=case.stage, allowed_stages=sorted(s.value for s in SIGNED_AGREEMENT_STAGES))
    if content_type not in SIGNED_AGREEMENT_FORMATS:
        raise ValidationFailed(errors=[{"field": "file", "message": "Ett undertecknat avtal ska vara en PDF / a signed agreement must be a PDF"}],
                               detected=content_type)


def upload_document(session: Session, store: ObjectStore, user: User, case: Case, *, kind: DocumentKind, filename: str, content: bytes | Upload,
                    content_type: str, internal: bool = False, settings: Settings | None = None) -> Document:
    """An uploaded attachment or signed agreement (API and web): what may be stored, and what is retained."""
    if case.stage in TERMINAL:
        raise Conflict("Ärendet är avslutat; inga nya dokument tas emot / case is closed, no new documents", current_stage=case.stage)
    if kind not in (DocumentKind.ATTACHMENT, DocumentKind.SIGNED_AGREEMENT):
        raise ValidationFailed(errors=[{"field": "kind", "message": "attachment eller signed_agreement"}])
    original, filename = original_name(filename), with_real_extension(filename, content_type)
    retain, audit = False, None
    if kind == DocumentKind.SIGNED_AGREEMENT:
        _ensure_signed_agreement(case, content_type)
        by_department = user.role == Role.OFFICER and user.department_id == case.department_id
        retain = by_department
        audit = {"retention": "signed_agreement" if by_department else "awaiting_confirmation"}
    return store_document(session, store, case=case, kind=kind, filename=filename, content=content, content_type=content_type, user=user,
                          internal=internal, settings=settings, retain=retain, audit=audit, original_filename=original)


def confirm_signed_agreement(session: Session, store: ObjectStore, user: User, case: Case, source: Document,
                             settings: Settings | None = None) -> Document:
    """The case officer confirms the organisation's signed copy: stored again, now under retention, naming its source."""
    ensure_case_officer(user, case)
    if source.kind != DocumentKind.SIGNED_AGREEMENT:
        raise Conflict("Bara ett undertecknat avtal kan bekräftas / only a signed agreement can be confirmed", document_id=source.id)
    _ensure_signed_agreement(case, source.content_type)
    uploader = session.get(User, source.created_by_id) if source.created_by_id else None
    confirmed = session.scalars(select(AuditEvent.after).where(AuditEvent.case_id == case.id,
                                                               AuditEvent.action == "document.signed_agreement_confirmed")).all()
    if (uploader is not None and uploader.role != Role.ORG_MEMBER) or any((a or {}).get("source_document_id") == source.id for a in confirmed):
        raise Conflict("Det undertecknade avtalet är redan bekräftat av förvaltningen / already confirmed by the department",
                       document_id=source.id)
    content = spool_content(store, source)
    doc = store_document(session, store, case=case, kind=DocumentKind.SIGNED_AGREEMENT, filename=source.filename, content=content,
                         content_type=source.content_type, user=user, internal=source.internal, settings=settings, derived_from=source,
                         retain=True, audit={"retention": "signed_agreement"}, original_filename=source.original_filename)
    record(session, actor=user, action="document.signed_agreement_confirmed", case_id=case.id,
           after={"source_document_id": source.id, "document_id": doc.id, "sha256": doc.sha256})
    return doc


def generate(session: Session, store: ObjectStore, user: User | None, case: Case, kind: DocumentKind, today: date | None = None, *,
             review: Review | None = None, settings: Settings | None = None) -> Document:
    """Render the kind's template from the case and store it as a new version.

    A decision document records one decision: ``review`` (default: the latest, a termination included), tied to it by
    ``review_id`` (NULL for a termination, which has no review).
    """
    settings = settings or get_settings()
    today = today or datetime.now(ZoneInfo(settings.timezone)).date()
    if kind == DocumentKind.AGREEMENT and session.scalar(select(Signature.id).where(Signature.case_id == case.id).limit(1)):
        # The signed version is the agreement: drawing it up again would leave two documents and no sign of which one
        # was signed. The terms are frozen too (agreements.service.save_terms); a change needs a tilläggsavtal.
        raise Conflict("Avtalet är undertecknat och kan inte skapas på nytt; den undertecknade versionen gäller "
                       "/ the agreement is signed: the signed version stands")
    review_id = None
    if kind == DocumentKind.DECISION:
        if review is None and not (case.terminated and builders.termination_event(session, case)):
            review = builders.latest_review(session, case)
        context = builders.decision(session, case, today, settings, review=review)
        review_id = review.id if review is not None else None
    else:
        context = builders.BUILDERS[kind](session, case, today, settings)
    rendered = render(context)
    filename = f"{builders.FILENAMES[kind]}-{(case.diarienummer or str(case.id)).replace(' ', '-').replace('/', '-')}.docx"
    doc = store_document(session, store, case=case, kind=kind, filename=filename, content=rendered.content, content_type=DOCX,
                         user=user, template_name=rendered.template_name, template_sha256=rendered.template_sha256,
                         settings=settings, review_id=review_id)
    if kind == DocumentKind.DECISION and signing_keys.configured(settings):
        # Sealed as PDF/A + PAdES with the municipality's certificate after commit (LibreOffice takes seconds; retried).
        emit(session, "decision.seal", {"document_id": doc.id}, case_id=case.id)
    return doc


class PdfaUnavailable(ServiceUnavailable):
    """LibreOffice is not installed: the optional PDF/A feature reports itself unavailable."""

    code = "pdfa-unavailable"
    title = "PDF/A-konvertering är inte tillgänglig / PDF/A conversion not available"


class PdfaConversionFailed(ServiceUnavailable):
    """LibreOffice ran but gave no PDF (timeout, crash, unreadable document)."""

    code = "pdfa-conversion-failed"
    title = "PDF/A-konverteringen misslyckades / PDF/A conversion failed"


class StoredContentCorrupt(AppError):
    """The stored bytes no longer match the row's sha256."""

    status_code = 500
    code = "stored-content-corrupt"
    title = "Lagrat dokument är skadat / Stored document is corrupt"


PDFA_UNAVAILABLE = ("PDF/A-kopior kräver LibreOffice, som inte är installerat på servern / "
                    "PDF/A copies need LibreOffice, which is not installed on this server")
_pdfa_slots: threading.BoundedSemaphore | None = None
_pdfa_slots_lock = threading.Lock()


def _pdfa_slot(settings: Settings) -> threading.BoundedSemaphore:
    """Process-wide limit on concurrent soffice processes (sized once, from the first settings seen)."""
    global _pdfa_slots
    with _pdfa_slots_lock:
        if _pdfa_slots is None:
            _pdfa_slots = threading.BoundedSemaphore(settings.pdfa_max_concurrent)
        return _pdfa_slots


def read_content(store: ObjectStore, doc: Document) -> bytes:
    """The stored bytes of a version, checked against the row's sha256 (503 when storage is down)."""
    data = b"".join(open_content(store, doc))
    if hashlib.sha256(data).hexdigest() != doc.sha256:
        log.error("sha256 mismatch for document %s (%s@%s)", doc.id, doc.storage_key, doc.storage_version_id)
        raise StoredContentCorrupt(f"Dokument {doc.id} stämmer inte med sin kontrollsumma / document {doc.id} fails its checksum")
    return data


def pdfa_copy(session: Session, store: ObjectStore, user: User | None, case: Case, source: Document,
              settings: Settings | None = None) -> Document:
    """Convert a stored .docx to PDF/A-2b and store it as the next version of the same kind.

    The copy keeps the source's kind, template and visibility, and names its source in the
    object metadata and the audit event. 409 for anything but a generated .docx; 503 when
    LibreOffice is not installed, busy or fails.
    """
    settings = settings or get_settings()
    pdf = pdfa_bytes(store, source, settings)
    stem = PurePosixPath(source.filename).stem or "dokument"
    return store_document(session, store, case=case, kind=DocumentKind(source.kind), filename=f"{stem}-v{source.version}.pdf", content=pdf,
                          content_type=PDF_CONTENT_TYPE, user=user, template_name=source.template_name,
                          template_sha256=source.template_sha256, internal=source.internal, settings=settings, derived_from=source,
                          review_id=source.review_id)


def pdfa_bytes(store: ObjectStore, source: Document, settings: Settings) -> bytes:
    """The PDF/A-2b bytes of a generated .docx (LibreOffice, one of pdfa_max_concurrent slots): 409, 503 as pdfa_copy."""
    # Only documents we generated from our own templates: LibreOffice never parses a file a user uploaded.
    if source.content_type != DOCX or source.template_name is None:
        raise Conflict("Bara dokument som systemet har skapat (.docx) kan få en PDF/A-kopia / "
                       "only generated .docx documents can be converted to PDF/A",
                       document_id=source.id, content_type=source.content_type)
    if not pdfa.pdfa_available():
        raise PdfaUnavailable(PDFA_UNAVAILABLE, retry_after=3600)
    return docx_to_pdfa(read_content(store, source), settings, f"document {source.id}")


def docx_to_pdfa(content: bytes, settings: Settings, what: str) -> bytes:
    """PDF/A-2b of a .docx rendered from one of our own templates (one of pdfa_max_concurrent slots); 503 as pdfa_copy."""
    if not pdfa.pdfa_available():
        raise PdfaUnavailable(PDFA_UNAVAILABLE, retry_after=3600)
    slots = _pdfa_slot(settings)
    # No waiting for a slot: the request holds a database connection meanwhile; busy is an honest 503.
    if not slots.acquire(blocking=False):
        raise ServiceUnavailable("PDF/A-konverteringen är upptagen; försök igen om en stund / PDF/A conversion busy, retry later", retry_after=30)
    started = time.monotonic()
    try:
        pdf = pdfa.convert_to_pdfa(content, timeout=settings.pdfa_timeout_seconds)
    except PdfConversionUnavailable as exc:
        raise PdfaUnavailable(PDFA_UNAVAILABLE, retry_after=3600) from exc
    except PdfConversionError as exc:
        log.warning("PDF/A conversion of %s failed: %s", what, exc)
        raise PdfaConversionFailed("LibreOffice kunde inte konvertera dokumentet / LibreOffice could not convert the document",
                                   retry_after=60) from exc
    finally:
        slots.release()
    log.info("%s converted to PDF/A-2b in %.2f s (%d bytes)", what, time.monotonic() - started, len(pdf))
    return pdf


@dataclass
class Upload:
    """Bytes of an upload in a (spooled) temporary file, with their size, sha256 and type by magic bytes."""

    file: BinaryIO
    size: int
    sha256: str
    content_type: str

    def read(self) -> bytes:
        """The whole content (for the small files that are parsed, e.g. templates)."""
        self.file.seek(0)
        return self.file.read()


def _seekable(stream: BinaryIO) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, OSError, ValueError):
        return False


def spool_upload(stream: BinaryIO, limit: int) -> Upload:
    """Check an upload where it lies: at most `limit` bytes (413 beyond, reading stops there), an allowed type by magic
    bytes (415 otherwise), hashed on the way. A seekable stream (the server's spooled form file) is used as it is;
    anything else is copied to a SpooledTemporaryFile. Memory stays at one chunk whatever the size.
    """
    source = stream if _seekable(stream) else None
    spool = None if source is not None else tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
    if source is not None:
        source.seek(0)
    digest, size, head = hashlib.sha256(), 0, b""
    while chunk := stream.read(UPLOAD_CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Filen är större än {limit // (1024 * 1024)} MB / file exceeds {limit} bytes", limit_bytes=limit)
        digest.update(chunk)
        if len(head) < 8192:
            head += chunk[: 8192 - len(head)]
        if spool is not None:
            spool.write(chunk)
    kind = filetype.guess(head) if head else None
    if kind is None or kind.mime not in ALLOWED_UPLOADS:
        raise UnsupportedMediaType(
            "Tillåtna filtyper: PDF, Word (docx), OpenDocument (odt), Excel (xlsx), PNG och JPEG / allowed: pdf, docx, odt, xlsx, png, jpg",
            detected=kind.mime if kind else None,
        )
    file = source if source is not None else spool
    file.seek(0)
    return Upload(file=file, size=size, sha256=digest.hexdigest(), content_type=kind.mime)


def read_upload(stream: BinaryIO, limit: int) -> tuple[bytes, str]:
    """spool_upload's checks, returning the bytes themselves (for small files that are parsed whole: templates)."""
    upload = spool_upload(stream, limit)
    return upload.read(), upload.content_type


def spool_content(store: ObjectStore, doc: Document) -> Upload:
    """A stored version copied to a spool file and checked against the row's sha256 (to store it again, e.g. confirmed)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
    digest, size = hashlib.sha256(), 0
    for chunk in open_content(store, doc):
        spool.write(chunk)
        digest.update(chunk)
        size += len(chunk)
    if digest.hexdigest() != doc.sha256:
        spool.close()
        log.error("sha256 mismatch for document %s (%s@%s)", doc.id, doc.storage_key, doc.storage_version_id)
        raise StoredContentCorrupt(f"Dokument {doc.id} stämmer inte med sin kontrollsumma / document {doc.id} fails its checksum")
    spool.seek(0)
    return Upload(file=spool, size=size, sha256=doc.sha256, content_type=doc.content_type)  # type: ignore[arg-type]


class StoredObjectMissing(AppError):
    """The row's object is not in the store, or the store holds other bytes under its key (e.g. after a restore)."""

    status_code = 409
    code = "stored-object-missing"
    title = "Dokumentets fil finns inte i lagringen / The document's file is not in storage"


class DocumentDisposed(AppError):
    """The handling was gallrad under the informationshanteringsplan: the row and its diary entry remain, the file not."""

    status_code = 410
    code = "document-disposed"
    title = "Handlingen är gallrad / The document has been disposed of"


def open_content(store: ObjectStore, doc: Document) -> Iterator[bytes]:
    """Stream a stored version (after a restore into a new bucket: the key's version with the row's sha256).

    Storage down is a 503; a missing object or one with other bytes is a 409 that says so, never the wrong file; a
    gallrad document is a 410.
    """
    if doc.disposed_at is not None:
        raise DocumentDisposed(f"Dokument {doc.id} är gallrat ({doc.disposed_at:%Y-%m-%d}, gallringsbeslut {doc.disposal_decision_id}) / "
                               f"document {doc.id} was disposed of", document_id=doc.id, disposal_decision_id=doc.disposal_decision_id)
    try:
        it, opened = open_verified(store, doc.storage_key, doc.storage_version_id, doc.sha256)
        first = next(it, b"")  # fail here, before the response starts, if storage is down
    except StorageUnavailable as exc:
        raise ServiceUnavailable(UNAVAILABLE, retry_after=30) from exc
    except ObjectNotFound as exc:
        log.error("document %s: no object at %s (%s)", doc.id, doc.storage_key, exc)
        raise StoredObjectMissing(f"Dokument {doc.id} saknas i dokumentlagringen; återställ lagringen / "
                                  f"document {doc.id} is missing from storage; restore the bucket", document_id=doc.id) from exc
    except ContentMismatch as exc:
        log.error("document %s: %s", doc.id, exc)
        raise StoredObjectMissing(f"Lagringen har en annan fil än den registrerade för dokument {doc.id} / storage holds "
                                  f"different bytes than recorded for document {doc.id} (sha256 {doc.sha256})",
                                  document_id=doc.id) from exc
    if opened != doc.storage_version_id:
        log.info("document %s: version %s unknown to the store, read %s with the same sha256 (restored bucket?)",
                 doc.id, doc.storage_version_id, opened)

    def gen() -> Iterator[bytes]:
        yield first
        yield from it

    return gen()


# Prefixes under which every object belongs to a Document row (case documents, board minutes).
DOCUMENT_PREFIXES = ("cases/", "organisations/")


@dataclass
class SweepResult:
    """What one orphan sweep did (entries are ``key@version_id``)."""

    removed: list[str] = field(default_factory=list)
    # Orphans under retention (a signed agreement whose commit failed): kept, and removed by
    # a later sweep once the retention has ended.
    locked: list[str] = field(default_factory=list)
    # Deletes the store refused for another reason; retried by the next sweep.
    failed: list[str] = field(default_factory=list)
    scanned: int = 0

    def summary(self) -> dict[str, int]:
        """Counts, e.g. for a flow's return value."""
        return {"scanned": self.scanned, "removed": len(self.removed), "locked": len(self.locked), "failed": len(self.failed)}


def sweep_orphans(session: Session, store: ObjectStore, *, older_than: timedelta = timedelta(hours=1), now: datetime | None = None,
                  prefixes: tuple[str, ...] = DOCUMENT_PREFIXES, end_read: Callable[[], None] | None = None) -> SweepResult:
    """Delete stored versions that no Document row refers to (left by a failed commit).

    Only versions older than ``older_than`` are touched, so an upload whose transaction is
    still open is never taken for an orphan; each candidate is checked against the database
    once more right before it is deleted. Versions under retention are skipped (``locked``).
    Storage being unreachable raises StorageUnavailable: the sweep is simply run again later.
    ``end_read`` (e.g. ``session.rollback``) is called after every read, so a long listing holds no
    transaction open (on SQLite every transaction takes the write lock).
    """
    end_read = end_read or (lambda: None)
    cutoff = (now or utcnow()) - older_than
    rows = session.execute(select(Document.storage_key, Document.storage_version_id)).all()
    end_read()
    known = {(k, v) for k, v in rows}
    any_version = {k for k, v in rows if v is None}  # a row without a version id claims every version of its key
    result = SweepResult()
    for prefix in prefixes:
        for info in store.list_versions(prefix):
            result.scanned += 1
            if (info.key, info.version_id) in known or info.key in any_version or info.last_modified is None or info.last_modified > cutoff:
                continue
            referenced = _referenced(session, info.key, info.version_id)
            end_read()
            if referenced:
                continue  # committed after the listing above
            name = f"{info.key}@{info.version_id}"
            try:
                store.delete(info.key, info.version_id)
            except ObjectLocked:
                log.info("orphan %s is under retention; kept until it ends", name)
                result.locked.append(name)
                continue
            except StorageUnavailable:
                raise
            except StorageError as exc:
                log.warning("could not delete orphan %s: %s", name, exc)
                result.failed.append(name)
                continue
            log.info("deleted orphaned object %s", name)
            result.removed.append(name)
    return result


def _referenced(session: Session, key: str, version_id: str) -> bool:
    """True when a (possibly just committed) row refers to this version of the key."""
    row = session.execute(select(Document.storage_version_id).where(Document.storage_key == key).limit(1)).first()
    return row is not None and row[0] in (None, version_id)
