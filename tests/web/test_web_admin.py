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


def test_admin_sets_a_departments_deadlines_on_a_page(web: Browserless, db: Session) -> None:  # noqa: F811
    """The deadline policy of a department from the web: defaults shown, errors at their field, saved, used by new deadlines."""
    from service.deadlines.models import DeadlineKind
    from service.deadlines.policy import policy_for

    w = World(db)
    admin = Browserless(web.client).login(w.admin)
    assert f'href="/admin/forvaltningar/{w.dep.id}/frister"' in admin.get("/admin").text
    page = admin.get(f"/admin/forvaltningar/{w.dep.id}/frister").text
    assert "Standard: 10 arbetsdagar" in page and "Beslut i granskning" in page  # review: the SPEC's default span
    assert 'name="agreement_expiry-due"' not in page  # follows the agreement: no span of its own

    form = {"review-due": "15", "review-due_unit": "working_days", "review-reminders": "-5, −1, 0", "review-reminders_unit": "working_days",
            "review-escalation": "approvers", "dialogue-reminders": "-14", "dialogue-reminders_unit": "days",
            "escalation_email": "registrator@exempelstad.se"}
    # Refused: a reminder after the due day, a span that is not a number, an address that is not one; nothing is saved.
    r = admin.post(f"/admin/forvaltningar/{w.dep.id}/frister", {**form, "review-reminders": "-5, 2", "triage-due": "fem",
                                                                 "escalation_email": "inte en adress"}, expect=422)
    assert 'id="frist-triage-due-error"' in r.text and 'id="frist-escalation_email-error"' in r.text
    assert 'value="-5, 2"' in r.text  # what was typed stays
    r = admin.post(f"/admin/forvaltningar/{w.dep.id}/frister", {**form, "review-reminders": "-5, 2"}, expect=422)
    assert 'id="frist-review-reminders-error"' in r.text and "före eller på fristdagen" in r.text
    db.refresh(w.dep)
    assert w.dep.deadline_settings is None and w.dep.escalation_email is None

    admin.post(f"/admin/forvaltningar/{w.dep.id}/frister", form)
    db.refresh(w.dep)
    review = policy_for(DeadlineKind.REVIEW, w.dep.deadline_settings)
    assert review["due"] == {"working_days": 15} and review["escalation"] == "approvers"
    assert review["reminders"] == [{"working_days": -5}, {"working_days": -1}, {"working_days": 0}]
    assert policy_for(DeadlineKind.DIALOGUE, w.dep.deadline_settings)["reminders"] == [{"days": -14}]
    assert policy_for(DeadlineKind.TRIAGE, w.dep.deadline_settings) == policy_for(DeadlineKind.TRIAGE, None)  # blank = default
    assert w.dep.escalation_email == "registrator@exempelstad.se"
    page = admin.get(f"/admin/forvaltningar/{w.dep.id}/frister").text
    assert 'value="15"' in page and 'value="-5, -1, 0"' in page and "Tidsfristerna är sparade" in page

    # Back to the defaults by emptying the fields.
    admin.post(f"/admin/forvaltningar/{w.dep.id}/frister", {"escalation_email": ""})
    db.refresh(w.dep)
    assert w.dep.deadline_settings is None and w.dep.escalation_email is None

    officer = Browserless(web.client).login(w.officer)
    assert officer.get(f"/admin/forvaltningar/{w.dep.id}/frister", expect=403)
    admin = Browserless(web.client).login(w.admin)
    admin.get("/admin/forvaltningar/999999/frister", expect=404)
