"""The web pages for changing and resetting a password call the same functions as the API: the same rule, the same
revocation of other sessions, the same single-use e-mailed link (real commits, real outbox, real SMTP)."""

from __future__ import annotations

import re

from factories import PASSWORD, World
from fastapi.testclient import TestClient

from tests.auth.support import Real, fresh_reset_limit, link_token, real  # noqa: F401

NEW, NEWER = "Granskogens-Tysta-Stigar-41", "Fjällbjörkens-Sena-Knoppar-8"


def _csrf(web: TestClient, path: str) -> str:
    page = web.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def _login(web: TestClient, email: str, password: str) -> int:
    return web.post("/logga-in", data={"email": email, "password": password, "csrf_token": _csrf(web, "/logga-in")},
                    follow_redirects=False).status_code


def _where(web: TestClient) -> str:
    return web.get("/", follow_redirects=False).headers["location"]


def test_changing_the_password_on_the_web_logs_out_other_browsers(app, real: Real) -> None:  # noqa: F811
    with real.factory() as s, s.begin():
        w = World(s)
    with TestClient(app, base_url="https://testserver") as here, TestClient(app, base_url="https://testserver") as elsewhere:
        assert _login(here, w.member.email, PASSWORD) == 303 and _login(elsewhere, w.member.email, PASSWORD) == 303
        assert _where(here) == _where(elsewhere) == "/start"
        token = _csrf(here, "/konto/losenord")
        post = lambda **form: here.post("/konto/losenord", data={"csrf_token": token, **form}, follow_redirects=False)  # noqa: E731
        wrong = post(current_password="fel-lösenord", new_password=NEW, repeat=NEW)
        assert wrong.status_code == 422 and "Nuvarande lösenord stämmer inte" in wrong.text and "fel-lösenord" not in wrong.text
        weak = post(current_password=PASSWORD, new_password="1111111111", repeat="1111111111")
        assert weak.status_code == 422 and "Lösenordet är för svagt" in weak.text
        assert post(current_password=PASSWORD, new_password=NEW, repeat=NEWER).status_code == 422
        done = post(current_password=PASSWORD, new_password=NEW, repeat=NEW)
        assert done.status_code == 200 and "Lösenordet är bytt" in done.text
        # This browser got a new session; the other one is logged out; the old password no longer works.
        assert _where(here) == "/start"
        assert _where(elsewhere) == "/logga-in"
        assert _login(elsewhere, w.member.email, PASSWORD) == 401
        assert _login(elsewhere, w.member.email, NEW) == 303


def test_resetting_a_forgotten_password_on_the_web(app, real: Real) -> None:  # noqa: F811
    with real.factory() as s, s.begin():
        w = World(s)
    with TestClient(app, base_url="https://testserver") as web:
        token = _csrf(web, "/logga-in")
        assert 'href="/glomt-losenord"' in web.get("/logga-in").text
        for email in (w.officer.email, "ingen.alls@exempelstad.se"):
            page = web.post("/glomt-losenord", data={"email": email, "csrf_token": token})
            assert page.status_code == 200 and "Om adressen hör till ett konto" in page.text
        mails = real.deliver()
        assert [str(m["To"]) for m in mails] == [w.officer.email]
        link = link_token(mails[0])
        form = web.get(f"/aterstall-losenord?token={link}")
        assert form.status_code == 200 and f'value="{link}"' in form.text
        assert web.post("/aterstall-losenord", data={"token": link, "new_password": NEW, "repeat": NEWER, "csrf_token": token}).status_code == 422
        done = web.post("/aterstall-losenord", data={"token": link, "new_password": NEW, "repeat": NEW, "csrf_token": token})
        assert done.status_code == 200 and "Lösenordet är ändrat" in done.text
        assert _login(web, w.officer.email, NEW) == 303
        again = web.post("/aterstall-losenord", data={"token": link, "new_password": NEWER, "repeat": NEWER, "csrf_token": token})
        assert again.status_code == 422 and "Länken är ogiltig" in again.text
