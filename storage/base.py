"""The ObjectStore protocol, its value types, errors and shared validation helpers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, UTC
from typing import BinaryIO, Protocol, runtime_checkable

# Read/write granularity for streaming; large enough to keep syscall overhead low,
# small enough that a download response starts quickly.
CHUNK_SIZE = 256 * 1024

# S3 limits keys to 1024 UTF-8 bytes. Segments are capped so the filesystem store can
# hold any key its S3 sibling accepts (NAME_MAX is 255, and it appends a suffix).
MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 240

# User metadata travels as HTTP headers (x-amz-meta-*), so keys and values must be
# header-safe; enforcing it for every store keeps backends interchangeable.
_META_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_META_VALUE_RE = re.compile(r"^[\x20-\x7e]{0,1024}$")
RESERVED_METADATA_KEYS = frozenset({"sha256"})

# Where probe_write puts its object: outside every document prefix, so the orphan sweep never sees it.
PROBE_KEY = "_probe/ready"


class StorageError(Exception):
    """Base class for object store failures."""


class StorageUnavailable(StorageError):
    """The backend cannot be reached or is not answering (maps to 503 + Retry-After)."""


class ObjectNotFound(StorageError):
    """The key, or the requested version of it, does not exist."""


class ObjectLocked(StorageError):
    """A delete was refused because the version is under retention."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    """Result of a successful put: the new immutable version."""

    key: str
    version_id: str
    size: int
    sha256: str
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """Description of one stored version.

    ``list_versions`` on S3 cannot return content type, sha256, user metadata or
    retention without one request per version, so those fields may be None/empty
    there; ``stat`` always fills them.
    """

    key: str
    version_id: str
    size: int
    last_modified: datetime
    is_latest: bool
    content_type: str | None = None
    sha256: str | None = None
    etag: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    retain_until: datetime | None = None


@runtime_checkable
class ObjectStore(Protocol):
    """Versioned, write-once object storage used for case documents."""

    @property
    def supports_object_lock(self) -> bool:
        """True when ``retain_until`` on put is enforced by this store's delete."""
        ...

    def put(
        self,
        key: str,
        data: bytes | BinaryIO,
        *,
        length: int | None = None,
        content_type: str,
        metadata: dict[str, str] | None = None,
        retain_until: datetime | None = None,
    ) -> StoredObject:
        """Store ``data`` as a new version of ``key`` and return its version id and sha256."""
        ...

    def get(self, key: str, version_id: str | None = None) -> bytes:
        """Return the whole content of a version (latest when ``version_id`` is None)."""
        ...

    def open(self, key: str, version_id: str | None = None) -> Iterator[bytes]:
        """Return an iterator of chunks; lookup errors are raised by this call, not lazily."""
        ...

    def stat(self, key: str, version_id: str | None = None) -> ObjectInfo:
        """Describe a version without reading its content."""
        ...

    def delete(self, key: str, version_id: str | None = None) -> None:
        """Remove a version permanently, or hide the key (delete marker) without one.

        Idempotent: deleting something that does not exist is not an error.
        Raises ObjectLocked when the version is under retention.
        """
        ...

    def list_versions(self, prefix: str) -> list[ObjectInfo]:
        """List all versions (no delete markers) of keys starting with ``prefix``.

        Ordered by key, newest version first within a key.
        """
        ...

    def exists(self, key: str) -> bool:
        """True when the key has a current (not deleted) version."""
        ...

    def ping(self) -> None:
        """Check that the store is usable; raise StorageUnavailable otherwise."""
        ...

    def probe_write(self) -> None:
        """Write a tiny object and remove it again; StorageUnavailable when either is refused.

        What readiness needs: a store that answers reads but refuses writes (an S3 whose volume
        server is not back yet after a restart) is not ready for uploads.
        """
        ...

    def presigned_url(self, key: str, version_id: str | None, expires: timedelta) -> str | None:
        """Return a short-lived download URL, or None when the backend has none."""
        ...


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a safe object key, else raise ValueError."""
    if not isinstance(key, str) or not key:
        raise ValueError("object key must be a non-empty string")
    if key.startswith("/"):
        raise ValueError(f"object key must not start with '/': {key!r}")
    if "\\" in key:
        raise ValueError(f"object key must not contain a backslash: {key!r}")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        # NUL truncates C paths; other control characters break headers and logs.
        raise ValueError(f"object key must not contain control characters: {key!r}")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise ValueError(f"object key is longer than {MAX_KEY_BYTES} bytes")
    for segment in key.split("/"):
        # Empty and dot segments would be collapsed by a filesystem, aliasing keys.
        if segment in ("", ".", ".."):
            raise ValueError(f"object key has an empty, '.' or '..' segment: {key!r}")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise ValueError(f"object key segment is longer than {MAX_SEGMENT_BYTES} bytes")
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it is usable for listing (may be empty or end with '/')."""
    if not isinstance(prefix, str):
        raise ValueError("prefix must be a string")
    if prefix == "":
        return prefix
    # A prefix is a key-in-progress: validate it as a key, allowing a trailing slash.
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def validate_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Return a normalised copy of user metadata, raising ValueError for unsafe entries."""
    if not metadata:
        return {}
    result: dict[str, str] = {}
    for raw_key, value in metadata.items():
        key = raw_key.lower()
        if not _META_KEY_RE.match(key):
            raise ValueError(f"metadata key must match [a-z0-9-]: {raw_key!r}")
        if key in RESERVED_METADATA_KEYS:
            raise ValueError(f"metadata key {raw_key!r} is reserved")
        if not isinstance(value, str) or not _META_VALUE_RE.match(value):
            raise ValueError(f"metadata value for {raw_key!r} must be printable ASCII")
        result[key] = value
    return result


def validate_retain_until(retain_until: datetime | None) -> datetime | None:
    """Return ``retain_until`` in UTC; it must be timezone-aware and in the future."""
    if retain_until is None:
        return None
    if retain_until.tzinfo is None or retain_until.utcoffset() is None:
        raise ValueError("retain_until must be timezone-aware")
    value = retain_until.astimezone(UTC)
    # S3 rejects retention dates in the past; refuse them everywhere for parity.
    if value <= datetime.now(UTC):
        raise ValueError("retain_until must be in the future")
    return value


def validate_content_type(content_type: str) -> str:
    """Return ``content_type`` if it is a plausible header value, else raise ValueError."""
    if not content_type or not _META_VALUE_RE.match(content_type) or "/" not in content_type:
        raise ValueError(f"invalid content type: {content_type!r}")
    return content_type


def iter_source(data: bytes | BinaryIO, length: int | None) -> Iterator[bytes]:
    """Yield chunks of ``data``; with ``length`` set, exactly that many bytes or ValueError."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(data)
        if length is not None and length != len(view):
            raise ValueError(f"length={length} does not match {len(view)} bytes of data")
        for start in range(0, len(view), CHUNK_SIZE):
            yield bytes(view[start : start + CHUNK_SIZE])
        return
    if length is not None and length < 0:
        raise ValueError("length must be >= 0")
    remaining = length
    while remaining is None or remaining > 0:
        want = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
        chunk = data.read(want)
        if not chunk:
            if remaining:
                raise ValueError(f"stream ended {remaining} bytes short of length={length}")
            return
        if remaining is not None:
            remaining -= len(chunk)
        yield bytes(chunk)


