"""Document endpoints: generate, upload, list, metadata, download."""

from __future__ import annotations

import concurrent.futures
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from service.auth.models import Role
from service.cases.access import documents_shown, ensure_case_officer, get_visible_case
from service.cases.models import Case
from service.deps import AppSettings, CurrentUser, DbSession
from service.documents import service
from service.documents.builders import BUILDERS
from service.documents.models import Document, DocumentKind
from service.errors import PROBLEM_JSON, PayloadTooLarge, ValidationFailed
from service.schemas import Id, ORMModel
from service.idempotency import IdempotencyKey
from service.reviews.service import get_review
from service.probes import READY_PROBES
from service.config import get_settings
from storage.probe import CachedProbe
from storage.base import ObjectStore

router = APIRouter(tags=["documents"])
Store = Annotated[ObjectStore, Depends(service.get_store)]
UPLOAD_KINDS = {DocumentKind.ATTACHMENT, DocumentKind.SIGNED_AGREEMENT}


class DocumentOut(ORMModel):
    """Document metadata."""

    id: int
    case_id: int | None
    kind: DocumentKind
    version: int
    filename: str
    original_filename: str | None = None  # the uploader's own name for the file
    content_type: str
    size: int
    sha256: str
    storage_version_id: str | None
    template_name: str | None
    template_sha256: str | None
    internal: bool
    review_id: int | None = None  # the decision a beslut document records
    created_at: datetime
    disposed_at: datetime | None = None  # gallrad: the row stays, the file is deleted (its content is a 410)
    disposal_decision_id: int | None = None


def _visible_doc(session, user, case_id: int, doc_id: int) -> Document:  # noqa: ANN001
    return service.get_visible_document(session, user, get_visible_case(session, user, case_id), doc_id)


@router.post("/cases/{case_id}/documents/{kind}/generate", response_model=DocumentOut, status_code=201)
def generate(case_id: Id, kind: DocumentKind, session: DbSession, user: CurrentUser, store: Store, settings: AppSettings,
             review_id: Annotated[Id | None, Query(description="Beslutet som dokumentet gäller (decision) / the review a decision "
                                                              "document records; default: the latest decision")] = None) -> Document:
    """Generate the kind's document from the case as a new version (a decision: of one review, default the latest)."""
    case = get_visible_case(session, user, case_id)
    ensure_case_officer(user, case)
    if kind not in BUILDERS:
        raise ValidationFailed(errors=[{"field": "kind", "message": f"Kan inte genereras; välj en av {sorted(k.value for k in BUILDERS)}"}])
    review = None
    if review_id is not None:
        if kind != DocumentKind.DECISION:
            raise ValidationFailed(errors=[{"field": "review_id", "message": "Bara för beslut (decision) / only for decision documents"}])
        review = get_review(session, case, review_id)
    return service.generate(session, store, user, case, kind, review=review, settings=settings)


@router.post("/cases/{case_id}/attachments", response_model=DocumentOut, status_code=201)
def upload(
    case_id: Id, request: Request, session: DbSession, user: CurrentUser, store: Store, settings: AppSettings,
    file: Annotated[UploadFile, File()], idem: IdempotencyKey, kind: Annotated[DocumentKind, Form()] = DocumentKind.ATTACHMENT,
    internal: Annotated[bool, Form()] = False,
) -> object:
    """Upload an attachment or the signed agreement (type checked by magic bytes, size limited)."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > settings.upload_limit_bytes + 64 * 1024:
        raise PayloadTooLarge(f"Filen är större än {settings.upload_limit_bytes // (1024 * 1024)} MB / file too large")
    case = get_visible_case(session, user, case_id)
    if kind not in UPLOAD_KINDS:
        raise ValidationFailed(errors=[{"field": "kind", "message": "attachment eller signed_agreement"}])
    if user.role == Role.ORG_MEMBER:
        internal = False  # organisations cannot hide documents from themselves
    else:
        ensure_case_officer(user, case)
    # Checked and hashed where the server spooled it (memory: one chunk), then streamed to storage.
    upload = service.spool_upload(file.file, settings.upload_limit_bytes)
    filename = file.filename or f"bilaga.{service.ALLOWED_UPLOADS[upload.content_type]}"
    fingerprint = {"sha256": upload.sha256, "filename": filename, "kind": kind.value, "internal": internal}
    return idem.run(session, user.id, fingerprint, DocumentOut, lambda: service.upload_document(
        session, store, user, case, kind=kind, filename=filename, content=upload, content_type=upload.content_type, internal=internal,
        settings=settings))


@router.post("/cases/{case_id}/documents/{doc_id}/confirm", response_model=DocumentOut, status_code=201)
def confirm_signed(case_id: Id, doc_id: Id, session: DbSession, user: CurrentUser, store: Store, settings: AppSettings) -> Document:
    """The case officer confirms the organisation's signed agreement: stored again as the next version, under retention."""
    doc = _visible_doc(session, user, case_id, doc_id)
    case = session.get(Case, doc.case_id)
    return service.confirm_signed_agreement(session, store, user, case, doc, settings)


