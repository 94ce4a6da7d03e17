"""The Swedish 404 page for a mistyped address, in Chromium: a logged-in person still sees who is logged in and the menu."""

from __future__ import annotations

from playwright.sync_api import expect


def test_a_mistyped_address_keeps_the_person_logged_in(login, new_context, world) -> None:  # noqa: ANN001
    member = login(world.member)
    response = member.goto("/arendn/12")
    assert response is not None and response.status == 404
    expect(member.get_by_role("heading", level=1)).to_have_text("Sidan finns inte")
    expect(member.locator(".user-menu__name")).to_have_text("Maja Medlem")
    expect(member.get_by_role("button", name="Logga ut")).to_be_visible()
    expect(member.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Nytt förslag")).to_be_visible()
    # Still logged in on the next page: the error page did not end or spoil the session.
    member.goto("/start")
    assert member.url.endswith("/start")
    expect(member.locator(".user-menu__name")).to_have_text("Maja Medlem")

    anonymous = new_context().new_page()
    anonymous.goto("/arendn/12")
    expect(anonymous.get_by_role("heading", level=1)).to_have_text("Sidan finns inte")
    expect(anonymous.get_by_role("button", name="Logga ut")).to_have_count(0)
