"""Single sign-on through a real OpenID Provider (oidc-provider on 127.0.0.1), driven in headless Chromium.

Staff log in through the provider and land on their start page with the role of their mapped group; an organisation
member joins by an invitation at their first login; logout ends the session at the provider too, and so does the
provider's back-channel logout here. Every refused answer (state, replayed code, nonce, issuer, expiry, audience,
signature, unknown group, no invitation) leaves no session and no account, shows a page saying so and is audited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from sso_setup import ORG_LABEL, STAFF_LABEL
from tests.fixtures.oidc_provider import OP_PASSWORD

SESSION_COOKIE = "__Host-iop_session"


def _db(sso):  # noqa: ANN001, ANN202
    from service.db import make_engine

    return make_engine(sso.server.db_url)


def _query(sso, fn: Callable[[Session], object]) -> object:  # noqa: ANN001
    engine = _db(sso)
    try:
        with Session(engine) as s:
            return fn(s)
    finally:
        engine.dispose()


def _events(sso, provider: str = "kommun") -> list[dict]:  # noqa: ANN001
    from service.audit.models import AuditEvent

    return _query(sso, lambda s: [{"action": e.action, **(e.after or {})}
                                  for e in s.scalars(select(AuditEvent).where(AuditEvent.stream == f"oidc:{provider}").order_by(AuditEvent.seq))])


def _user(sso, email: str):  # noqa: ANN001, ANN202
    from service.auth.models import User

    return _query(sso, lambda s: s.scalar(select(User).where(User.email == email)))


def _press(page: Page, label: str) -> None:
    page.goto("/logga-in")
    page.get_by_role("button", name=label).click()


def _at_provider(page: Page, login: str, password: str = OP_PASSWORD) -> None:
    """Log in on the provider's own page."""
    expect(page.get_by_role("heading", name="Logga in hos testleverantören")).to_be_visible()
    page.get_by_label("Användarnamn").fill(login)
    page.get_by_label("Lösenord hos leverantören").fill(password)
    page.get_by_role("button", name="Fortsätt").click()


def _has_session(ctx: BrowserContext) -> bool:
    return any(c["name"] == SESSION_COOKIE for c in ctx.cookies())


def _logged_out(page: Page) -> None:
    """The app sends this browser to its login page: no session."""
    page.goto("/arbetsko")
    expect(page).to_have_url(re.compile(r"/logga-in"))


def test_staff_login_lands_on_the_work_queue_with_the_mapped_role(sso, sso_context) -> None:  # noqa: ANN001
    page = sso_context().new_page()
    _press(page, STAFF_LABEL)
    _at_provider(page, "bo")
    expect(page).to_have_url(re.compile(r"/arbetsko$"))
    expect(page.get_by_role("status")).to_contain_text("Du är inloggad")
    user = _user(sso, "bo.sso@exempelstad.se")
    # bo carries the approver and the officer group: the first one configured wins; the department from forv-soc.
    assert (user.role, user.full_name, user.password_hash) == ("approver", "Bo Beslutar", "!sso")
    from service.departments.models import Department

    assert _query(sso, lambda s: s.get(Department, user.department_id).diarie_prefix) == "SSO"
    ok = [e for e in _events(sso) if e["action"] == "auth.oidc_login_succeeded" and e.get("user_id") == user.id]
    assert ok and ok[-1]["provider"] == "kommun" and "identity_id" in ok[-1]
    # No personal data in the audit event: ids and codes only.
    assert not any("@" in str(v) or "Bo" in str(v) for v in ok[-1].values())

    # A second login finds the same account again (by the provider's subject), without a new one.
    page2 = sso_context().new_page()
    _press(page2, STAFF_LABEL)
    _at_provider(page2, "bo")
    expect(page2).to_have_url(re.compile(r"/arbetsko$"))
    from service.auth.models import User

    assert _query(sso, lambda s: len(list(s.scalars(select(User).where(User.email == "bo.sso@exempelstad.se"))))) == 1


