"""Object storage for case documents: an ObjectStore protocol with filesystem and S3 backends."""

from storage.base import (
    ContentMismatch,
    ObjectInfo,
    ObjectLocked,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StorageUnavailable,
    StoredObject,
    open_verified,
    validate_key,
)
from storage.factory import store_from_url
from storage.filesystem import FilesystemStore
from storage.s3 import S3Store

__all__ = [
    "ContentMismatch",
    "FilesystemStore",
    "ObjectInfo",
    "ObjectLocked",
    "ObjectNotFound",
    "ObjectStore",
    "S3Store",
    "StorageError",
    "StorageUnavailable",
    "StoredObject",
    "open_verified",
    "store_from_url",
    "validate_key",
]