class ContentMismatch(StorageError):
    """The key is there, but no version of it has the sha256 the caller recorded."""


def open_verified(store: ObjectStore, key: str, version_id: str | None, sha256: str) -> tuple[Iterator[bytes], str | None]:
    """Open the pinned version of ``key``, or after a restore the version whose sha256 is ``sha256``.

    Rows pin version ids, but a bucket restored by copying (``mc mirror``, ``mc cp --versions``) gives every object
    new ones. When the store does not know ``version_id``, the key's versions are tried newest first and the first
    whose sha256 (metadata, or computed by reading it when a copy lost the metadata) equals ``sha256`` is opened:
    never other bytes. Returns (chunks, the version id actually opened). Raises ObjectNotFound when the key has no
    version at all, ContentMismatch when it has versions but none with that sha256, StorageUnavailable as usual.
    """
    try:
        return store.open(key, version_id), version_id
    except ObjectNotFound:
        if version_id is None:
            raise
    versions = [info for info in store.list_versions(key) if info.key == key]
    for listed in versions:
        digest = listed.sha256 or store.stat(key, listed.version_id).sha256
        if digest is None:
            hasher = hashlib.sha256()
            for chunk in store.open(key, listed.version_id):
                hasher.update(chunk)
            digest = hasher.hexdigest()
        if digest == sha256:
            return store.open(key, listed.version_id), listed.version_id
    if not versions:
        raise ObjectNotFound(f"no version of {key} (pinned {version_id})")
    raise ContentMismatch(f"{key}: version {version_id} is unknown and none of {len(versions)} versions has sha256 {sha256}")
