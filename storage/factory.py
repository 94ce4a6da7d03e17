"""Build an ObjectStore from the IOP_STORAGE_URL setting."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from storage.base import ObjectStore
from storage.filesystem import FilesystemStore
from storage.s3 import S3Store

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _flag(value: str) -> bool:
    """Parse a boolean query parameter strictly."""
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _filesystem_path(url: str) -> Path:
    """Map file:// URLs to a path; ``file://./x`` and ``file:x`` are relative to the cwd."""
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError(f"file storage URL takes no query or fragment: {url!r}")
    path = unquote(parts.path)
    if parts.netloc in (".", ".."):
        # urlsplit reads "file://./var/objects" as host "." + path "/var/objects".
        return Path(parts.netloc + path)
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"file storage URL must not name a host: {url!r}")
    if not path:
        raise ValueError(f"file storage URL has no path: {url!r}")
    return Path(path)


def store_from_url(
    url: str,
    *,
    endpoint: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    secure: bool = False,
    region: str | None = None,
    object_lock: bool | None = None,
) -> ObjectStore:
    """Return FilesystemStore for ``file://`` URLs and S3Store for ``s3://bucket``.

    S3 URLs may carry ``?object_lock=true`` and ``?region=...``; explicit keyword
    arguments win over the query string.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        return FilesystemStore(_filesystem_path(url))
    if scheme != "s3":
        raise ValueError(f"unsupported storage URL scheme {scheme!r} (use file:// or s3://)")

    parts = urlsplit(url)
    bucket = parts.netloc
    if not bucket or parts.path not in ("", "/") or parts.fragment:
        raise ValueError(f"S3 storage URL must be s3://<bucket>: {url!r}")
    query = {k: v[-1] for k, v in parse_qs(parts.query, strict_parsing=False).items()}
    unknown = set(query) - {"object_lock", "region"}
    if unknown:
        raise ValueError(f"unknown S3 storage URL parameters: {sorted(unknown)}")
    if object_lock is None:
        object_lock = _flag(query["object_lock"]) if "object_lock" in query else False
    region = region or query.get("region")

    if not endpoint:
        raise ValueError("an S3 endpoint (IOP_S3_ENDPOINT) is required for s3:// storage")
    if "://" in endpoint:
        # Accept "http(s)://host:port" too; minio wants bare host:port plus a secure flag.
        ep = urlsplit(endpoint)
        if ep.scheme not in ("http", "https") or ep.path not in ("", "/"):
            raise ValueError(f"S3 endpoint must be host:port or http(s)://host:port: {endpoint!r}")
        endpoint, secure = ep.netloc, ep.scheme == "https"
    return S3Store(
        endpoint,
        access_key,
        secret_key,
        bucket,
        secure=secure,
        region=region,
        object_lock=object_lock,
    )
