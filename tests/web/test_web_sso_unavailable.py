"""A provider that does not answer: pressing its button shows the 503 page with Retry-After and leaves no login row;
an unknown provider name is a 404 page; too many logins started from one address a 429 page (no browser needed: the
app in-process, its settings with one provider)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.auth.oidc.models import OidcLogin
from service.config import OidcProvider, get_settings
from service.deps import app_settings
from tests.fixtures.oidc_provider import free_port


@pytest.fixture
def down(app, client):  # noqa: ANN001, ANN201
    """The app configured with one provider on a loopback port that nothing listens on."""
    dead = f"http://127.0.0.1:{free_port()}"
    settings = get_settings().model_copy(update={"oidc_providers": {"kommun": OidcProvider(label="Kommunen", issuer=dead, client_id="iop")},
                                                 "oidc_http_timeout_seconds": 1.0})
    app.dependency_overrides[app_settings] = lambda: settings
    # https: the session and CSRF cookies are __Host- (Secure) ones; `client` already sends the sessions to the test's database.
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as secure:
        yield secure
    app.dependency_overrides.pop(app_settings, None)


def _csrf(client) -> str:  # noqa: ANN001
    page = client.get("/logga-in")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_a_provider_that_does_not_answer_is_a_503_page_and_nothing_is_kept(down, db) -> None:  # noqa: ANN001
    r = down.post("/logga-in/oidc/kommun", data={"csrf_token": _csrf(down), "nasta": "/"}, follow_redirects=False,
                  headers={"Accept": "text/html"})
    assert r.status_code == 503 and r.headers["retry-after"] == "30"
    assert "Identitetsleverantören svarar inte just nu" in r.text
    assert db.scalar(select(func.count()).select_from(OidcLogin)) == 0


def test_an_unknown_provider_is_a_404_page(down) -> None:  # noqa: ANN001
    r = down.post("/logga-in/oidc/okand", data={"csrf_token": _csrf(down)}, follow_redirects=False)
    assert r.status_code == 404 and "Sidan finns inte" in r.text
    assert down.get("/logga-in/oidc/okand/svar?code=x&state=y").status_code == 404


def test_too_many_logins_started_from_one_address_is_a_429_page(app, down, db) -> None:  # noqa: ANN001
    from service.auth.ratelimit import AttemptLimiter
    from service.web.routes.sso import get_start_limiter

    limiter = AttemptLimiter(2, 600)
    app.dependency_overrides[get_start_limiter] = lambda: limiter
    try:
        token = _csrf(down)
        first = [down.post("/logga-in/oidc/kommun", data={"csrf_token": token}, follow_redirects=False).status_code for _ in range(2)]
        third = down.post("/logga-in/oidc/kommun", data={"csrf_token": token}, follow_redirects=False)
    finally:
        app.dependency_overrides.pop(get_start_limiter, None)
    assert first == [503, 503]  # counted (the provider is down here), then refused before any work
    assert third.status_code == 429 and int(third.headers["retry-after"]) > 0 and "För många försök" in third.text
    assert db.scalar(select(func.count()).select_from(OidcLogin)) == 0
