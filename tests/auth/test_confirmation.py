"""A self-registered account logs in once its owner followed the welcome e-mail's link (or reset the password), so
registering an address and then logging in tells nobody whether the address had an account (real commits, outbox, SMTP)."""

from __future__ import annotations

import re

from factories import PASSWORD, World, make_orgnr
from fastapi.testclient import TestClient
from helpers import error_fields, problem
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.auth.models import User
from tests.auth.support import Real, body, fresh_reset_limit, real  # noqa: F401

CHOSEN = "Attackerarens-Eget-Val-2026"


def _register(real: Real, email: str):  # noqa: ANN202, F811
    return real.client.post("/api/v1/auth/register", json={
        "email": email, "password": CHOSEN, "full_name": "Nora Ny",
        "organisation": {"name": "Läxhjälpen i Norrby", "orgnr": make_orgnr(), "legal_form": "ideell_forening"}})


def _login(real: Real, email: str, password: str):  # noqa: ANN202, F811
    return real.client.post("/api/v1/auth/token", data={"username": email, "password": password})


def _confirm_token(msg) -> str:  # noqa: ANN001
    found = re.search(r"/bekrafta-konto\?token=([A-Za-z0-9_-]+)", body(msg))
    assert found, body(msg)
    return found.group(1)


def test_registering_then_logging_in_reveals_nothing_until_the_link_is_followed(real: Real) -> None:  # noqa: F811
    with real.factory() as s, s.begin():
        w = World(s)
    new_email = "nora.ny@laxhjalpen.example.se"
    # The probe: register an address with a password of one's own, then try to log in with it.
    assert _register(real, w.member.email).status_code == _register(real, new_email).status_code == 202
    known, new, wrong = _login(real, w.member.email, CHOSEN), _login(real, new_email, CHOSEN), _login(real, new_email, "fel-lösenord")
    assert (known.status_code, known.json()["detail"]) == (new.status_code, new.json()["detail"]) == (wrong.status_code, wrong.json()["detail"])
    assert known.status_code == 401
    # The owner of the new address gets the welcome e-mail with the link; the known address's owner is told instead.
    mails = real.deliver()
    welcome = next(m for m in mails if str(m["To"]) == new_email)
    assert "Bekräfta din e-postadress" in str(welcome["Subject"])
    told = next(m for m in mails if str(m["To"]) == w.member.email)
    assert "redan ett konto" in body(told)
    token = _confirm_token(welcome)
    r = real.client.post("/api/v1/auth/confirm-email", json={"token": token})
    assert r.status_code == 204, r.text
    assert _login(real, new_email, CHOSEN).status_code == 200
    # Single use; the known account was never touched.
    assert error_fields(problem(real.client.post("/api/v1/auth/confirm-email", json={"token": token}), 422)) == {"token"}
    assert _login(real, w.member.email, PASSWORD).status_code == 200 and _login(real, w.member.email, CHOSEN).status_code == 401
    with real.factory() as s:
        member = s.scalar(select(User).where(User.email == new_email))
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.stream == f"user:{member.id}").order_by(AuditEvent.seq))]
    assert actions == ["user.self_registered", "user.email_confirmed"]


def test_a_password_reset_confirms_the_address_too(real: Real) -> None:  # noqa: F811
    email = "lost.link@laxhjalpen.example.se"
    assert _register(real, email).status_code == 202
    assert real.client.post("/api/v1/auth/password-reset", json={"email": email}).status_code == 202
    reset = next(m for m in real.to(email) if "Återställ" in str(m["Subject"]))
    link = re.search(r"token=([A-Za-z0-9_-]+)", body(reset)).group(1)
    assert real.client.post("/api/v1/auth/password-reset/confirm", json={"token": link, "new_password": "Granskogens-Tysta-Stigar-41"}).status_code == 204
    assert _login(real, email, "Granskogens-Tysta-Stigar-41").status_code == 200


def test_confirming_on_the_web(app, real: Real) -> None:  # noqa: F811
    email = "webb.bekraftelse@laxhjalpen.example.se"
    assert _register(real, email).status_code == 202
    token = _confirm_token(next(m for m in real.to(email) if "Bekräfta" in str(m["Subject"])))
    with TestClient(app, base_url="https://testserver") as web:
        page = web.get(f"/bekrafta-konto?token={token}")
        assert page.status_code == 200 and f'value="{token}"' in page.text
        assert _login(real, email, CHOSEN).status_code == 401  # opening the link changes nothing (mail scanners open links)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        done = web.post("/bekrafta-konto", data={"token": token, "csrf_token": csrf})
        assert done.status_code == 200 and "E-postadressen är bekräftad" in done.text
        again = web.post("/bekrafta-konto", data={"token": token, "csrf_token": csrf})
        assert again.status_code == 422 and "Länken är ogiltig" in again.text
    assert _login(real, email, CHOSEN).status_code == 200
