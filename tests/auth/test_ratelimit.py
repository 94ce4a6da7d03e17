"""Throttling: logins per e-mail and client address (API and web alike), self-registrations per address; 429 problem+json
with Retry-After, window, reset, isolation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from factories import PASSWORD, World, make_orgnr
from fastapi.testclient import TestClient
from helpers import problem
from sqlalchemy import func, select

from service.auth.models import User
from service.auth.ratelimit import AttemptLimiter, LoginLimiter, get_login_limiter, get_register_limiter
from service.config import get_settings

# The limiter keeps no state in the database: one backend is enough (each login costs an argon2 verification).
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limiter(app) -> Iterator[tuple[LoginLimiter, Clock]]:  # noqa: ANN001
    """A fresh limiter (5 failures per 15 minutes) on a hand-moved clock, used by the app's login."""
    clock = Clock()
    lim = LoginLimiter(5, 900, clock=clock)
    app.dependency_overrides[get_login_limiter] = lambda: lim
    yield lim, clock
    app.dependency_overrides.pop(get_login_limiter, None)


def _login(client: TestClient, email: str, password: str):  # noqa: ANN202
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


@sqlite_only
def test_five_failures_then_429_even_with_the_right_password(client, db, limiter) -> None:
    w = World(db)
    _, clock = limiter
    for _ in range(5):
        problem(_login(client, w.officer.email, "fel-lösen"), 401)
        clock.now += 10
    r = _login(client, w.officer.email, PASSWORD)
    body = problem(r, 429)
    # The oldest failure was 50 s ago: the key opens again when it leaves the 900 s window.
    assert r.headers["retry-after"] == "850"
    assert body["type"].endswith("/too-many-requests") and "om 15 minuter" in body["detail"]  # 850 s, in whole minutes
    # Same address, e-mail in another case: still the same key.
    problem(_login(client, w.officer.email.upper(), PASSWORD), 429)
    # Once the oldest failure has left the window one attempt is free again.
    clock.now += 851
    assert _login(client, w.officer.email, PASSWORD).status_code == 200


@sqlite_only
def test_keys_are_per_email_and_per_client_address(app, client, db, limiter) -> None:
    w = World(db)
    for _ in range(5):
        problem(_login(client, w.officer.email, "fel-lösen"), 401)
    problem(_login(client, w.officer.email, PASSWORD), 429)
    # Another account from the same address is not locked out by someone guessing at the first one.
    assert _login(client, w.approver.email, PASSWORD).status_code == 200
    # The same account from another address is not locked out either (no denial of service by e-mail alone).
    with TestClient(app, client=("192.0.2.44", 50000)) as elsewhere:
        assert _login(elsewhere, w.officer.email, PASSWORD).status_code == 200


@sqlite_only
def test_success_clears_earlier_failures(client, db, limiter) -> None:
    w = World(db)
    for _ in range(4):
        problem(_login(client, w.member.email, "fel-lösen"), 401)
    assert _login(client, w.member.email, PASSWORD).status_code == 200
    for _ in range(4):
        problem(_login(client, w.member.email, "fel-lösen"), 401)
    assert _login(client, w.member.email, PASSWORD).status_code == 200


@sqlite_only
def test_unknown_email_is_throttled_like_a_known_one(client, db, limiter) -> None:
    for _ in range(5):
        problem(_login(client, "finns.inte@example.se", "gissning"), 401)
    problem(_login(client, "finns.inte@example.se", "gissning"), 429)