def test_logout_ends_the_session_here_and_at_the_provider(sso, sso_context) -> None:  # noqa: ANN001
    ctx = sso_context()
    page = ctx.new_page()
    _press(page, STAFF_LABEL)
    _at_provider(page, "dan")
    expect(page).to_have_url(re.compile(r"/arbetsko$"))
    stolen = next(c for c in ctx.cookies() if c["name"] == SESSION_COOKIE)
    page.get_by_role("button", name="Logga ut").click()
    # RP-initiated logout: the provider asks, then sends the browser back to the login page.
    expect(page.get_by_role("heading", name="Logga ut från testleverantören")).to_be_visible()
    page.get_by_role("button", name="Ja, logga ut").click()
    expect(page).to_have_url(re.compile(r"/logga-in$"))
    expect(page.get_by_role("status")).to_contain_text("Du är utloggad")
    assert not _has_session(ctx)
    # The provider's session is gone too: the button leads to the provider's login form again, not straight back in.
    page.get_by_role("button", name=STAFF_LABEL).click()
    expect(page.get_by_role("heading", name="Logga in hos testleverantören")).to_be_visible()
    # And the old session cookie, replayed, no longer opens anything.
    other = sso_context()
    other.add_cookies([stolen])
    _logged_out(other.new_page())


def test_logout_at_the_provider_ends_the_session_here(sso, sso_context) -> None:  # noqa: ANN001
    """Back-channel logout: the person logs out at the provider directly; the provider tells the app, which ends its session."""
    ctx = sso_context()
    page = ctx.new_page()
    _press(page, STAFF_LABEL)
    _at_provider(page, "anna")
    expect(page).to_have_url(re.compile(r"/arbetsko$"))
    page.goto(f"{sso.op.issuer}/session/end")
    page.get_by_role("button", name="Ja, logga ut").click()
    expect(page.get_by_role("heading", name="Utloggad hos testleverantören")).to_be_visible()
    _logged_out(page)
    assert any(e["action"] == "auth.oidc_logout" and e["sessions_ended"] >= 1 for e in _events(sso))


def test_deactivating_an_account_locks_it_out_at_once(sso, sso_context) -> None:  # noqa: ANN001
    from service.auth.models import User

    page = sso_context().new_page()
    _press(page, STAFF_LABEL)
    _at_provider(page, "cilla")
    expect(page).to_have_url(re.compile(r"/arbetsko$"))

    def deactivate(s: Session) -> None:
        s.scalar(select(User).where(User.email == "cilla.sso@exempelstad.se")).is_active = False
        s.commit()

    _query(sso, deactivate)
    _logged_out(page)
    # Logging in again through the provider (whose own session is still on) is refused with a page.
    page.goto("/logga-in")
    page.get_by_role("button", name=STAFF_LABEL).click()
    expect(page.get_by_role("heading", name="Kontot är spärrat")).to_be_visible()
    assert not _has_session(page.context)
    assert _events(sso)[-1]["reason"] == "inactive"


def test_a_session_ends_when_its_lifetime_is_up_and_the_login_keeps_the_address(sso, sso_context) -> None:  # noqa: ANN001
    from datetime import timedelta

    from service.auth.oidc.models import OidcSession
    from service.db import utcnow

    page = sso_context().new_page()
    page.goto("/arenden?sort=title")  # not logged in: to the login page, which remembers the address
    expect(page).to_have_url(re.compile(r"/logga-in\?nasta="))
    page.get_by_role("button", name=STAFF_LABEL).click()
    _at_provider(page, "neg10")
    expect(page).to_have_url(re.compile(r"/arenden\?sort=title$"))
    user = _user(sso, "neg10.sso@exempelstad.se")
    sessions = _query(sso, lambda s: list(s.scalars(select(OidcSession).where(OidcSession.user_id == user.id))))
    assert len(sessions) == 1 and sessions[0].expires_at - utcnow() > timedelta(hours=9)  # session_hours: 10

    def expire(s: Session) -> None:
        s.get(OidcSession, sessions[0].id).expires_at = utcnow() - timedelta(seconds=1)
        s.commit()

    _query(sso, expire)
    _logged_out(page)


