"""Upload, check, list, preview and activate a municipality's own templates (the API and any page call these).

A .docx is accepted for a kind only if every variable it uses at the top level is a field of that kind's render
context (docxtpl's undeclared-variable check; an unknown one is a 422 naming it) and a test render with sample
data succeeds in the same sandboxed, autoescaping environment documents are rendered in (an unknown attribute,
a filter misused, anything the sandbox refuses: 422 with the reason). Accepted versions are stored under
``doctemplates/<kind>/v<N>/`` and never change; activating one writes the kind's pointer (service.doctemplates.active),
version 0 being the shipped file (activating it removes the pointer). Every upload and activation is audited.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from docxtpl import DocxTemplate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.audit.service import record
from service.db import utcnow
from service.auth.models import User
from service.doctemplates import active
from service.doctemplates.kinds import CONTEXTS, TemplateKind, shipped_name
from service.doctemplates.models import DocumentTemplate
from service.doctemplates.samples import sample_context
from service.documents import rendering
from service.documents import service as documents
from service.errors import NotFound, ServiceUnavailable, UnsupportedMediaType, ValidationFailed
from storage.base import ObjectLocked, ObjectStore, StorageError, StorageUnavailable

log = logging.getLogger(__name__)

AUDIT_STREAM = "document-templates"


@dataclass(frozen=True, slots=True)
class TemplateFile:
    """A template version's bytes and how to name them."""

    version: int
    filename: str
    content: bytes


def allowed_variables(kind: TemplateKind) -> list[str]:
    """The top-level names a template of this kind may use (its context's fields)."""
    return sorted(CONTEXTS[kind].model_fields)


def check(kind: TemplateKind, content: bytes) -> list[str]:
    """The variables an upload uses, after refusing unknown ones and a failing test render (422)."""
    try:
        template = DocxTemplate(io.BytesIO(content))
        used = template.get_undeclared_template_variables(jinja_env=rendering.make_environment())
    except Exception as exc:  # noqa: BLE001 - a broken .docx or template syntax: the uploader's to fix
        raise ValidationFailed(f"Mallen kan inte läsas / the template cannot be read: {exc}",
                               errors=[{"field": "file", "message": f"ogiltig mall / invalid template: {exc}"}]) from exc
    unknown = sorted(set(used) - set(CONTEXTS[kind].model_fields))
    if unknown:
        raise ValidationFailed(
            f"Okända variabler i mallen: {', '.join(unknown)} / unknown template variables: {', '.join(unknown)}",
            errors=[{"field": "file", "message": f"okänd variabel / unknown variable: {name}"} for name in unknown],
            unknown_variables=unknown, allowed_variables=allowed_variables(kind))
    try:
        preview(kind, content)
    except Exception as exc:  # noqa: BLE001 - TemplateRenderError, a filter's TypeError, a sandbox refusal
        raise ValidationFailed(f"Provrenderingen misslyckades / test render failed: {exc}",
                               errors=[{"field": "file", "message": f"provrendering / test render: {exc}"}]) from exc
    return sorted(used)


def preview(kind: TemplateKind, content: bytes, recorded_name: str = "preview") -> bytes:
    """``content`` rendered with sample data through the documents' own render path (sandbox, autoescape)."""
    name = shipped_name(kind)
    with active.candidate(name, content, recorded_name):
        return rendering.render(sample_context(CONTEXTS[kind])).content


def versions(session: Session, kind: TemplateKind) -> list[DocumentTemplate]:
    """A kind's uploaded versions, oldest first."""
    stmt = select(DocumentTemplate).where(DocumentTemplate.kind == kind.value).order_by(DocumentTemplate.version)
    return list(session.scalars(stmt))


def active_version(store: ObjectStore, kind: TemplateKind) -> int:
    """The version a kind renders with now (0: the shipped file)."""
    pointer = active.read_pointer(store, kind)
    return 0 if pointer is None else int(pointer["version"])


def get_version(session: Session, kind: TemplateKind, version: int) -> DocumentTemplate:
    """One uploaded version (404 if there is none)."""
    row = session.scalar(select(DocumentTemplate).where(DocumentTemplate.kind == kind.value, DocumentTemplate.version == version))
    if row is None:
        raise NotFound("Mallversionen finns inte / template version not found")
    return row


