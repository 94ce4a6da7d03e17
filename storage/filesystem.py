"""Local-filesystem ObjectStore: the embedded default, with emulated versioning and retention."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import datetime, timedelta, UTC
from pathlib import Path
from typing import Any, BinaryIO

from storage.base import (
    CHUNK_SIZE,
    ObjectInfo,
    ObjectLocked,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
    StoredObject,
    iter_source,
    validate_content_type,
    validate_key,
    validate_metadata,
    validate_prefix,
    validate_retain_until,
)

# Each key is a directory "<last segment>.versions" holding "<vid>.data" + "<vid>.json".
# The suffix keeps key "a/b" (dir a/b.versions) apart from key "a/b/c" (dir a/b/c.versions);
# intermediate segments may not end with it, so a ".versions" directory is always a key.
VERSIONS_SUFFIX = ".versions"
_DATA = ".data"
_META = ".json"
_TMP_PREFIX = ".tmp-"
_VERSION_ID_RE = re.compile(r"^[0-9a-f]{26}$")

_vid_lock = threading.Lock()
_last_vid_ns = 0


def new_version_id() -> str:
    """Return a unique version id that sorts by creation time (16 hex ns + 10 hex random)."""
    global _last_vid_ns
    with _vid_lock:
        # Strictly increasing within the process even if the wall clock steps back,
        # so "newest sorts last" holds for every writer in this process.
        now = max(time.time_ns(), _last_vid_ns + 1)
        _last_vid_ns = now
    # The random tail keeps ids from different processes unique within one nanosecond.
    return f"{now:016x}{secrets.token_hex(5)}"


def _fsync_dir(path: Path) -> None:
    """Flush a directory entry so a rename inside it survives a crash."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _SourceError(Exception):
    """Carries an exception raised by the caller's data stream past the OSError mapping."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _guarded(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Re-raise failures of the source stream as _SourceError.

    A client dropping mid-upload raises OSError too; it must not be reported as
    "storage unavailable".
    """
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except Exception as exc:
            raise _SourceError(exc) from exc
        yield chunk


def _parse_dt(value: str | None) -> datetime | None:
    """Parse an ISO timestamp written by this module."""
    return datetime.fromisoformat(value) if value else None