def test_an_invited_member_joins_the_organisation_at_the_first_login(sso, sso_context) -> None:  # noqa: ANN001
    from factories import PASSWORD

    from service.organisations.models import Organisation, OrganisationInvitation

    member = sso_context().new_page()
    member.goto("/logga-in")
    member.get_by_label("E-postadress").fill(sso.member_email)
    member.get_by_label("Lösenord", exact=True).fill(PASSWORD)
    member.locator("form[action='/logga-in'] button").click()
    member.get_by_role("link", name="Bjud in medlemmar").click()
    member.get_by_label("E-postadress").fill("Maja.SSO@solsidan.example.se")
    member.get_by_role("button", name="Bjud in").click()
    expect(member.get_by_role("status").filter(has_text="är inbjuden")).to_contain_text("maja.sso@solsidan.example.se är inbjuden")

    page = sso_context().new_page()
    _press(page, ORG_LABEL)
    _at_provider(page, "maja")
    expect(page).to_have_url(re.compile(r"/start$"))
    expect(page.get_by_role("status")).to_contain_text("Du är inloggad")
    maja = _user(sso, "maja.sso@solsidan.example.se")
    org = _query(sso, lambda s: s.scalar(select(Organisation).where(Organisation.name == sso.org_name)))
    assert (maja.role, maja.organisation_id) == ("org_member", org.id)
    inv = _query(sso, lambda s: s.scalar(select(OrganisationInvitation).where(OrganisationInvitation.email == maja.email)))
    assert inv.accepted_by_id == maja.id and inv.accepted_at is not None
    # The member's invitations page shows it accepted.
    member.goto("/organisation/inbjudningar")
    expect(member.get_by_role("row").filter(has_text=maja.email)).to_contain_text("Antagen")


def test_an_uninvited_person_gets_a_clear_page_and_no_account(sso, sso_context) -> None:  # noqa: ANN001
    page = sso_context().new_page()
    _press(page, ORG_LABEL)
    _at_provider(page, "olle")
    expect(page.get_by_role("heading", level=1)).to_have_text("Du har inget konto i tjänsten")
    expect(page.get_by_text("Vi hittade ingen inbjudan")).to_be_visible()
    assert not _has_session(page.context)
    assert _user(sso, "olle.sso@solsidan.example.se") is None
    last = _events(sso, "forening")[-1]
    assert (last["action"], last["reason"]) == ("auth.oidc_login_failed", "not_invited")


def test_an_unknown_group_gets_no_account_and_no_session(sso, sso_context) -> None:  # noqa: ANN001
    page = sso_context().new_page()
    _press(page, STAFF_LABEL)
    _at_provider(page, "okand")
    expect(page.get_by_role("heading", level=1)).to_have_text("Du har ingen behörighet i tjänsten")
    assert not _has_session(page.context)
    assert _user(sso, "okand.sso@exempelstad.se") is None
    _logged_out(page)
    last = _events(sso)[-1]
    assert (last["action"], last["reason"], "user_id" in last) == ("auth.oidc_login_failed", "no_role", False)


# ------------------------------------------------------------------------------------------------ refused answers


