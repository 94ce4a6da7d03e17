"""In Chromium: the registrar orders an e-archive export of a closed case on /e-arkiv, an open case is refused by name,
the package is written (as the flow run writes it) and downloaded from the page; eark-validator passes the download."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import factories
from fixtures.eark import validate
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.archive import service as archive
from service.archive.models import ArchiveExport, ArchiveExportItem
from service.auth.models import User
from service.cases.stages import Stage
from service.db import make_engine
from service.departments.models import Department
from service.organisations.models import Organisation
from storage.factory import store_from_url


def test_registrar_orders_and_downloads_an_export(login: Callable[..., Page], live, world, tmp_path: Path) -> None:  # noqa: ANN001
    server, _ = live
    engine = make_engine(server.db_url)
    try:
        with Session(engine, expire_on_commit=False) as s:
            officer = s.scalar(select(User).where(User.email == world.officer))
            org = s.scalar(select(Organisation).where(Organisation.name == world.org_name))
            dep = s.get(Department, officer.department_id)
            closed = factories.case(s, org, dep, stage=Stage.WITHDRAWN, title="Återkallat: Kulturcafé")
            open_case = factories.case(s, org, dep, stage=Stage.DIALOGUE, officer_id=officer.id, title="Dialog: Kulturcafé")
            s.commit()

        page = login(world.registrar)
        page.get_by_role("link", name="E-arkiv").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("E-arkiv")

        page.get_by_label("Diarienummer").fill(f"{closed.diarienummer}, {open_case.diarienummer}")
        page.get_by_role("button", name="Beställ uttag till e-arkivet").click()
        expect(page.locator(".error-summary")).to_contain_text(f"{open_case.diarienummer}: Dialog")
        expect(page.get_by_label("Diarienummer")).to_have_value(f"{closed.diarienummer}, {open_case.diarienummer}")

        page.get_by_label("Diarienummer").fill(closed.diarienummer)
        page.get_by_role("button", name="Beställ uttag till e-arkivet").click()
        expect(page.get_by_text("Uttaget är beställt.")).to_be_visible()
        with Session(engine) as s:
            export_id = s.scalar(select(ArchiveExport.id).join(ArchiveExportItem).where(ArchiveExportItem.case_id == closed.id))
        expect(page.get_by_role("heading", name=f"Uttag {export_id}: Beställt")).to_be_visible()

        # What the archive_export flow run does (tests/flows/test_archive_export.py runs the flow itself).
        assert archive.run_export(sessionmaker(bind=engine, expire_on_commit=False), store_from_url(server.storage_url), export_id)["status"] == "done"
        page.reload()
        expect(page.get_by_role("heading", name=f"Uttag {export_id}: Klart")).to_be_visible()
        with page.expect_download() as info:
            page.get_by_role("link", name=f"Ladda ner paketet för {closed.diarienummer}").click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        with Session(engine) as s:
            item = s.scalar(select(ArchiveExportItem).where(ArchiveExportItem.export_id == export_id))
        assert target.name == f"{item.objid}.zip" and hashlib.sha256(target.read_bytes()).hexdigest() == item.sha256
        report = validate(target)
        assert report["passes"], report["other_errors"]
    finally:
        engine.dispose()