class FilesystemStore:
    """Versioned object store in a local directory tree.

    Every put writes a new immutable version file plus a JSON sidecar; the sidecar is
    the commit record, so a version becomes visible only once both are in place.
    Retention is enforced by this class's delete (not by the operating system).
    """

    def __init__(self, root: Path | str) -> None:
        """Use (and create) ``root`` as the store directory."""
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        """Show the root for logs."""
        return f"FilesystemStore({str(self.root)!r})"

    @property
    def supports_object_lock(self) -> bool:
        """Retention is enforced on delete, so retain_until is always honoured."""
        return True

    # -- paths and records -------------------------------------------------------

    def _key_dir(self, key: str) -> Path:
        """Directory holding the versions of ``key``."""
        validate_key(key)
        *parents, leaf = key.split("/")
        if any(p.endswith(VERSIONS_SUFFIX) for p in parents):
            raise ValueError(f"object key directory may not end with {VERSIONS_SUFFIX!r}: {key!r}")
        return self.root.joinpath(*parents, leaf + VERSIONS_SUFFIX)

    def _read_record(self, key_dir: Path, version_id: str) -> dict[str, Any] | None:
        """Load one sidecar, or None when that version does not exist."""
        if not _VERSION_ID_RE.match(version_id):
            # Version ids become file names: anything else is unknown, never a path.
            return None
        try:
            with open(key_dir / f"{version_id}{_META}", encoding="utf-8") as fh:
                return json.load(fh)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except json.JSONDecodeError as exc:
            # Sidecars are written atomically, so this means on-disk damage.
            raise StorageError(f"corrupt version record {key_dir}/{version_id}: {exc}") from exc

    def _version_ids(self, key_dir: Path) -> list[str]:
        """Committed version ids of a key directory, newest first."""
        try:
            names = os.listdir(key_dir)
        except (FileNotFoundError, NotADirectoryError):
            return []
        ids = [n[: -len(_META)] for n in names if n.endswith(_META) and not n.startswith(".")]
        return sorted((i for i in ids if _VERSION_ID_RE.match(i)), reverse=True)

    def _records(self, key_dir: Path) -> list[dict[str, Any]]:
        """All records of a key (delete markers included), newest first."""
        records = []
        for vid in self._version_ids(key_dir):
            record = self._read_record(key_dir, vid)
            if record is not None:  # may vanish under a concurrent delete
                records.append(record)
        return records

    def _resolve(self, key: str, version_id: str | None) -> tuple[Path, dict[str, Any], bool]:
        """Find the record for a read: (key dir, record, is_latest) or ObjectNotFound."""
        key_dir = self._key_dir(key)
        try:
            if version_id is None:
                for vid in self._version_ids(key_dir):
                    record = self._read_record(key_dir, vid)
                    if record is None:
                        continue
                    if record.get("delete_marker"):
                        break
                    return key_dir, record, True
                raise ObjectNotFound(f"no such key: {key}")
            record = self._read_record(key_dir, version_id)
            if record is None or record.get("delete_marker"):
                raise ObjectNotFound(f"no such version: {key} @ {version_id}")
            ids = self._version_ids(key_dir)
            return key_dir, record, bool(ids) and ids[0] == version_id
        except OSError as exc:
            raise StorageUnavailable(f"filesystem store unreadable: {exc}") from exc

    @staticmethod
    def _info(record: dict[str, Any], is_latest: bool) -> ObjectInfo:
        """Convert a sidecar record to ObjectInfo."""
        return ObjectInfo(
            key=record["key"],
            version_id=record["version_id"],
            size=record["size"],
            last_modified=datetime.fromisoformat(record["created_at"]),
            is_latest=is_latest,
            content_type=record.get("content_type"),
            sha256=record.get("sha256"),
            etag=None,
            metadata=dict(record.get("metadata") or {}),
            retain_until=_parse_dt(record.get("retain_until")),
        )

    def _commit_record(self, key_dir: Path, record: dict[str, Any]) -> None:
        """Atomically write the sidecar that makes a version visible."""
        vid = record["version_id"]
        tmp = key_dir / f"{_TMP_PREFIX}{vid}{_META}"
        try:
            with open(tmp, "x", encoding="utf-8") as fh:
                json.dump(record, fh, ensure_ascii=False, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, key_dir / f"{vid}{_META}")
        except BaseException:
            with suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise

    # -- ObjectStore ---------------------------------------------------------------

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
        """Write a new version atomically (temp file, fsync, rename, then sidecar)."""
        key_dir = self._key_dir(key)
        content_type = validate_content_type(content_type)
        meta = validate_metadata(metadata)
        retain = validate_retain_until(retain_until)
        vid = new_version_id()
        tmp = key_dir / f"{_TMP_PREFIX}{vid}{_DATA}"
        digest = hashlib.sha256()
        size = 0
        try:
            key_dir.mkdir(parents=True, exist_ok=True)
            try:
                with open(tmp, "xb") as fh:
                    for chunk in _guarded(iter_source(data, length)):
                        fh.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, key_dir / f"{vid}{_DATA}")
            except BaseException:
                with suppress(OSError):
                    tmp.unlink(missing_ok=True)
                raise
            record = {
                "key": key,
                "version_id": vid,
                "size": size,
                "sha256": digest.hexdigest(),
                "content_type": content_type,
                "metadata": meta,
                "retain_until": retain.isoformat() if retain else None,
                "created_at": datetime.now(UTC).isoformat(),
                "delete_marker": False,
            }
            self._commit_record(key_dir, record)
            _fsync_dir(key_dir)
            # The key directory may be new; make its own entry durable too.
            _fsync_dir(key_dir.parent)
        except _SourceError as exc:
            raise exc.error from None
        except OSError as exc:
            with suppress(OSError):
                (key_dir / f"{vid}{_DATA}").unlink(missing_ok=True)
            if exc.errno == errno.ENAMETOOLONG:
                raise ValueError(f"object key too long for this filesystem: {key!r}") from exc
            raise StorageUnavailable(f"filesystem store write failed: {exc}") from exc
        return StoredObject(key=key, version_id=vid, size=size, sha256=digest.hexdigest())

    def get(self, key: str, version_id: str | None = None) -> bytes:
        """Read a whole version into memory."""
        return b"".join(self.open(key, version_id))

    def open(self, key: str, version_id: str | None = None) -> Iterator[bytes]:
        """Open the version now (so missing objects fail here) and stream it in chunks."""
        key_dir, record, _ = self._resolve(key, version_id)
        try:
            fh = open(key_dir / f"{record['version_id']}{_DATA}", "rb")
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"version deleted while opening: {key}") from exc
        except OSError as exc:
            raise StorageUnavailable(f"filesystem store unreadable: {exc}") from exc
        return self._chunks(fh)

    @staticmethod
    def _chunks(fh: BinaryIO) -> Iterator[bytes]:
        """Yield file chunks and always close the file."""
        try:
            while chunk := fh.read(CHUNK_SIZE):
                yield chunk
        except OSError as exc:
            raise StorageUnavailable(f"filesystem store read failed: {exc}") from exc
        finally:
            fh.close()

    def stat(self, key: str, version_id: str | None = None) -> ObjectInfo:
        """Describe a version from its sidecar."""
        _, record, is_latest = self._resolve(key, version_id)
        return self._info(record, is_latest)

    def delete(self, key: str, version_id: str | None = None) -> None:
        """Remove a version (refused under retention) or add a delete marker to the key."""
        key_dir = self._key_dir(key)
        try:
            if version_id is None:
                records = self._records(key_dir)
                if not records or records[0].get("delete_marker"):
                    return  # nothing current to hide
                # Like S3: a delete marker hides the key but keeps every version readable.
                vid = new_version_id()
                self._commit_record(
                    key_dir,
                    {
                        "key": key,
                        "version_id": vid,
                        "size": 0,
                        "created_at": datetime.now(UTC).isoformat(),
                        "delete_marker": True,
                    },
                )
                _fsync_dir(key_dir)
                return
            record = self._read_record(key_dir, version_id)
            if record is None:
                return
            retain = _parse_dt(record.get("retain_until"))
            if retain is not None and retain > datetime.now(UTC):
                raise ObjectLocked(f"{key} @ {version_id} is retained until {retain.isoformat()}")
            # Sidecar first: once it is gone the version is invisible, even if we crash.
            (key_dir / f"{version_id}{_META}").unlink(missing_ok=True)
            (key_dir / f"{version_id}{_DATA}").unlink(missing_ok=True)
            _fsync_dir(key_dir)
        except OSError as exc:
            raise StorageUnavailable(f"filesystem store delete failed: {exc}") from exc

    def list_versions(self, prefix: str) -> list[ObjectInfo]:
        """List versions of keys starting with ``prefix`` (string prefix, like S3)."""
        validate_prefix(prefix)
        # Only the directory part of the prefix narrows the walk; the rest is filtered.
        base = self.root.joinpath(*prefix.split("/")[:-1]) if "/" in prefix else self.root
        result: list[ObjectInfo] = []

        def on_error(exc: OSError) -> None:
            """Fail the listing on real I/O errors."""
            # os.walk ignores errors by default; only "nothing stored there yet" is benign.
            if not isinstance(exc, FileNotFoundError):
                raise exc

        try:
            for dirpath, dirnames, _ in os.walk(base, onerror=on_error):
                key_dirs = [n for n in dirnames if n.endswith(VERSIONS_SUFFIX)]
                # Key directories hold only version files: no need to descend into them.
                dirnames[:] = [n for n in dirnames if not n.endswith(VERSIONS_SUFFIX)]
                for name in key_dirs:
                    key_dir = Path(dirpath, name)
                    key = key_dir.relative_to(self.root).as_posix()[: -len(VERSIONS_SUFFIX)]
                    if not key.startswith(prefix):
                        continue
                    records = self._records(key_dir)
                    for i, record in enumerate(records):
                        if not record.get("delete_marker"):
                            result.append(self._info(record, is_latest=i == 0))
        except OSError as exc:
            raise StorageUnavailable(f"filesystem store unreadable: {exc}") from exc
        # Newest first within a key; version ids sort by creation time.
        result.sort(key=lambda info: info.version_id, reverse=True)
        result.sort(key=lambda info: info.key)
        return result

    def exists(self, key: str) -> bool:
        """True when the latest record of ``key`` is a real version."""
        try:
            self._resolve(key, None)
        except ObjectNotFound:
            return False
        return True

    def ping(self) -> None:
        """Prove the root is writable with a throwaway file (catches read-only/stale mounts)."""
        probe = self.root / f"{_TMP_PREFIX}ping-{secrets.token_hex(6)}"
        try:
            with open(probe, "xb") as fh:
                fh.write(b"ok")
            probe.unlink()
        except OSError as exc:
            raise StorageUnavailable(f"filesystem store not writable: {exc}") from exc

    def probe_write(self) -> None:
        """A throwaway file written and removed in the root (what ping does)."""
        self.ping()

    def presigned_url(self, key: str, version_id: str | None, expires: timedelta) -> str | None:
        """Filesystem objects have no URL of their own; downloads go through the API."""
        validate_key(key)
        return None
