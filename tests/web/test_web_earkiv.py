"""The registrar's e-archive page without a browser: ordering by diarienummer, open cases refused by name, the download."""

from __future__ import annotations

import hashlib
import html as htmllib
from contextlib import contextmanager

from factories import World, case as make_case
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.archive import service as archive
from service.archive.models import ArchiveExport, ArchiveExportItem
from service.cases.stages import Stage
from service.documents import service as documents
from tests.web.test_web_forms import Browserless, web  # noqa: F401  (the fixture)


def _factory(db: Session):  # noqa: ANN202
    """Sessions inside the test's transaction, as the flow's session factory (each `with s.begin()` a savepoint)."""

    @contextmanager
    def make():  # noqa: ANN202
        s = Session(bind=db.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield s
        finally:
            s.close()

    return make


def test_registrar_orders_an_export_and_downloads_the_package(web: Browserless, db: Session, app) -> None:  # noqa: F811, ANN001
    store = app.dependency_overrides[documents.get_store]()
    w = World(db)
    closed = make_case(db, w.org, w.dep, stage=Stage.REJECTED, title="Avslaget förslag")
    still_open = make_case(db, w.org, w.dep, stage=Stage.AGREEMENT, title="Pågående avtal")
    db.flush()

    for other in (w.officer, w.approver, w.admin, w.member):
        Browserless(web.client).login(other).get("/e-arkiv", expect=403)
    registrar = Browserless(web.client).login(w.registrar)
    page = htmllib.unescape(registrar.get("/e-arkiv").text)
    assert '<a class="main-nav__link" href="/e-arkiv" aria-current="page">E-arkiv</a>' in page and "Inga uttag ännu." in page

    # An open case is refused by its diarienummer and stage; an unknown number and an empty form are errors too.
    refused = htmllib.unescape(registrar.post("/e-arkiv", {"arenden": f"{closed.diarienummer}\n{still_open.diarienummer}"}, expect=409).text)
    assert "Bara avslutade ärenden kan lämnas till e-arkivet" in refused and f"{still_open.diarienummer}: Överenskommelse" in refused
    assert 'href="#earkiv-arenden"' in refused
    assert "Okända diarienummer: XYZ 1/1." in htmllib.unescape(registrar.post("/e-arkiv", {"arenden": "XYZ 1/1"}, expect=422).text)
    assert "Ange diarienummer eller en period." in htmllib.unescape(registrar.post("/e-arkiv", {}, expect=422).text)
    assert db.scalar(select(ArchiveExport.id)) is None

    registrar.post("/e-arkiv", {"arenden": closed.diarienummer})
    export = db.scalar(select(ArchiveExport))
    assert [i.case_id for i in db.scalars(select(ArchiveExportItem).where(ArchiveExportItem.export_id == export.id))] == [closed.id]
    page = htmllib.unescape(registrar.get("/e-arkiv").text)
    assert "Uttaget är beställt." in page and f"Uttag {export.id}: Beställt" in page and "Ladda ner" not in page

    assert archive.run_export(_factory(db), store, export.id)["status"] == "done"  # what the flow run does
    db.expire_all()
    item = db.scalar(select(ArchiveExportItem).where(ArchiveExportItem.export_id == export.id))
    page = htmllib.unescape(registrar.get("/e-arkiv").text)
    assert f"Uttag {export.id}: Klart" in page and item.sha256 in page
    link = f"/e-arkiv/{export.id}/paket/{item.id}"
    assert f'href="{link}"' in page
    got = registrar.get(link)
    assert got.headers["content-type"] == "application/zip" and hashlib.sha256(got.content).hexdigest() == item.sha256
    Browserless(web.client).login(w.officer).get(link, expect=403)
