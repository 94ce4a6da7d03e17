"""FilesystemStore details: on-disk layout, atomicity and path safety."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from storage.base import ObjectNotFound, StorageUnavailable
from storage.filesystem import FilesystemStore, new_version_id

KEY = "cases/9/followup_request/v1/uppfoljning.docx"


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_each_version_is_a_data_file_plus_sidecar(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    v1 = store.put(KEY, b"one", content_type="text/plain", metadata={"case-id": "9"})
    v2 = store.put(KEY, b"two", content_type="text/plain")

    base = "cases/9/followup_request/v1/uppfoljning.docx.versions"
    assert _files(tmp_path) == sorted(
        f"{base}/{v.version_id}{ext}" for v in (v1, v2) for ext in (".data", ".json")
    )
    sidecar = json.loads((tmp_path / base / f"{v1.version_id}.json").read_text())
    assert sidecar["sha256"] == v1.sha256
    assert sidecar["metadata"] == {"case-id": "9"}
    assert (tmp_path / base / f"{v1.version_id}.data").read_bytes() == b"one"


def test_failed_put_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)

    class Exploding:
        def read(self, size: int = -1) -> bytes:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.put(KEY, Exploding(), content_type="text/plain")  # type: ignore[arg-type]
    assert _files(tmp_path) == []


def test_data_without_sidecar_is_not_a_version(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    stored = store.put(KEY, b"committed", content_type="text/plain")
    key_dir = tmp_path / "cases/9/followup_request/v1/uppfoljning.docx.versions"
    # What a crash between the data rename and the sidecar rename leaves behind.
    orphan = new_version_id()
    (key_dir / f"{orphan}.data").write_bytes(b"half-written")

    assert store.get(KEY) == b"committed"
    assert [v.version_id for v in store.list_versions(KEY)] == [stored.version_id]
    with pytest.raises(ObjectNotFound):
        store.get(KEY, orphan)


def test_version_ids_sort_by_creation() -> None:
    ids = [new_version_id() for _ in range(1000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("version_id", ["../../../etc/passwd", "..", "0" * 25 + "/", "ABC", ""])
def test_version_ids_are_never_used_as_paths(tmp_path: Path, version_id: str) -> None:
    store = FilesystemStore(tmp_path / "objects")
    store.put(KEY, b"x", content_type="text/plain")
    (tmp_path / "objects" / "cases" / "passwd.json").write_text("{}")
    with pytest.raises(ObjectNotFound):
        store.get(KEY, version_id)
    store.delete(KEY, version_id)  # a no-op, not an unlink elsewhere
    assert store.get(KEY) == b"x"


def test_intermediate_segments_may_not_look_like_key_directories(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    with pytest.raises(ValueError):
        store.put("cases/9.versions/a.txt", b"x", content_type="text/plain")
    # As the last segment it is an ordinary name.
    store.put("cases/9/a.versions", b"x", content_type="text/plain")
    assert store.get("cases/9/a.versions") == b"x"


def test_relative_root_is_resolved_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = FilesystemStore("var/objects")
    monkeypatch.chdir("/")
    store.put(KEY, b"x", content_type="text/plain")
    assert (tmp_path / "var/objects").is_dir()
    assert store.get(KEY) == b"x"


def test_ping_fails_when_the_root_is_gone(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    store = FilesystemStore(root)
    store.ping()
    shutil.rmtree(root)
    root.write_text("not a directory any more")  # e.g. an unmounted volume
    with pytest.raises(StorageUnavailable):
        store.ping()
    with pytest.raises(StorageUnavailable):
        store.put(KEY, b"x", content_type="text/plain")
    assert not any(name.startswith(".tmp-") for name in os.listdir(tmp_path))