@sqlite_only
def test_default_limiter_is_wired_from_settings(client, db) -> None:
    """Without an override the app's own process-wide limiter applies (5 per 15 minutes by default)."""
    w = World(db)
    email = f"throttled-{w.officer.id}@example.se"
    codes = [_login(client, email, "gissning").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    get_login_limiter().succeeded(email, "testclient")  # leave the shared limiter as found


def test_memory_stays_bounded_when_addresses_cycle() -> None:
    clock = Clock()
    lim = LoginLimiter(5, 900, max_keys=100, clock=clock)
    for i in range(1000):
        lim.failed(f"user{i}@example.se", "198.51.100.7")
    assert len(lim._window.times) == 100
    # The newest keys are kept: the latest attacker target is still counted.
    lim.failed("user999@example.se", "198.51.100.7")
    assert len(lim._window.times["user999@example.se", "198.51.100.7"]) == 2


# ---------------------------------------------------------------- the web login shares the API's limiter


def _web_login(web: TestClient, email: str, password: str):  # noqa: ANN202
    import re

    page = web.get("/logga-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "the login form carries a CSRF token"
    return web.post("/logga-in", data={"email": email, "password": password, "csrf_token": token.group(1)}, follow_redirects=False)


@sqlite_only
def test_web_login_is_throttled_with_the_api_login(app, client, db, limiter) -> None:
    """One limiter for both doors: failures at either count against the same e-mail and address."""
    w = World(db)
    _, clock = limiter
    # The pages' cookies are Secure (__Host-): the browser talks https.
    with TestClient(app, base_url="https://testserver") as web:
        for _ in range(3):
            assert _web_login(web, w.officer.email, "fel-lösen").status_code == 401
        for _ in range(2):
            problem(_login(client, w.officer.email, "fel-lösen"), 401)
        clock.now += 100
        # Locked at both doors, even with the right password.
        problem(_login(client, w.officer.email, PASSWORD), 429)
        page = _web_login(web, w.officer.email.upper(), PASSWORD)
        assert page.status_code == 429 and page.headers["retry-after"] == "800"
        assert "För många misslyckade inloggningar" in page.text and "__Host-iop_session" not in page.headers.get("set-cookie", "")
        # Once the window has passed, the web login works and clears the count.
        clock.now += 800
        assert _web_login(web, w.officer.email, PASSWORD).status_code == 303
        for _ in range(4):
            problem(_login(client, w.officer.email, "fel-lösen"), 401)
        assert _login(client, w.officer.email, PASSWORD).status_code == 200


# ---------------------------------------------------------------- self-registration per client address


@pytest.fixture
def register_limiter(app) -> Iterator[tuple[AttemptLimiter, Clock]]:  # noqa: ANN001
    """A fresh registration limiter (3 per hour) on a hand-moved clock."""
    clock = Clock()
    lim = AttemptLimiter(3, 3600, clock=clock)
    app.dependency_overrides[get_register_limiter] = lambda: lim
    yield lim, clock
    app.dependency_overrides.pop(get_register_limiter, None)


def _register(client: TestClient, n: int):  # noqa: ANN202
    return client.post("/api/v1/auth/register", json={
        "email": f"ny{n}@forening.example.se", "password": "ett-långt-lösen", "full_name": f"Ny Person {n}",
        "organisation": {"name": f"Nya föreningen {n}", "orgnr": make_orgnr(), "legal_form": "ideell_forening"}})


@sqlite_only
def test_registrations_per_address_are_limited(app, client, db, register_limiter) -> None:
    _, clock = register_limiter
    for n in range(3):
        assert _register(client, n).status_code == 202
        clock.now += 60
    r = _register(client, 3)
    body = problem(r, 429)
    # The first registration was 180 s ago: the address gets one again when it leaves the hour.
    assert r.headers["retry-after"] == "3420"
    assert body["type"].endswith("/too-many-requests") and "För många registreringar" in body["detail"] and "too many" in body["detail"]
    # Nothing was created by the refused attempt.
    assert db.scalar(select(func.count()).select_from(User).where(User.email == "ny3@forening.example.se")) == 0
    # Another address registers freely.
    with TestClient(app, client=("192.0.2.44", 50000)) as elsewhere:
        assert _register(elsewhere, 4).status_code == 202
    clock.now += 3420
    assert _register(client, 5).status_code == 202


@sqlite_only
def test_default_registration_limit_is_wired_from_settings(client, db) -> None:
    """Without an override the app's own limiter applies: 10 registrations per address and hour by default."""
    settings = get_settings()
    assert (settings.register_max_attempts, settings.register_window_seconds) == (10, 3600)
    first = _register(client, 100)
    assert first.status_code == 202
    # A known e-mail answers like a new one (its owner is e-mailed) and still counts: probing costs attempts too.
    codes = [client.post("/api/v1/auth/register", json={
        "email": "ny100@forening.example.se", "password": "ett-långt-lösen", "full_name": "Igen",
        "organisation": {"name": "Igen", "orgnr": make_orgnr(), "legal_form": "ideell_forening"}}).status_code for _ in range(10)]
    assert codes == [202] * 9 + [429]


# ---------------------------------------------------------------- X-Forwarded-For and password spraying


@pytest.fixture
def proxied(app):  # noqa: ANN001, ANN201
    """Settings with one trusted reverse proxy (192.0.2.10), as IOP_TRUSTED_PROXIES would give."""
    from service.config import Settings
    from service.deps import app_settings

    settings = Settings(trusted_proxies=["192.0.2.10"])
    app.dependency_overrides[app_settings] = lambda: settings
    yield settings
    app.dependency_overrides.pop(app_settings, None)


def _login_via(client: TestClient, email: str, password: str, forwarded: str):  # noqa: ANN202
    return client.post("/api/v1/auth/token", data={"username": email, "password": password}, headers={"X-Forwarded-For": forwarded})


@sqlite_only
def test_a_locked_account_stays_locked_when_x_forwarded_for_rotates(client, db, limiter) -> None:
    """No proxies are trusted by default: the header is the client's own word and changes no key."""
    w = World(db)
    for n in range(5):
        problem(_login_via(client, w.officer.email, "fel-lösen", f"203.0.113.{n}"), 401)
    for n in range(5, 10):
        problem(_login_via(client, w.officer.email, PASSWORD, f"203.0.113.{n}"), 429)
    problem(_login_via(client, w.officer.email, PASSWORD, "203.0.113.99, 198.51.100.7"), 429)


@sqlite_only
def test_x_forwarded_for_counts_only_from_a_trusted_proxy(app, client, db, limiter, proxied) -> None:
    w = World(db)
    with TestClient(app, client=("192.0.2.10", 40000)) as via_proxy, TestClient(app, client=("198.51.100.5", 40000)) as direct:
        # Through the proxy, the address it appended is the client: one user behind it is locked, another is not.
        for _ in range(5):
            problem(_login_via(via_proxy, w.officer.email, "fel-lösen", "203.0.113.1"), 401)
        problem(_login_via(via_proxy, w.officer.email, PASSWORD, "203.0.113.1"), 429)
        assert _login_via(via_proxy, w.officer.email, PASSWORD, "203.0.113.2").status_code == 200
        # Addresses the client wrote in front of the proxy's own entry are ignored: rotating them does not help.
        for n in range(5):
            problem(_login_via(via_proxy, w.officer.email, PASSWORD, f"10.9.9.{n}, 203.0.113.1"), 429)
        # A client that is not the proxy cannot claim to be someone else by sending the header itself.
        for _ in range(5):
            problem(_login_via(direct, w.approver.email, "fel-lösen", "203.0.113.50"), 401)
        problem(_login_via(direct, w.approver.email, PASSWORD, "203.0.113.51"), 429)


@sqlite_only
def test_password_spraying_across_accounts_is_throttled_per_address(app, client, db) -> None:
    """One wrong guess at each of many accounts from one address: the address's budget runs out, for every account."""
    clock = Clock()
    lim = LoginLimiter(5, 900, max_failures_per_client=8, clock=clock)
    app.dependency_overrides[get_login_limiter] = lambda: lim
    try:
        w = World(db)
        accounts = [w.member, w.other_member, w.officer, w.officer2, w.approver, w.approver2, w.small_approver, w.registrar]
        for u in accounts:
            problem(_login(client, u.email, "Sommar2026!"), 401)
        body = problem(_login(client, w.admin.email, PASSWORD), 429)  # an account nobody guessed at, from the same address
        assert "från din adress" in body["detail"] and "from your address" in body["detail"]
        # A correct login does not refill the address's budget (the sprayer's own account cannot reset it).
        with TestClient(app, client=("192.0.2.77", 50000)) as elsewhere:
            assert _login(elsewhere, w.admin.email, PASSWORD).status_code == 200
        problem(_login(client, w.admin.email, PASSWORD), 429)
        clock.now += 901
        assert _login(client, w.admin.email, PASSWORD).status_code == 200
    finally:
        app.dependency_overrides.pop(get_login_limiter, None)


def test_the_default_limiter_has_a_per_address_budget() -> None:
    get_login_limiter.cache_clear()
    try:
        lim = get_login_limiter()
        assert lim.max_failures_per_client == get_settings().login_max_failures_per_client > get_settings().login_max_failures
    finally:
        get_login_limiter.cache_clear()


def test_client_address_believes_only_the_trusted_hops() -> None:
    from starlette.requests import Request

    from service.auth.ratelimit import client_address
    from service.config import Settings

    def addr(peer: str, xff: str | None, trusted: list[str]) -> str | None:
        headers = [(b"x-forwarded-for", xff.encode())] if xff is not None else []
        return client_address(Request({"type": "http", "client": (peer, 1234), "headers": headers}), Settings(trusted_proxies=trusted))

    assert addr("198.51.100.5", "203.0.113.1", []) == "198.51.100.5"  # nothing trusted: the peer
    assert addr("198.51.100.5", "203.0.113.1", ["192.0.2.10"]) == "198.51.100.5"  # the peer is not a proxy
    assert addr("192.0.2.10", "203.0.113.1", ["192.0.2.10"]) == "203.0.113.1"
    assert addr("192.0.2.10", "6.6.6.6, 203.0.113.1", ["192.0.2.10"]) == "203.0.113.1"  # the client's own entries are ignored
    # Two proxies in a row (a load balancer in a trusted network, then the proxy): the first untrusted hop is the client.
    assert addr("192.0.2.10", "6.6.6.6, 203.0.113.1, 10.1.2.3", ["192.0.2.10", "10.0.0.0/8"]) == "203.0.113.1"
    assert addr("192.0.2.10", "2001:db8::1", ["192.0.2.10"]) == "2001:db8::1"
    assert addr("192.0.2.10", None, ["192.0.2.10"]) == "192.0.2.10"  # a proxy that sent no header: itself
    assert addr("192.0.2.10", "not-an-address, 203.0.113.1", ["192.0.2.10"]) == "203.0.113.1"
    assert addr("192.0.2.10", "203.0.113.1, garbage", ["192.0.2.10"]) == "192.0.2.10"  # unreadable hop: stop at what is known
