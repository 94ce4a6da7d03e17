"""open_verified on both stores: the pinned version, else (a restored copy) the key's version with the recorded sha256."""

from __future__ import annotations

import hashlib

import pytest

from storage.base import ContentMismatch, ObjectNotFound, ObjectStore, open_verified
from storage.filesystem import new_version_id

KEY = "cases/1/attachment/20261204T000000Z-0a1b2c3d/bilaga.pdf"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _foreign_version_id(store: ObjectStore) -> str:
    # What a row restored beside a copied bucket pins: an id of the other bucket, in this store's format.
    return new_version_id() if type(store).__name__ == "FilesystemStore" else "6712162d9bc07657ae2c4f4e9907718d"


def test_the_pinned_version_is_read_when_the_store_has_it(store: ObjectStore) -> None:
    old = store.put(KEY, b"first", content_type="application/pdf")
    store.put(KEY, b"second", content_type="application/pdf")
    chunks, opened = open_verified(store, KEY, old.version_id, _sha(b"first"))
    assert b"".join(chunks) == b"first" and opened == old.version_id


def test_an_unknown_version_id_falls_back_to_the_version_with_the_recorded_sha256(store: ObjectStore) -> None:
    wanted = store.put(KEY, b"the recorded bytes", content_type="application/pdf")
    store.put(KEY, b"a later version", content_type="application/pdf")  # newest, but not the recorded bytes
    chunks, opened = open_verified(store, KEY, _foreign_version_id(store), _sha(b"the recorded bytes"))
    assert b"".join(chunks) == b"the recorded bytes" and opened == wanted.version_id


def test_other_bytes_under_the_key_are_a_mismatch_never_served(store: ObjectStore) -> None:
    store.put(KEY, b"someone else's file", content_type="application/pdf")
    with pytest.raises(ContentMismatch):
        open_verified(store, KEY, _foreign_version_id(store), _sha(b"the recorded bytes"))


def test_a_key_without_versions_is_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        open_verified(store, KEY, _foreign_version_id(store), _sha(b"x"))
    with pytest.raises(ObjectNotFound):
        open_verified(store, KEY, None, _sha(b"x"))