def upload(session: Session, store: ObjectStore, admin: User, kind: TemplateKind, filename: str, content: bytes,
           content_type: str) -> DocumentTemplate:
    """Check an uploaded .docx and store it as the kind's next version (not active until activated)."""
    if content_type != documents.DOCX:
        raise UnsupportedMediaType("Mallen måste vara en Word-fil (.docx) / the template must be a .docx", detected=content_type)
    variables = check(kind, content)
    version = (session.scalar(select(func.max(DocumentTemplate.version)).where(DocumentTemplate.kind == kind.value)) or 0) + 1
    name = documents.safe_filename(filename)
    if not name.lower().endswith(".docx"):
        name = f"{name}.docx"
    key = f"doctemplates/{kind.value}/v{version}/{name}"
    try:
        obj = store.put(key, content, length=len(content), content_type=documents.DOCX, metadata={"kind": kind.value})
    except StorageUnavailable as exc:
        raise ServiceUnavailable(documents.UNAVAILABLE, retry_after=30) from exc
    row = DocumentTemplate(kind=kind.value, version=version, filename=name, size=obj.size, sha256=obj.sha256, storage_key=key,
                           storage_version_id=obj.version_id, variables=variables, created_by_id=admin.id)
    session.add(row)
    session.flush()
    record(session, actor=admin, action="document_template.uploaded", stream=AUDIT_STREAM,
           after={"kind": kind.value, "version": version, "sha256": obj.sha256, "template_id": row.id})
    return row


def content_of(session: Session, store: ObjectStore, kind: TemplateKind, version: int) -> TemplateFile:
    """A version's bytes: 0 is the shipped file, others come from the object store."""
    if version == 0:
        data, _ = rendering.load_template(rendering.template_path(shipped_name(kind)))
        return TemplateFile(0, shipped_name(kind), data)
    row = get_version(session, kind, version)
    return TemplateFile(version, row.filename, active.stored_bytes(store, row.storage_key, row.storage_version_id, row.sha256))


def preview_of(session: Session, store: ObjectStore, kind: TemplateKind, version: int) -> TemplateFile:
    """A version rendered with sample data."""
    source = content_of(session, store, kind, version)
    rendered = preview(kind, source.content, active.recorded_name(shipped_name(kind), version))
    return TemplateFile(version, f"forhandsvisning-{kind.value}-v{version}.docx", rendered)


def activate(session: Session, store: ObjectStore, admin: User, kind: TemplateKind, version: int) -> int:
    """Make ``version`` the one the next generation of ``kind`` uses (0: back to the shipped file); the active version.

    Audited first, then the pointer is written: storage down is a 503 and the request rolls back.
    """
    before = active_version(store, kind)
    row = get_version(session, kind, version) if version else None
    record(session, actor=admin, action="document_template.activated", stream=AUDIT_STREAM,
           before={"kind": kind.value, "version": before},
           after={"kind": kind.value, "version": version, "sha256": row.sha256 if row else None})
    try:
        if row is None:
            store.delete(active.pointer_key(kind))
        else:
            pointer = {"version": row.version, "key": row.storage_key, "version_id": row.storage_version_id, "sha256": row.sha256}
            store.put(active.pointer_key(kind), json_bytes(pointer), content_type="application/json", metadata={"kind": kind.value})
    except StorageError as exc:
        raise ServiceUnavailable(documents.UNAVAILABLE, retry_after=30) from exc
    return version


def json_bytes(value: object) -> bytes:
    """Compact JSON."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def sweep_orphans(session: Session, store: ObjectStore, *, older_than: timedelta, now: datetime | None = None,
                  end_read: Callable[[], None] | None = None) -> documents.SweepResult:
    """Delete stored template versions no row refers to (an upload whose commit failed); pointers are kept.

    As for documents: only versions older than ``older_than``, each checked once more right before it goes.
    """
    end_read = end_read or (lambda: None)
    cutoff = (now or utcnow()) - older_than
    known = {(k, v) for k, v in session.execute(select(DocumentTemplate.storage_key, DocumentTemplate.storage_version_id))}
    end_read()
    pointers = {active.pointer_key(kind) for kind in TemplateKind}
    result = documents.SweepResult()
    for info in store.list_versions("doctemplates/"):
        result.scanned += 1
        if info.key in pointers or (info.key, info.version_id) in known or info.last_modified > cutoff:
            continue
        again = session.scalar(select(DocumentTemplate.id).where(DocumentTemplate.storage_key == info.key,
                                                                 DocumentTemplate.storage_version_id == info.version_id))
        end_read()
        if again is not None:
            continue  # committed after the listing above
        name = f"{info.key}@{info.version_id}"
        try:
            store.delete(info.key, info.version_id)
        except ObjectLocked:
            result.locked.append(name)
        except StorageUnavailable:
            raise
        except StorageError as exc:
            log.warning("could not delete orphaned template %s: %s", name, exc)
            result.failed.append(name)
        else:
            log.info("deleted orphaned template %s", name)
            result.removed.append(name)
    return result