def _callback(ctx: BrowserContext, sso, login: str) -> str:  # noqa: ANN001
    """Press the staff button and log in at the provider with this context's cookies, hop by hop, and return the address
    the provider sends the browser back to, without following it (so its state and code are still unused)."""
    page = ctx.new_page()
    page.goto("/logga-in")
    token = page.locator("form[action='/logga-in/oidc/kommun'] input[name='csrf_token']").get_attribute("value")
    base, back = sso.server.base_url, sso.server.base_url + "/logga-in/oidc/kommun/svar"
    r = ctx.request.post(base + "/logga-in/oidc/kommun", form={"csrf_token": token, "nasta": "/"}, max_redirects=0)
    url = urljoin(base, r.headers["location"])
    for _ in range(10):
        if url.startswith(back):
            page.close()
            return url
        r = ctx.request.get(url, max_redirects=0)
        if r.status == 200 and (form := re.search(r'action="(/interaction/[^"]+/login)"', r.text())):
            r = ctx.request.post(urljoin(url, form.group(1)), form={"login": login, "password": OP_PASSWORD}, max_redirects=0)
        url = urljoin(url, r.headers["location"])
    raise AssertionError(f"the provider never sent the browser back (last: {url})")


def _with(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | params
    return urlunsplit(parts._replace(query=urlencode(query)))


def _refused(sso, page: Page, reason: str) -> None:  # noqa: ANN001
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Inloggningen gick inte att slutföra|Du har ingen behörighet"))
    expect(page.get_by_text("Du är inte inloggad i IOP Partnerskap.")).to_be_visible()
    assert not _has_session(page.context)
    _logged_out(page)
    last = _events(sso)[-1]
    assert (last["action"], last["reason"]) == ("auth.oidc_login_failed", reason)


def test_a_wrong_state_is_refused(sso, sso_context) -> None:  # noqa: ANN001
    ctx = sso_context()
    url = _callback(ctx, sso, "neg0")
    page = ctx.new_page()
    page.goto(_with(url, state="en-annan-webblasares-state"))
    _refused(sso, page, "state")
    assert _user(sso, "neg0.sso@exempelstad.se") is None


def test_an_answer_naming_another_issuer_is_refused(sso, sso_context) -> None:  # noqa: ANN001
    """RFC 9207: the provider names itself in its answer; one naming another provider is a mix-up, refused."""
    ctx = sso_context()
    url = _callback(ctx, sso, "neg9")
    assert parse_qs(urlsplit(url).query)["iss"] == [sso.op.issuer]  # the control: the real provider names itself
    page = ctx.new_page()
    page.goto(_with(url, iss="http://127.0.0.1:9/annan-leverantor"))
    _refused(sso, page, "issuer")
    assert _user(sso, "neg9.sso@exempelstad.se") is None


def test_a_replayed_code_is_refused(sso, sso_context) -> None:  # noqa: ANN001
    first = sso_context()
    used = _callback(first, sso, "neg1")
    first.new_page().goto(used)  # followed: this login succeeds and uses the code up
    assert _has_session(first)
    # The same answer replayed in another browser: no state of its own to match.
    again = sso_context().new_page()
    again.goto(used)
    _refused(sso, again, "state")
    # The used code under a fresh, valid state of a new login in this browser: the provider refuses the code itself.
    ctx = sso_context()
    fresh = _callback(ctx, sso, "neg1")
    page = ctx.new_page()
    page.goto(_with(fresh, code=parse_qs(urlsplit(used).query)["code"][0]))
    _refused(sso, page, "code_exchange")


@pytest.mark.parametrize(("mode", "reason"), [
    ("wrong_nonce", "nonce"), ("other_issuer", "issuer"), ("expired", "expired"), ("wrong_audience", "audience"),
    ("tampered_signature", "signature"), ("foreign_key", "signature"), ("unsigned", "unsigned"),
])
def test_a_spoiled_id_token_is_refused(sso, sso_context, mode: str, reason: str) -> None:  # noqa: ANN001
    n = 2 + ["wrong_nonce", "other_issuer", "expired", "wrong_audience", "tampered_signature", "foreign_key", "unsigned"].index(mode)
    page = sso_context().new_page()
    sso.proxy.mode = mode
    try:
        _press(page, STAFF_LABEL)
        _at_provider(page, f"neg{n}")
        _refused(sso, page, reason)
    finally:
        sso.proxy.mode = None
    assert _user(sso, f"neg{n}.sso@exempelstad.se") is None
