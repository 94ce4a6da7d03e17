"""One behavioural suite run against every ObjectStore implementation on a real backend."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, UTC

import pytest

from storage.base import (
    ObjectLocked,
    ObjectNotFound,
    ObjectStore,
    StoredObject,
)
from storage.filesystem import FilesystemStore

KEY = "cases/42/agreement/v1/iop_avtal.docx"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class NonSeekable(io.RawIOBase):
    """A stream like a network body: readable once, no seek, short reads."""

    def __init__(self, data: bytes, chunk: int = 100_003, fail_after: int | None = None) -> None:
        super().__init__()
        self._data = memoryview(data)
        self._pos = 0
        self._chunk = chunk
        self._fail_after = fail_after

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        if self._fail_after is not None and self._pos >= self._fail_after:
            raise ConnectionResetError("client went away mid-upload")
        n = self._chunk if size is None or size < 0 else min(size, self._chunk)
        out = bytes(self._data[self._pos : self._pos + n])
        self._pos += len(out)
        return out


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_implements_protocol(store: ObjectStore) -> None:
    assert isinstance(store, ObjectStore)


def test_put_get_roundtrip(store: ObjectStore) -> None:
    data = b"PK\x03\x04 avtal om id\xc3\xa9buret offentligt partnerskap"
    result = store.put(KEY, data, content_type=DOCX, metadata={"case-id": "42", "Kind": "agreement"})

    assert isinstance(result, StoredObject)
    assert result.key == KEY
    assert result.size == len(data)
    assert result.sha256 == sha(data)
    assert result.version_id
    assert store.get(KEY) == data
    assert store.get(KEY, result.version_id) == data
    assert store.exists(KEY)

    info = store.stat(KEY)
    assert info.key == KEY
    assert info.version_id == result.version_id
    assert info.size == len(data)
    assert info.content_type == DOCX
    assert info.sha256 == sha(data)
    assert info.metadata == {"case-id": "42", "kind": "agreement"}  # keys are normalised
    assert info.is_latest is True
    assert info.retain_until is None
    assert info.last_modified.tzinfo is not None
    assert abs(info.last_modified - datetime.now(UTC)) < timedelta(minutes=1)


def test_empty_object(store: ObjectStore) -> None:
    result = store.put("cases/1/attachment/v1/empty.txt", b"", content_type="text/plain")
    assert result.size == 0
    assert result.sha256 == sha(b"")
    assert store.get("cases/1/attachment/v1/empty.txt") == b""


def test_sha256_is_of_the_downloaded_bytes_for_streamed_upload(store: ObjectStore) -> None:
    data = os.urandom(700_001)
    result = store.put(KEY, NonSeekable(data), content_type=DOCX)

    downloaded = store.get(KEY, result.version_id)
    assert downloaded == data
    assert result.sha256 == sha(downloaded)
    assert result.size == len(data)
    assert store.stat(KEY, result.version_id).sha256 == sha(downloaded)


def test_large_upload_spanning_several_parts(store: ObjectStore) -> None:
    # 17 MiB exceeds the S3 store's 16 MiB part size, so S3 goes through multipart upload.
    data = os.urandom(17 * 1024 * 1024 + 5)
    result = store.put(KEY, NonSeekable(data, chunk=1 << 20), length=len(data), content_type=DOCX)

    assert result.size == len(data)
    assert result.sha256 == sha(data)
    assert sha(store.get(KEY)) == sha(data)
    assert store.stat(KEY).sha256 == sha(data)


def test_length_reads_exactly_that_many_bytes_from_a_stream(store: ObjectStore) -> None:
    result = store.put(KEY, io.BytesIO(b"0123456789tail"), length=10, content_type="text/plain")
    assert result.size == 10
    assert store.get(KEY) == b"0123456789"


def test_length_mismatch_is_rejected_and_stores_nothing(store: ObjectStore) -> None:
    with pytest.raises(ValueError):
        store.put(KEY, b"abc", length=4, content_type="text/plain")
    with pytest.raises(ValueError):
        store.put(KEY, io.BytesIO(b"abc"), length=4, content_type="text/plain")
    assert not store.exists(KEY)
    assert store.list_versions("cases/") == []


def test_failing_source_stream_leaves_no_version(store: ObjectStore) -> None:
    data = os.urandom(600_000)
    with pytest.raises(ConnectionResetError):
        store.put(KEY, NonSeekable(data, fail_after=300_000), content_type=DOCX)
    assert not store.exists(KEY)
    assert store.list_versions("") == []


def test_versions_accumulate_and_old_versions_stay_readable(store: ObjectStore) -> None:
    contents = [f"version {i}".encode() * (i + 1) for i in range(3)]
    results = [store.put(KEY, c, content_type="text/plain") for c in contents]

    ids = [r.version_id for r in results]
    assert len(set(ids)) == 3
    assert store.get(KEY) == contents[-1]
    for result, content in zip(results, contents):
        assert store.get(KEY, result.version_id) == content
        assert store.stat(KEY, result.version_id).sha256 == sha(content)
    assert store.stat(KEY, ids[0]).is_latest is False
    assert store.stat(KEY, ids[-1]).is_latest is True

    listed = store.list_versions(KEY)
    assert [v.version_id for v in listed] == ids[::-1]  # newest first
    assert [v.is_latest for v in listed] == [True, False, False]
    assert [v.size for v in listed] == [len(c) for c in contents[::-1]]
    assert {v.key for v in listed} == {KEY}


def test_missing_objects_raise_object_not_found(store: ObjectStore) -> None:
    other = store.put("cases/1/other.txt", b"x", content_type="text/plain")

    with pytest.raises(ObjectNotFound):
        store.get("cases/1/missing.txt")
    with pytest.raises(ObjectNotFound):
        store.stat("cases/1/missing.txt")
    with pytest.raises(ObjectNotFound):
        store.open("cases/1/missing.txt")  # raised by the call itself, before iteration
    # A real version id, but of another key.
    with pytest.raises(ObjectNotFound):
        store.get("cases/1/missing.txt", other.version_id)
    store.put(KEY, b"y", content_type="text/plain")
    with pytest.raises(ObjectNotFound):
        store.get(KEY, other.version_id)
    with pytest.raises(ObjectNotFound):
        store.stat(KEY, other.version_id)
    assert store.exists("cases/1/missing.txt") is False


def test_open_streams_in_chunks(store: ObjectStore) -> None:
    data = os.urandom(1024 * 1024 + 17)
    result = store.put(KEY, data, content_type="application/pdf")

    chunks = store.open(KEY, result.version_id)
    assert isinstance(chunks, Iterator)
    first = next(chunks)
    rest = list(chunks)
    assert len(rest) >= 1, "a 1 MiB object should arrive in more than one chunk"
    assert all(len(c) > 0 for c in rest)
    assert first + b"".join(rest) == data


def test_list_versions_uses_string_prefixes(store: ObjectStore) -> None:
    store.put("cases/1/a.pdf", b"a", content_type="application/pdf")
    store.put("cases/1/b.pdf", b"b1", content_type="application/pdf")
    store.put("cases/1/b.pdf", b"b2", content_type="application/pdf")
    store.put("cases/10/c.pdf", b"c", content_type="application/pdf")
    store.put("cases/2/d.pdf", b"d", content_type="application/pdf")

    under_1 = store.list_versions("cases/1/")
    assert [v.key for v in under_1] == ["cases/1/a.pdf", "cases/1/b.pdf", "cases/1/b.pdf"]
    assert [v.size for v in under_1] == [1, 2, 2]
    assert {v.key for v in store.list_versions("cases/1")} == {
        "cases/1/a.pdf",
        "cases/1/b.pdf",
        "cases/10/c.pdf",
    }
    assert len(store.list_versions("")) == 5
    assert store.list_versions("cases/3/") == []
    assert store.list_versions("nothing") == []


def test_a_key_and_a_longer_key_below_it_coexist(store: ObjectStore) -> None:
    store.put("cases/1/doc", b"parent", content_type="text/plain")
    store.put("cases/1/doc/child", b"child", content_type="text/plain")
    assert store.get("cases/1/doc") == b"parent"
    assert store.get("cases/1/doc/child") == b"child"
    assert [v.key for v in store.list_versions("cases/1/doc")] == ["cases/1/doc", "cases/1/doc/child"]


INVALID_KEYS = [
    "",
    "/cases/1/a.pdf",
    "cases/../secrets",
    "..",
    "cases/1/..",
    "cases\\1\\a.pdf",
    "cases/1/a\x00.pdf",
    "cases//1/a.pdf",
    "cases/1/",
    "./cases/1/a.pdf",
    "cases/1/a\n.pdf",
    "a" * 1025,
    "cases/" + "x" * 241,
]


@pytest.mark.parametrize("bad_key", INVALID_KEYS, ids=range(len(INVALID_KEYS)))
def test_invalid_keys_are_rejected(store: ObjectStore, bad_key: str) -> None:
    with pytest.raises(ValueError):
        store.put(bad_key, b"x", content_type="text/plain")
    for call in (store.get, store.stat, store.open, store.delete, store.exists):
        with pytest.raises(ValueError):
            call(bad_key)
    assert store.list_versions("") == []


def test_unicode_and_spaces_in_keys_are_fine(store: ObjectStore) -> None:
    key = "cases/7/attachment/v1/Styrelseprotokoll årsmöte 2025.pdf"
    store.put(key, b"%PDF-1.7", content_type="application/pdf")
    assert store.get(key) == b"%PDF-1.7"
    assert [v.key for v in store.list_versions("cases/7/")] == [key]


@pytest.mark.parametrize(
    "metadata",
    [{"sha256": "forged"}, {"note": "åäö"}, {"bad key": "x"}, {"x": "line\nbreak"}],
    ids=["reserved", "non-ascii", "space-in-key", "newline"],
)
def test_unsafe_metadata_is_rejected(store: ObjectStore, metadata: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        store.put(KEY, b"x", content_type="text/plain", metadata=metadata)
    assert not store.exists(KEY)


def test_delete_without_version_hides_the_key_but_keeps_versions(store: ObjectStore) -> None:
    v1 = store.put(KEY, b"one", content_type="text/plain")
    store.delete(KEY)

    assert store.exists(KEY) is False
    with pytest.raises(ObjectNotFound):
        store.get(KEY)
    assert store.get(KEY, v1.version_id) == b"one"
    listed = store.list_versions(KEY)
    assert [v.version_id for v in listed] == [v1.version_id]
    assert listed[0].is_latest is False

    v2 = store.put(KEY, b"two", content_type="text/plain")
    assert store.get(KEY) == b"two"
    assert store.stat(KEY).version_id == v2.version_id


def test_delete_of_a_version_removes_only_that_version(store: ObjectStore) -> None:
    v1 = store.put(KEY, b"one", content_type="text/plain")
    v2 = store.put(KEY, b"two", content_type="text/plain")
    store.delete(KEY, v2.version_id)

    assert store.get(KEY) == b"one"
    with pytest.raises(ObjectNotFound):
        store.get(KEY, v2.version_id)
    assert [v.version_id for v in store.list_versions(KEY)] == [v1.version_id]


def test_delete_is_idempotent(store: ObjectStore) -> None:
    v1 = store.put(KEY, b"one", content_type="text/plain")
    store.delete(KEY, v1.version_id)
    store.delete(KEY, v1.version_id)
    store.delete("cases/9/never-written.txt")
    assert store.list_versions("") == []


def test_ping_succeeds_on_a_healthy_store(store: ObjectStore) -> None:
    store.ping()


def test_concurrent_writers(store: ObjectStore) -> None:
    errors: list[BaseException] = []
    results: list[tuple[str, bytes, StoredObject]] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        try:
            for i in range(4):
                # Half the writers share one key, the rest have their own.
                key = "cases/5/shared.txt" if n % 2 else f"cases/5/own-{n}.txt"
                payload = f"writer {n} put {i} ".encode() * 50
                stored = store.put(key, payload, content_type="text/plain")
                with lock:
                    results.append((key, payload, stored))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert len(results) == 32
    assert len({stored.version_id for _, _, stored in results}) == 32
    for key, payload, stored in results:
        assert store.get(key, stored.version_id) == payload
    assert len(store.list_versions("cases/5/")) == 32
    assert len(store.list_versions("cases/5/shared.txt")) == 16


# -- retention -------------------------------------------------------------------


def test_store_reports_object_lock_support(locked_store: ObjectStore) -> None:
    assert locked_store.supports_object_lock is True


def test_retained_version_cannot_be_deleted(locked_store: ObjectStore) -> None:
    until = datetime.now(UTC) + timedelta(hours=1)
    signed = locked_store.put(KEY, b"signed agreement", content_type=DOCX, retain_until=until)
    draft = locked_store.put("cases/42/agreement/v2/draft.docx", b"draft", content_type=DOCX)

    with pytest.raises(ObjectLocked):
        locked_store.delete(KEY, signed.version_id)
    assert locked_store.get(KEY, signed.version_id) == b"signed agreement"
    info = locked_store.stat(KEY, signed.version_id)
    assert info.retain_until is not None
    assert abs(info.retain_until - until) < timedelta(seconds=2)  # S3 keeps whole seconds

    # Retention is per version: an unretained object is deletable in the same store.
    locked_store.delete("cases/42/agreement/v2/draft.docx", draft.version_id)
    assert not locked_store.exists("cases/42/agreement/v2/draft.docx")

    # A delete marker does not destroy data, so it is allowed; the version survives.
    locked_store.delete(KEY)
    assert locked_store.get(KEY, signed.version_id) == b"signed agreement"
    with pytest.raises(ObjectLocked):
        locked_store.delete(KEY, signed.version_id)


def test_retention_ends_at_retain_until(locked_store: ObjectStore) -> None:
    until = datetime.now(UTC) + timedelta(seconds=2)
    stored = locked_store.put(KEY, b"short-lived lock", content_type=DOCX, retain_until=until)
    with pytest.raises(ObjectLocked):
        locked_store.delete(KEY, stored.version_id)

    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 1.5)
    locked_store.delete(KEY, stored.version_id)
    with pytest.raises(ObjectNotFound):
        locked_store.get(KEY, stored.version_id)


@pytest.mark.parametrize(
    "retain_until",
    [datetime.now() + timedelta(days=1), datetime.now(UTC) - timedelta(seconds=1)],
    ids=["naive", "past"],
)
def test_bad_retain_until_is_rejected(locked_store: ObjectStore, retain_until: datetime) -> None:
    with pytest.raises(ValueError):
        locked_store.put(KEY, b"x", content_type=DOCX, retain_until=retain_until)
    assert not locked_store.exists(KEY)


def test_presigned_url_is_none_for_filesystem(tmp_path) -> None:  # noqa: ANN001
    store = FilesystemStore(tmp_path)
    stored = store.put(KEY, b"x", content_type="text/plain")
    assert store.presigned_url(KEY, stored.version_id, timedelta(minutes=5)) is None
