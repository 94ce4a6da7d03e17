"""storage_maintenance as a real Prefect flow run: orphans go, committed documents stay."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from factories import World, case

from service.cases.stages import Stage
from service.db import utcnow
from service.documents import service as documents
from service.documents.models import DocumentKind

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def maintenance(**kw):  # noqa: ANN003, ANN201
    from flows.maintenance import storage_maintenance

    return asyncio.run(storage_maintenance(**kw))


def test_storage_maintenance_removes_orphans_and_keeps_documents(env) -> None:  # noqa: ANN001
    store = documents.get_store()  # the configured store the flow uses too
    with env() as s, s.begin():
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
        kept = documents.store_document(s, store, case=c, kind=DocumentKind.ATTACHMENT, filename="bilaga.pdf",
                                        content=PDF, content_type="application/pdf", user=w.member)
        kept_ref, case_id = (kept.storage_key, kept.storage_version_id), c.id
    with env() as s:
        with s.begin():
            from service.cases.models import Case

            c = s.get(Case, case_id)
            lost = documents.store_document(s, store, case=c, kind=DocumentKind.ATTACHMENT, filename="förlorad.pdf",
                                            content=PDF, content_type="application/pdf", user=None)
            lost_key = lost.storage_key
            s.rollback()  # the commit never happens

    assert maintenance() == {"scanned": 2, "removed": 0, "locked": 0, "failed": 0}  # younger than a day: kept
    result = maintenance(older_than_hours=1, now=utcnow() + timedelta(hours=2))
    assert result == {"scanned": 2, "removed": 1, "locked": 0, "failed": 0}
    assert not store.exists(lost_key)
    assert store.get(*kept_ref) == PDF
