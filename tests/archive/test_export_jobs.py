"""The export job's plain functions, as the flow runs them: a case that fails is marked with its reason, the rest go on."""

from __future__ import annotations

import io
import zipfile
from contextlib import contextmanager

from factories import World, case as make_case
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.archive import service as archive
from service.archive.models import ArchiveExport, ArchiveExportItem, ExportStatus, ItemStatus
from service.cases.stages import Stage
from service.documents import service as documents
from service.documents.models import DocumentKind
from storage.filesystem import FilesystemStore

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _factory(db: Session):  # noqa: ANN202
    """Sessions inside the test's transaction (each `with s.begin()` a savepoint), as the flow's session factory."""

    @contextmanager
    def make():  # noqa: ANN202
        s = Session(bind=db.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield s
        finally:
            s.close()

    return make


def test_a_failing_case_is_marked_and_the_others_are_written(db: Session, store: FilesystemStore) -> None:
    w = World(db)
    good = make_case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    documents.store_document(db, store, case=good, kind=DocumentKind.ATTACHMENT, filename="bilaga.pdf", content=PDF,
                             content_type="application/pdf", user=w.officer)
    broken = make_case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    lost = documents.store_document(db, store, case=broken, kind=DocumentKind.ATTACHMENT, filename="borta.pdf", content=PDF,
                                    content_type="application/pdf", user=w.officer)
    good.stage = broken.stage = Stage.WITHDRAWN
    db.flush()
    store.delete(lost.storage_key, lost.storage_version_id)  # the object is gone (a bucket restored without it)
    export = archive.request_export(db, w.registrar, case_ids=[broken.id, good.id])
    db.flush()

    result = archive.run_export(_factory(db), store, export.id)
    assert result == {"status": "failed", "done": 1, "failed": 1, "pending": 0}
    db.expire_all()
    items = {i.case_id: i for i in db.scalars(select(ArchiveExportItem).where(ArchiveExportItem.export_id == export.id))}
    assert items[broken.id].status == ItemStatus.FAILED and "saknas i dokumentlagringen" in items[broken.id].error
    assert items[broken.id].object_key is None and items[broken.id].sha256 is None
    assert items[good.id].status == ItemStatus.DONE and items[good.id].files >= 8
    with zipfile.ZipFile(io.BytesIO(store.get(items[good.id].object_key, items[good.id].object_version_id))) as zf:
        assert any(n.endswith("-bilaga.pdf") for n in zf.namelist())
    assert db.get(ArchiveExport, export.id).status == ExportStatus.FAILED
    # Nothing is written twice when the same job runs again; the failed case stays failed until exported anew.
    assert archive.run_export(_factory(db), store, export.id) == result
