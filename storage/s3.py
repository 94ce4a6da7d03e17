"""S3-compatible ObjectStore (MinIO, SeaweedFS, AWS S3) on the ``minio`` client."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, UTC
from typing import BinaryIO

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE, ENABLED, GOVERNANCE
from minio.datatypes import Object
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.helpers import check_bucket_name
from minio.retention import Retention
from minio.versioningconfig import VersioningConfig

from storage.base import (
    CHUNK_SIZE,
    PROBE_KEY,
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

log = logging.getLogger(__name__)

SHA256_METADATA_KEY = "sha256"
_META_PREFIX = "x-amz-meta-"
_RETAIN_UNTIL_HEADER = "x-amz-object-lock-retain-until-date"

# minio holds one part in memory per upload: 8 MiB bounds an upload's memory (eight parallel 25 MB uploads: 64 MiB)
# while keeping the largest document (25 MB upload limit) at four parts.
PART_SIZE = 8 * 1024 * 1024
# Non-seekable uploads are spooled to compute sha256 before the request; small ones stay in RAM.
SPOOL_MAX_MEMORY = 1024 * 1024

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "NoSuchObject"})
_BUSY_CODES = frozenset(
    {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "XMinioServerNotInitialized"}
)
_LOCK_REFUSAL_CODES = frozenset({"AccessDenied", "ObjectLocked", "InvalidRequest"})


# A healthy but busy server (eight parallel 24 MB uploads on two cores) takes seconds to take in and answer a large
# request; a dead one answers nothing. Requests with a body get read_timeout plus this much per MiB of body (parts are
# at most PART_SIZE, so a put never waits more than about 3 + 8 x 1.5 s before it is called an outage).
READ_SECONDS_PER_MIB = 1.5
_MIB = 1024 * 1024


class _SizedTimeouts(urllib3.PoolManager):
    """A PoolManager whose read timeout grows with the size of the request body."""

    def __init__(self, *, connect_timeout: float, read_timeout: float, per_mib: float, **kw: object) -> None:
        super().__init__(timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout), **kw)
        self._connect_timeout, self._read_timeout, self._per_mib = connect_timeout, read_timeout, per_mib

    def urlopen(self, method: str, url: str, redirect: bool = True, **kw: object) -> urllib3.BaseHTTPResponse:
        """Send the request with a read timeout for its body's size (minio sends parts as bytes)."""
        body = kw.get("body")
        size = len(body) if isinstance(body, (bytes, bytearray, memoryview)) else 0
        if size and "timeout" not in kw:
            kw["timeout"] = urllib3.Timeout(connect=self._connect_timeout, read=self._read_timeout + self._per_mib * size / _MIB)
        return super().urlopen(method, url, redirect=redirect, **kw)


def make_http_client(connect_timeout: float = 2.0, read_timeout: float = 3.0,
                     read_seconds_per_mib: float = READ_SECONDS_PER_MIB) -> urllib3.PoolManager:
    """Return a PoolManager that gives up on a dead endpoint within seconds, allowing large bodies time in proportion.

    minio's default (5-minute timeouts, 5 retries with backoff) would hold an API request
    for minutes when storage is down; the spec wants a quick 503 instead. A fixed 3 s for a
    24 MB put made a healthy server under parallel uploads look down, so bodies add
    ``read_seconds_per_mib`` per MiB.
    """
    return _SizedTimeouts(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        per_mib=read_seconds_per_mib,
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(
            total=1,
            connect=1,  # a refused/timed-out connect never reached the server: safe to retry
            read=0,  # a read timeout already cost read_timeout; retrying would break the bound
            redirect=0,
            status=1,
            other=0,
            backoff_factor=0.2,
            status_forcelist=(500, 502, 503, 504),
            # Hand the final 5xx to minio so it surfaces as an S3Error with the server's code.
            raise_on_status=False,
        ),
    )


def _seekable(stream: object) -> bool:
    """True for a stream that can be read twice (hashed, then sent) by seeking back."""
    try:
        return bool(stream.seekable()) and isinstance(stream.tell(), int)  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


