"""Password change and reset by e-mail (real commits, the real outbox, the real SMTP server): single use, expiring,
only a hash stored, the same answer for unknown addresses; older tokens and web sessions revoked; audited without secrets."""

from __future__ import annotations

from datetime import timedelta

from factories import PASSWORD, World, auth
from helpers import error_fields, problem
from sqlalchemy import select, update

from service.audit.models import AuditEvent
from service.auth.credentials import token_digest
from service.auth.models import AccountToken, TokenPurpose, User
from service.auth.security import create_token
from service.config import get_settings
from service.db import utcnow
from service.outbox.models import OutboxEvent
from service.web.session import SESSION_COOKIE
from tests.auth.support import Real, body, fresh_reset_limit, link_token, real  # noqa: F401

NEW = "Granskogens-Tysta-Stigar-41"


def _world(real: Real) -> World:  # noqa: F811
    with real.factory() as s, s.begin():
        w = World(s)
    return w


def _login(real: Real, email: str, password: str):  # noqa: ANN202, F811
    return real.client.post("/api/v1/auth/token", data={"username": email, "password": password})


def _audit(real: Real, user_id: int) -> list[AuditEvent]:  # noqa: F811
    with real.factory() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.stream == f"user:{user_id}").order_by(AuditEvent.seq)))


def test_change_needs_the_current_password_and_revokes_older_tokens_and_sessions(real) -> None:  # noqa: F811
    w = _world(real)
    old_api = auth(w.member)
    old_cookie = create_token(w.member.id, w.member.role, get_settings(), w.member.token_generation)[0]
    assert real.client.get("/api/v1/auth/me", headers=old_api).status_code == 200
    body_ = problem(real.client.post("/api/v1/auth/password", json={"current_password": "fel-lösenord", "new_password": NEW},
                                     headers=old_api), 422)
    assert error_fields(body_) == {"current_password"}
    r = real.client.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": NEW}, headers=old_api)
    assert r.status_code == 200, r.text
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    # Every token and session from before is refused, on the ORM path and the read path alike; the new one works.
    problem(real.client.get("/api/v1/auth/me", headers=old_api), 401)
    problem(real.client.get("/api/v1/cases", headers=old_api), 401)
    assert real.client.get("/", headers={"Cookie": f"{SESSION_COOKIE}={old_cookie}"}, follow_redirects=False).headers["location"] == "/logga-in"
    assert real.client.get("/api/v1/auth/me", headers=fresh).status_code == 200
    assert real.client.get("/api/v1/cases", headers=fresh).status_code == 200
    problem(_login(real, w.member.email, PASSWORD), 401)
    assert _login(real, w.member.email, NEW).status_code == 200
    events = _audit(real, w.member.id)
    assert [e.action for e in events] == ["user.password_changed"]
    assert PASSWORD not in str(events[0].after) and NEW not in str(events[0].after)


def test_wrong_current_passwords_are_throttled_like_logins(real) -> None:  # noqa: F811
    w = _world(real)
    for _ in range(get_settings().login_max_failures):
        problem(real.client.post("/api/v1/auth/password", json={"current_password": "fel-lösenord", "new_password": NEW},
                                 headers=auth(w.member)), 422)
    problem(real.client.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": NEW}, headers=auth(w.member)), 429)


def test_reset_by_email_is_single_use_and_stores_only_a_hash(real) -> None:  # noqa: F811
    w = _world(real)
    with real.factory() as s, s.begin():
        s.execute(update(User).where(User.id == w.other_member.id).values(is_active=False))
    old_api = auth(w.member)
    known = real.client.post("/api/v1/auth/password-reset", json={"email": w.member.email.upper()})
    unknown = real.client.post("/api/v1/auth/password-reset", json={"email": "ingen.alls@forening.example.se"})
    deactivated = real.client.post("/api/v1/auth/password-reset", json={"email": w.other_member.email})
    # The same answer whether or not the address has an account.
    assert known.status_code == unknown.status_code == 202 and known.json() == unknown.json() == deactivated.json()
    mails = real.deliver()
    assert [str(m["To"]) for m in mails] == [w.member.email]  # nothing to an unknown or deactivated address
    msg = next(m for m in mails if str(m["To"]) == w.member.email)
    assert "Återställ" in str(msg["Subject"]) and get_settings().public_base_url in body(msg)
    token = link_token(msg)
    with real.factory() as s:
        resets = list(s.scalars(select(AccountToken).where(AccountToken.user_id == w.member.id, AccountToken.purpose == TokenPurpose.PASSWORD_RESET)))
        payloads = str([e.payload for e in s.scalars(select(OutboxEvent))])
    # Only the token's hash is kept; the outbox row names the reset, not the token.
    assert [r.token_hash for r in resets] == [token_digest(token)] and token not in payloads
    problem(real.client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "1111111111"}), 422)
    r = real.client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW})
    assert r.status_code == 204, r.text
    assert _login(real, w.member.email, NEW).status_code == 200
    problem(real.client.get("/api/v1/auth/me", headers=old_api), 401)
    # Single use: the same link again is refused, naming the token.
    again = problem(real.client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "Annan-Lång-Fras-Med-Ord-9"}), 422)
    assert error_fields(again) == {"token"}
    assert _login(real, w.member.email, NEW).status_code == 200
    actions = [e.action for e in _audit(real, w.member.id)]
    assert actions == ["user.password_reset_requested", "user.password_reset"]
    assert token not in str([(e.before, e.after) for e in _audit(real, w.member.id)])


def test_an_expired_or_superseded_link_is_refused(real) -> None:  # noqa: F811
    w = _world(real)
    for _ in range(2):
        assert real.client.post("/api/v1/auth/password-reset", json={"email": w.member.email}).status_code == 202
    first, second = (link_token(m) for m in real.to(w.member.email))
    with real.factory() as s, s.begin():
        s.execute(update(AccountToken).where(AccountToken.token_hash == token_digest(first)).values(expires_at=utcnow() - timedelta(seconds=1)))
    problem(real.client.post("/api/v1/auth/password-reset/confirm", json={"token": first, "new_password": NEW}), 422)
    # A changed password uses up every open link.
    assert real.client.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": NEW}, headers=auth(w.member)).status_code == 200
    problem(real.client.post("/api/v1/auth/password-reset/confirm", json={"token": second, "new_password": "Annan-Lång-Fras-Med-Ord-9"}), 422)
    assert _login(real, w.member.email, NEW).status_code == 200


def test_reset_requests_are_limited_per_address(real, fresh_reset_limit) -> None:  # noqa: F811
    w = _world(real)
    codes = [real.client.post("/api/v1/auth/password-reset", json={"email": w.member.email}).status_code for _ in range(6)]
    assert codes == [202] * 5 + [429]
    assert len(real.to(w.member.email)) == 5
