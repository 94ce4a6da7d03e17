"""Which template a kind renders with: the active upload, named by a small pointer object in the object store.

The pointer (``doctemplates/<kind>/active.json``) is the one record of the choice, so every process that renders
(API, web, flows) sees the same template without a database session of its own; no pointer means the shipped file.
Template bytes are immutable per stored version and kept in memory once read (checked against their sha256).
``candidate()`` lets a check or preview render given bytes through the very same render path.
Importing this module registers the lookup with service.documents.rendering.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from service.doctemplates.kinds import BY_TEMPLATE_NAME, TemplateKind
from service.documents import rendering
from service.documents import service as documents
from service.errors import ServiceUnavailable
from storage.base import ObjectNotFound, ObjectStore, StorageError, open_verified

_candidate: ContextVar[tuple[str, bytes, str] | None] = ContextVar("doctemplate_candidate", default=None)
_bytes: dict[tuple[str, str], bytes] = {}
_bytes_lock = threading.Lock()


def pointer_key(kind: TemplateKind) -> str:
    """Where a kind's active choice is stored."""
    return f"doctemplates/{kind.value}/active.json"


def read_pointer(store: ObjectStore, kind: TemplateKind) -> dict[str, Any] | None:
    """The active version's pointer ({version, key, version_id, sha256}) or None for the shipped file."""
    try:
        return json.loads(store.get(pointer_key(kind)))
    except ObjectNotFound:
        return None
    except StorageError as exc:
        # Rendering with the shipped file instead would silently produce the wrong document.
        raise ServiceUnavailable(documents.UNAVAILABLE, retry_after=30) from exc


def stored_bytes(store: ObjectStore, key: str, version_id: str, sha256: str) -> bytes:
    """A stored template version's bytes, read once per process."""
    cached = _bytes.get((key, version_id))
    if cached is None:
        try:
            # After a restore into a new bucket the pinned version id is unknown: the key's version with this sha256.
            cached = b"".join(open_verified(store, key, version_id, sha256)[0])
        except StorageError as exc:
            raise ServiceUnavailable(documents.UNAVAILABLE, retry_after=30) from exc
        if hashlib.sha256(cached).hexdigest() != sha256:
            raise ServiceUnavailable("Mallen i lagringen är skadad / stored template does not match its checksum")
        with _bytes_lock:
            _bytes[(key, version_id)] = cached
    return cached


@contextmanager
def candidate(template_name: str, data: bytes, recorded_name: str) -> Iterator[None]:
    """Within the block, renders of ``template_name`` use ``data`` (a check, a preview)."""
    token = _candidate.set((template_name, data, recorded_name))
    try:
        yield
    finally:
        _candidate.reset(token)


def resolve(template_name: str) -> tuple[bytes, str, str] | None:
    """The rendering hook: (bytes, sha256, recorded name) of the template to use, None for the shipped file."""
    trial = _candidate.get()
    if trial is not None and trial[0] == template_name:
        return trial[1], hashlib.sha256(trial[1]).hexdigest(), trial[2]
    kind = BY_TEMPLATE_NAME.get(template_name)
    if kind is None:
        return None
    store = documents.get_store()
    pointer = read_pointer(store, kind)
    if pointer is None:
        return None
    data = stored_bytes(store, pointer["key"], pointer["version_id"], pointer["sha256"])
    return data, pointer["sha256"], recorded_name(template_name, pointer["version"])


def recorded_name(template_name: str, version: int) -> str:
    """What a document row records as its template: ``beslut.docx@v3`` for the municipality's third upload."""
    return f"{template_name}@v{version}"


if resolve not in rendering.TEMPLATE_OVERRIDES:
    rendering.TEMPLATE_OVERRIDES.append(resolve)