def _translate(exc: BaseException, what: str) -> BaseException:
    """Map a minio/urllib3/socket exception to a StorageError (others pass through)."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, S3Error):
        status = getattr(exc.response, "status", 0) or 0
        if exc.code in _NOT_FOUND_CODES:
            return ObjectNotFound(f"{what}: {exc.code}")
        if exc.code in _BUSY_CODES or status >= 500:
            return StorageUnavailable(f"{what}: server error {exc.code}: {exc.message}")
        return StorageError(f"{what}: {exc.code}: {exc.message}")
    if isinstance(exc, ServerError):
        return StorageUnavailable(f"{what}: HTTP {exc.status_code} from storage")
    if isinstance(exc, InvalidResponseError):
        # Typically an HTML error page from a proxy in front of a dead backend.
        if getattr(exc, "_code", 0) >= 500:
            return StorageUnavailable(f"{what}: {exc}")
        return StorageError(f"{what}: {exc}")
    if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
        # MaxRetryError, timeouts, protocol errors, refused connections, resets.
        return StorageUnavailable(f"{what}: storage unreachable: {exc}")
    return exc


@contextmanager
def _s3_errors(what: str) -> Iterator[None]:
    """Re-raise backend exceptions as StorageError subclasses."""
    try:
        yield
    except Exception as exc:
        mapped = _translate(exc, what)
        if mapped is exc:
            raise
        raise mapped from exc


@contextmanager
def _foreign_version(version_id: str | None, what: str) -> Iterator[None]:
    """A version id this server cannot even parse (AWS: 400 InvalidArgument) is a version it does not have.

    That is what a row restored beside a copied bucket pins: the fallback to the key needs ObjectNotFound.
    """
    try:
        yield
    except S3Error as exc:
        if version_id is not None and exc.code == "InvalidArgument":
            raise ObjectNotFound(f"{what}: {exc.code}: {exc.message}") from exc
        raise


def _user_metadata(headers: object) -> tuple[dict[str, str], str | None, datetime | None]:
    """Split response headers into (user metadata, sha256, retain_until)."""
    metadata: dict[str, str] = {}
    sha256: str | None = None
    retain_until: datetime | None = None
    for name, value in getattr(headers, "items", lambda: [])():
        lower = name.lower()
        if lower.startswith(_META_PREFIX):
            meta_key = lower[len(_META_PREFIX) :]
            if meta_key == SHA256_METADATA_KEY:
                sha256 = value
            else:
                metadata[meta_key] = value
        elif lower == _RETAIN_UNTIL_HEADER and value:
            retain_until = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return metadata, sha256, retain_until


class S3Store:
    """Versioned object store in one S3 bucket, created on first use if missing."""

    def __init__(
        self,
        endpoint: str,
        access_key: str | None,
        secret_key: str | None,
        bucket: str,
        secure: bool = False,
        region: str | None = None,
        object_lock: bool = False,
        *,
        retention_mode: str = COMPLIANCE,
        http_client: urllib3.PoolManager | None = None,
    ) -> None:
        """Configure the client; no network traffic happens until the first operation."""
        check_bucket_name(bucket)
        if retention_mode not in (COMPLIANCE, GOVERNANCE):
            raise ValueError(f"retention_mode must be {COMPLIANCE} or {GOVERNANCE}")
        self.endpoint = endpoint
        self.bucket = bucket
        self._object_lock = object_lock
        # COMPLIANCE: nobody, not even an admin with bypass rights, can delete a signed
        # agreement before its retention ends.
        self._retention_mode = retention_mode
        self._client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http_client or make_http_client(),
        )
        self._ready = False
        self._ready_lock = threading.Lock()

    def __repr__(self) -> str:
        """Identify the store in logs without secrets."""
        return f"S3Store(endpoint={self.endpoint!r}, bucket={self.bucket!r})"

    @property
    def supports_object_lock(self) -> bool:
        """True when the store was configured for (and verified to have) object lock."""
        return self._object_lock

    # -- internals ---------------------------------------------------------------

    def _ensure_bucket(self) -> None:
        """Create the bucket (with object lock if configured) and enable versioning, once.

        Done lazily so the application can start while storage is down; a failure
        leaves the flag unset so the next call tries again.
        """
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            with _s3_errors(f"prepare bucket {self.bucket}"):
                if not self._client.bucket_exists(self.bucket):
                    try:
                        # S3 only allows object lock to be enabled when the bucket is created.
                        self._client.make_bucket(self.bucket, object_lock=self._object_lock)
                    except S3Error as exc:
                        # Lost a creation race with another process: the bucket is there now.
                        if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                            raise
                if self._client.get_bucket_versioning(self.bucket).status != ENABLED:
                    self._client.set_bucket_versioning(self.bucket, VersioningConfig(ENABLED))
                if self._object_lock:
                    try:
                        self._client.get_object_lock_config(self.bucket)
                    except S3Error as exc:
                        if exc.code == "ObjectLockConfigurationNotFoundError":
                            raise StorageError(
                                f"bucket {self.bucket!r} exists without object lock; it cannot be "
                                "enabled afterwards, use a new bucket or object_lock=False"
                            ) from exc
                        raise
            self._ready = True

    @staticmethod
    def _prepare(data: bytes | BinaryIO, length: int | None) -> tuple[BinaryIO, int, str, bool]:
        """Return (source positioned at the start, size, sha256 hex, whether put owns the source) for an upload.

        The digest has to be known before the request starts because it travels as a
        header (x-amz-meta-sha256). A seekable stream (an upload spooled to disk) is hashed
        where it is and rewound, with no copy; other streams are hashed while being spooled.
        """
        if isinstance(data, (bytes, bytearray, memoryview)):
            raw = bytes(data)
            if length is not None and length != len(raw):
                raise ValueError(f"length={length} does not match {len(raw)} bytes of data")
            return io.BytesIO(raw), len(raw), hashlib.sha256(raw).hexdigest(), True
        if _seekable(data):
            start = data.tell()
            digest = hashlib.sha256()
            size = 0
            for chunk in iter_source(data, length):
                digest.update(chunk)
                size += len(chunk)
            data.seek(start)
            return data, size, digest.hexdigest(), False
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)
        try:
            digest = hashlib.sha256()
            size = 0
            for chunk in iter_source(data, length):
                spool.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return spool, size, digest.hexdigest(), True  # type: ignore[return-value]

    def _is_retained(self, key: str, version_id: str) -> bool:
        """True when the version has retention in the future (explains an AccessDenied)."""
        try:
            retention = self._client.get_object_retention(self.bucket, key, version_id=version_id)
        except Exception:  # noqa: BLE001 - only used to refine an error we already have
            return False
        until = retention.retain_until_date if retention else None
        return until is not None and until > datetime.now(UTC)

    def _info(self, obj: Object, is_latest: bool) -> ObjectInfo:
        """Build ObjectInfo from a HEAD result."""
        metadata, sha256, retain_until = _user_metadata(obj.metadata)
        return ObjectInfo(
            key=obj.object_name or "",
            version_id=obj.version_id or "null",
            size=obj.size or 0,
            last_modified=obj.last_modified or datetime.fromtimestamp(0, UTC),
            is_latest=is_latest,
            content_type=obj.content_type,
            sha256=sha256,
            etag=obj.etag,
            metadata=metadata,
            retain_until=retain_until,
        )

    @staticmethod
    def _chunks(response: urllib3.BaseHTTPResponse, what: str) -> Iterator[bytes]:
        """Yield response chunks, mapping mid-stream failures, and free the connection."""
        try:
            with _s3_errors(what):
                yield from response.stream(CHUNK_SIZE)
        finally:
            response.close()
            response.release_conn()

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
        """Upload a new version with sha256 in x-amz-meta-sha256 and optional retention."""
        validate_key(key)
        content_type = validate_content_type(content_type)
        meta = validate_metadata(metadata)
        retain = validate_retain_until(retain_until)
        retention = None
        if retain is not None:
            if self._object_lock:
                retention = Retention(self._retention_mode, retain)
            else:
                log.warning("%r has no object lock; retain_until ignored for %s", self, key)
        source, size, sha256, owned = self._prepare(data, length)
        try:
            self._ensure_bucket()
            with _s3_errors(f"put {key}"):
                result = self._client.put_object(
                    self.bucket,
                    key,
                    source,
                    size,
                    content_type=content_type,
                    metadata={**meta, SHA256_METADATA_KEY: sha256},
                    retention=retention,
                    part_size=PART_SIZE,
                    # Sequential parts: bounded memory and errors raised on this thread.
                    num_parallel_uploads=1,
                )
        finally:
            if owned:
                source.close()
        return StoredObject(
            key=key,
            # "null" is S3's own id for objects written while versioning is off.
            version_id=result.version_id or "null",
            size=size,
            sha256=sha256,
            etag=result.etag,
        )

    def get(self, key: str, version_id: str | None = None) -> bytes:
        """Download a whole version into memory."""
        return b"".join(self.open(key, version_id))

    def open(self, key: str, version_id: str | None = None) -> Iterator[bytes]:
        """Start the download now (so errors surface here) and stream it in chunks."""
        validate_key(key)
        self._ensure_bucket()
        what = f"get {key}" + (f" @ {version_id}" if version_id else "")
        with _s3_errors(what), _foreign_version(version_id, what):
            response = self._client.get_object(self.bucket, key, version_id=version_id)
        return self._chunks(response, what)

    def stat(self, key: str, version_id: str | None = None) -> ObjectInfo:
        """HEAD a version; for an explicit version a second HEAD tells whether it is latest."""
        validate_key(key)
        self._ensure_bucket()
        with _s3_errors(f"stat {key}"), _foreign_version(version_id, f"stat {key}"):
            obj = self._client.stat_object(self.bucket, key, version_id=version_id)
        is_latest = True
        if version_id is not None:
            try:
                with _s3_errors(f"stat {key}"):
                    latest = self._client.stat_object(self.bucket, key)
                is_latest = latest.version_id == obj.version_id
            except ObjectNotFound:
                is_latest = False  # the key's current entry is a delete marker
        return self._info(obj, is_latest)

    def delete(self, key: str, version_id: str | None = None) -> None:
        """Delete a version (ObjectLocked under retention) or add a delete marker."""
        validate_key(key)
        self._ensure_bucket()
        what = f"delete {key}" + (f" @ {version_id}" if version_id else "")
        try:
            self._client.remove_object(self.bucket, key, version_id=version_id)
        except S3Error as exc:
            # AccessDenied is also what missing permissions look like: confirm retention.
            if (
                version_id is not None
                and exc.code in _LOCK_REFUSAL_CODES
                and self._is_retained(key, version_id)
            ):
                raise ObjectLocked(f"{what}: version is under retention") from exc
            raise _translate(exc, what) from exc
        except Exception as exc:
            mapped = _translate(exc, what)
            if mapped is exc:
                raise
            raise mapped from exc

    def list_versions(self, prefix: str) -> list[ObjectInfo]:
        """List versions under a prefix (no delete markers; listing has no content type/sha256)."""
        validate_prefix(prefix)
        self._ensure_bucket()
        result: list[ObjectInfo] = []
        with _s3_errors(f"list {prefix!r}"):
            for obj in self._client.list_objects(
                self.bucket, prefix=prefix or None, recursive=True, include_version=True
            ):
                if obj.is_delete_marker:
                    continue
                result.append(
                    ObjectInfo(
                        key=obj.object_name or "",
                        version_id=obj.version_id or "null",
                        size=obj.size or 0,
                        last_modified=obj.last_modified or datetime.fromtimestamp(0, UTC),
                        # minio passes the XML text through ("true"/"false").
                        is_latest=str(obj.is_latest).lower() == "true",
                        etag=obj.etag,
                    )
                )
        # S3 lists each key's versions newest first; version ids need not sort by time
        # (SeaweedFS's do not), so keep that order and only group by key (stable sort).
        result.sort(key=lambda info: info.key)
        return result

    def exists(self, key: str) -> bool:
        """True when the key has a current version."""
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def ping(self) -> None:
        """Check reachability, credentials and bucket; any failure is StorageUnavailable."""
        try:
            self._ensure_bucket()
            with _s3_errors(f"ping {self.bucket}"):
                if not self._client.bucket_exists(self.bucket):
                    self._ready = False  # deleted behind our back; recreate on next use
                    raise StorageUnavailable(f"bucket {self.bucket!r} does not exist")
        except StorageUnavailable:
            raise
        except StorageError as exc:
            # Bad credentials or a misconfigured bucket also make the store unusable.
            raise StorageUnavailable(str(exc)) from exc

    def probe_write(self) -> None:
        """Put a 2-byte version of PROBE_KEY and delete exactly that version (no history piles up)."""
        try:
            stored = self.put(PROBE_KEY, b"ok", content_type="text/plain")
            # A version left by a probe that died between the two calls is harmless: nothing lists _probe/.
            self.delete(PROBE_KEY, stored.version_id)
        except ObjectLocked:
            # A bucket-wide default retention (set by an operator, not by us) keeps even the probe: writes work.
            log.warning("%r: the readiness probe object is under default retention and stays", self)
        except StorageUnavailable:
            raise
        except StorageError as exc:
            # AccessDenied, a read-only bucket, no writable volume: uploads would fail the same way.
            raise StorageUnavailable(str(exc)) from exc

    def presigned_url(self, key: str, version_id: str | None, expires: timedelta) -> str | None:
        """Return a GET URL for one version valid for ``expires`` (1 s to 7 days)."""
        validate_key(key)
        if not timedelta(seconds=1) <= expires <= timedelta(days=7):
            raise ValueError("expires must be between 1 second and 7 days")
        with _s3_errors(f"presign {key}"):
            return self._client.presigned_get_object(
                self.bucket, key, expires=expires, version_id=version_id
            )
