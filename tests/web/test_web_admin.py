"""The administrator's page: create an account, see a refusal next to its field, deactivate and reactivate."""

from __future__ import annotations

from factories import PASSWORD, World
from sqlalchemy.orm import Session

from service.auth.models import Role, User
from tests.web.test_web_forms import Browserless, web  # noqa: F401  (the fixture)


def test_admin_creates_and_deactivates_accounts(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    admin = Browserless(web.client).login(w.admin)
    page = admin.get("/admin").text
    assert w.officer.email in page and f'action="/admin/anvandare/{w.officer.id}/sparra"' in page
    assert f'/admin/anvandare/{w.admin.id}/' not in page  # no way to lock oneself out

    # An officer without department is refused at the department field; the typed values stay.
    r = admin.post("/admin/anvandare", {"full_name": "Nils Ny", "email": "nils.ny@exempelstad.se", "role": "officer",
                                        "password": "tillfalligt-123", "department_id": ""}, expect=422)
    assert 'id="ny-department_id-error"' in r.text and 'value="nils.ny@exempelstad.se"' in r.text
    r = admin.post("/admin/anvandare", {"full_name": "Nils Ny", "email": "nils.ny@exempelstad.se", "role": "officer",
                                        "password": "kort", "department_id": str(w.dep.id)}, expect=422)
    assert 'id="ny-password-error"' in r.text
    admin.post("/admin/anvandare", {"full_name": "Nils Ny", "email": "nils.ny@exempelstad.se", "role": "officer",
                                    "password": "tillfalligt-123", "department_id": str(w.dep.id), "title": "Handläggare"})
    nils = db.query(User).filter_by(email="nils.ny@exempelstad.se").one()
    assert nils.role == Role.OFFICER and nils.department_id == w.dep.id and nils.is_active
    r = admin.post("/admin/anvandare", {"full_name": "Nils Igen", "email": "NILS.NY@exempelstad.se", "role": "registrar",
                                        "password": "tillfalligt-123"}, expect=409)
    assert "används redan" in r.text

    # Deactivated: the officer's browser session stops working at once; reactivated: it works again.
    officer = Browserless(web.client).login(w.officer)
    admin = Browserless(web.client).login(w.admin)
    admin.post(f"/admin/anvandare/{w.officer.id}/sparra")
    db.refresh(w.officer)
    assert not w.officer.is_active
    r = web.client.post("/logga-in", data={"email": w.officer.email, "password": PASSWORD, "csrf_token": officer.token()},
                        follow_redirects=False)
    assert r.status_code != 303  # a locked account cannot log in
    admin = Browserless(web.client).login(w.admin)
    admin.post(f"/admin/anvandare/{w.officer.id}/aktivera")
    db.refresh(w.officer)
    assert w.officer.is_active
    Browserless(web.client).login(w.officer)  # works again
    officer_page = web.client.get("/admin", follow_redirects=False)
    assert officer_page.status_code == 403
