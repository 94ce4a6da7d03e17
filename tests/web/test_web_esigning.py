"""The case page's electronic signing: the officer sends the agreement, each signatory signs in turn, the page shows the
validation of every signature (real LibreOffice and pyHanko, a CA made in the test)."""

from __future__ import annotations

import re

import pytest
from factories import World, case, user
from gates_setup import terms_payload
from signing_setup import signing_settings
from sqlalchemy.orm import Session
from test_web_forms import Browserless, web  # noqa: F401

from service.agreements.models import Agreement
from service.agreements.schemas import AgreementTerms
from service.auth.models import Role
from service.cases.stages import Stage
from service.deps import app_settings
from service.documents import service as documents
from service.documents.models import DocumentKind
from service.documents.pdfa import pdfa_available
from service.signing.keys import make_test_pki


def _visible(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.skipif(not pdfa_available(), reason="LibreOffice (soffice) is not installed")
def test_agreement_is_sent_signed_in_turn_and_shown_valid(app, web: Browserless, db: Session, tmp_path) -> None:  # noqa: ANN001, F811
    settings = signing_settings(make_test_pki(tmp_path / "pki"))
    app.dependency_overrides[app_settings] = lambda: settings
    try:
        w = World(db)
        olle = user(db, Role.ORG_MEMBER, organisation=w.org, full_name="Olle Ordförande")
        eva = user(db, Role.APPROVER, department=w.dep, full_name="Eva Ek", delegated_limit_sek=1_000_000)
        c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
        terms = AgreementTerms.model_validate(terms_payload(w.org.name, w.org.orgnr))
        db.add(Agreement(case_id=c.id, terms=terms.model_dump(mode="json"), funding_amount_sek=terms.funding_amount_sek,
                         period_start=terms.period_start, period_end=terms.period_end))
        db.flush()
        store = app.dependency_overrides[documents.get_store]()
        documents.generate(db, store, w.officer, c, DocumentKind.AGREEMENT, settings=settings)
        page = f"/arenden/{c.id}"

        web.login(w.officer)
        html = web.get(page).text
        assert "Skicka avtalet för e-underskrift" in html and f'value="{olle.id}"' in html and f'value="{eva.id}"' in html
        refused = _visible(web.post(f"{page}/e-underskrift", {"organisation_user_id": str(olle.id)}, expect=422).text)
        assert "Välj undertecknare för parten" in refused
        web.post(f"{page}/e-underskrift", {"organisation_user_id": str(olle.id), "public_user_id": str(eva.id), "first": "organisation"})
        assert "Skicka avtalet för e-underskrift" not in web.get(page).text  # out for signature: not twice

        web.login(eva)
        assert "Skriv under avtalet" not in web.get(page).text  # not her turn yet
        assert "Olle Ordförandes tur" in _visible(web.post(f"{page}/e-underskrift/{_order_id(db, c.id)}/skriv-under", expect=409).text)
        web.login(olle)
        assert "Skriv under avtalet" in web.get(page).text
        web.post(f"{page}/e-underskrift/{_order_id(db, c.id)}/skriv-under")
        web.login(eva)
        web.post(f"{page}/e-underskrift/{_order_id(db, c.id)}/skriv-under")

        web.login(w.member)
        shown = _visible(web.get(page).text)
        assert "Undertecknat av alla" in shown
        assert "Giltig Alla 2 underskrifter är oförändrade" in shown
        assert re.search(r"Underskrift1 Olle Ordförande .*Exempelstads kommun.* Giltig", shown)
        assert re.search(r"Underskrift2 Eva Ek .* Giltig", shown)
        assert "Elektronisk underskrift för organisationen" in shown and "Överenskommelsen är undertecknad av alla parter" in shown
        web.login(w.officer)
        assert "Rätta eller ta bort underskriften" not in web.get(page).text  # signatures in the PDF are not records to change
    finally:
        app.dependency_overrides.pop(app_settings, None)


def _order_id(db: Session, case_id: int) -> int:
    from sqlalchemy import select

    from service.signing.models import SigningOrder

    return db.scalar(select(SigningOrder.id).where(SigningOrder.case_id == case_id).order_by(SigningOrder.id.desc()))
