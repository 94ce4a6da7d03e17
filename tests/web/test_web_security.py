"""Session cookie flags and CSRF protection of form posts (plain HTTP client, real server)."""

from __future__ import annotations

import re

import httpx
from factories import PASSWORD


def _token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "every form carries a CSRF token"
    return m.group(1)


def test_login_sets_hardened_session_cookie_and_rejects_posts_without_token(server, world) -> None:  # noqa: ANN001
    with httpx.Client(base_url=server.base_url) as client:
        page = client.get("/logga-in")
        csrf_cookie = page.cookies.get("__Host-iop_csrf")
        assert csrf_cookie
        # A post without the form token (what a cross-site form could send) is refused.
        refused = client.post("/logga-in", data={"email": world.member, "password": PASSWORD},
                              cookies={"__Host-iop_csrf": csrf_cookie}, follow_redirects=False)
        assert refused.status_code == 403
        assert "__Host-iop_session" not in refused.headers.get("set-cookie", "")
        # A token from another browser does not match this browser's cookie.
        forged = client.post("/logga-in", data={"email": world.member, "password": PASSWORD, "csrf_token": "0" * 64},
                             cookies={"__Host-iop_csrf": csrf_cookie}, follow_redirects=False)
        assert forged.status_code == 403
        # A cross-origin post is refused even with a valid token.
        cross = client.post("/logga-in", data={"email": world.member, "password": PASSWORD, "csrf_token": _token(page.text)},
                            cookies={"__Host-iop_csrf": csrf_cookie}, headers={"Origin": "https://evil.example"},
                            follow_redirects=False)
        assert cross.status_code == 403
        ok = client.post("/logga-in", data={"email": world.member, "password": PASSWORD, "csrf_token": _token(page.text)},
                         cookies={"__Host-iop_csrf": csrf_cookie}, follow_redirects=False)
        assert ok.status_code == 303
        session_cookie = next(c for c in ok.headers.get_list("set-cookie") if c.startswith("__Host-iop_session="))
        flags = {p.strip().lower() for p in session_cookie.split(";")[1:]}
        assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags
        assert not any(f.startswith("domain=") for f in flags)
        wrong = client.post("/logga-in", data={"email": world.member, "password": "fel", "csrf_token": _token(page.text)},
                            cookies={"__Host-iop_csrf": csrf_cookie}, follow_redirects=False)
        assert wrong.status_code == 401 and "Fel e-postadress eller lösenord" in wrong.text
        assert "content-security-policy" in {k.lower() for k in page.headers}
