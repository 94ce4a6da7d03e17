"""Issue 21: eight parallel 12 MB uploads to a healthy but busy S3 through the API all succeed (201, consecutive versions).

Real commits on a database of the test's own with the production engine settings (PostgreSQL: the hung-database
watchdog at 3 s), a real SeaweedFS bucket behind a 12 MiB/s link (tests/storage/test_s3_large.py), eight clients
released together.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from factories import World, auth, case
from helpers import committing_sessions, drop_sessions, race, use_sessions
from sqlalchemy.orm import sessionmaker

from service.cases.stages import Stage
from service.db import make_engine
from service.documents import service as documents
from service.reads import reader_for
from storage.s3 import S3Store
from tests.storage.test_s3_large import SlowLink

MIB = 1024 * 1024


@pytest.fixture
def real(app, backend, seaweed_server, s3_bucket):  # noqa: ANN001, ANN201
    """The app committing for real on its own database (production timeouts) and a fresh bucket."""
    url = backend.clone()
    engine = make_engine(url, pool_size=20, timeout=3.0)
    link = SlowLink(seaweed_server.endpoint, rate=12 * MIB)  # a busy server: a 12 MB put takes a second or more
    store = S3Store(link.endpoint, seaweed_server.access_key, seaweed_server.secret_key, s3_bucket)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    use_sessions(app, committing_sessions(factory), reader_for(engine))
    app.dependency_overrides[documents.get_store] = lambda: store
    yield factory
    drop_sessions(app)
    app.dependency_overrides.pop(documents.get_store, None)
    engine.dispose()
    backend.drop(url)
    link.close()


def test_eight_parallel_large_uploads_on_one_case_all_land(app, real) -> None:  # noqa: ANN001
    with real() as s:
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
        s.commit()
        case_id, headers = c.id, auth(w.officer)
    blobs = [b"%PDF-1.4\n" + os.urandom(12 * MIB) for _ in range(8)]
    results = race(app, [
        (lambda cl, b=b, i=i: cl.post(f"/api/v1/cases/{case_id}/attachments", headers=headers,
                                      files={"file": (f"bilaga{i}.pdf", b, "application/pdf")}))
        for i, b in enumerate(blobs)
    ])
    assert [r.status_code for r in results] == [201] * 8, [r.text[:200] for r in results if r.status_code != 201]
    assert sorted(r.json()["version"] for r in results) == list(range(1, 9))
    assert {r.json()["sha256"] for r in results} == {hashlib.sha256(b).hexdigest() for b in blobs}