@router.get("/cases/{case_id}/documents", response_model=list[DocumentOut])
def list_documents(case_id: Id, session: DbSession, user: CurrentUser) -> list[Document]:
    """Documents of a case (internal ones hidden from the organisation)."""
    case = get_visible_case(session, user, case_id)
    stmt = select(Document).where(Document.case_id == case.id, documents_shown(user))
    return list(session.scalars(stmt.order_by(Document.kind, Document.version)))


@router.get("/cases/{case_id}/documents/{doc_id}", response_model=DocumentOut)
def document_metadata(case_id: Id, doc_id: Id, session: DbSession, user: CurrentUser) -> Document:
    """One document's metadata."""
    return _visible_doc(session, user, case_id, doc_id)


# Stored bytes go out as stored: an allowed upload type or a generated .docx (never JSON).
BINARY_CONTENT = {200: {"description": "Filens innehåll / the file's bytes",
                        "content": {mime: {"schema": {"type": "string", "format": "binary"}} for mime in service.ALLOWED_UPLOADS}}}


@router.get("/cases/{case_id}/documents/{doc_id}/content", response_class=StreamingResponse, responses=BINARY_CONTENT)
def download(case_id: Id, doc_id: Id, session: DbSession, user: CurrentUser, store: Store) -> StreamingResponse:
    """Stream the stored bytes through the API, with authorisation."""
    doc = _visible_doc(session, user, case_id, doc_id)
    body = service.open_content(store, doc)
    return StreamingResponse(body, media_type=doc.content_type, headers={
        "Content-Disposition": service.content_disposition(doc.filename),
        "Content-Length": str(doc.size), "ETag": f'"{doc.sha256}"', "X-Content-SHA256": doc.sha256,
    })


_PROBLEM = {"content": {PROBLEM_JSON: {"schema": {"type": "object"}}}}


@router.post("/cases/{case_id}/documents/{doc_id}/pdf", response_model=DocumentOut, status_code=201, responses={
    409: {**_PROBLEM, "description": "Dokumentet är inte en .docx / the document is not a .docx"},
    503: {**_PROBLEM, "description": "LibreOffice saknas, är upptaget eller misslyckades, eller lagringen svarar inte / "
                                     "LibreOffice missing, busy or failed, or storage down"},
})
def pdf_copy(case_id: Id, doc_id: Id, session: DbSession, user: CurrentUser, store: Store, settings: AppSettings) -> Document:
    """Store a PDF/A-2b copy of a .docx document (LibreOffice) as the next version of the same kind."""
    doc = _visible_doc(session, user, case_id, doc_id)
    case = session.get(Case, doc.case_id)  # already loaded by the visibility check
    ensure_case_officer(user, case)
    return service.pdfa_copy(session, store, user, case, doc, settings)


# ------------------------------------------------------------------ readiness

# /ready must answer quickly even when storage hangs (a frozen S3 server, a stale NFS mount):
# the check runs on a small pool of its own and counts as failed after this many seconds.
STORAGE_PROBE_TIMEOUT = 5.0
_probe_pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="iop-storage-probe")


_write_probe = CachedProbe()


def storage_probe() -> None:
    """Readiness of the configured object store: a probe write and delete, reused for storage_probe_cache_seconds.

    A store that answers reads but refuses writes (S3 right after a restart) is not ready.
    """
    store = service.get_store()

    def bounded() -> None:
        future = _probe_pool.submit(store.probe_write)
        try:
            future.result(timeout=STORAGE_PROBE_TIMEOUT)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"storage did not answer within {STORAGE_PROBE_TIMEOUT:.0f} s") from None

    _write_probe.check(store, get_settings().storage_probe_cache_seconds, bounded)


READY_PROBES.setdefault("storage", storage_probe)
