"""In Chromium (issue 22): an officer edits the agreement terms in two tabs; the second save gets the conflict view
with the other tab's text shown and its own kept, a plain resubmit overwrites nothing, the explicit choice does."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from tests.web.test_web_journey_browser import _prepare


def _new_agreement_case(server, world) -> int:  # noqa: ANN001
    import factories

    from service.cases.stages import Stage
    from service.departments.models import Department

    def build(s, users, org):  # noqa: ANN001, ANN202
        dep = s.scalar(select(Department).where(Department.name == world.department))
        return factories.case(s, org, dep, stage=Stage.AGREEMENT, officer_id=users[world.officer].id, title="Två flikar").id

    return _prepare(server, world, build)


def _governance(server, world, case_id: int) -> str | None:  # noqa: ANN001
    from service.agreements.models import Agreement

    return _prepare(server, world, lambda s, _u, _o: (s.scalar(select(Agreement).where(Agreement.case_id == case_id)).terms or {})
                    .get("governance"))


def test_two_tabs_on_the_agreement_terms_the_second_sees_the_conflict_and_loses_nothing(login, world, server) -> None:  # noqa: ANN001
    case_id = _new_agreement_case(server, world)
    tab_a = login(world.officer)
    tab_b = tab_a.context.new_page()  # the same person, a second tab
    for tab in (tab_a, tab_b):
        tab.goto(f"/arenden/{case_id}/avtal")
    governance = "textarea[name=governance]"
    tab_a.fill(governance, "Styrgrupp varje månad (flik A)")
    tab_a.get_by_role("button", name="Spara utkast").click()
    expect(tab_a.get_by_role("status")).to_be_visible()
    assert _governance(server, world, case_id) == "Styrgrupp varje månad (flik A)"

    tab_b.fill(governance, "Styrgrupp varje kvartal (flik B)")
    tab_b.get_by_role("button", name="Spara utkast").click()
    conflict = tab_b.get_by_role("region", name="Den andras version")
    expect(conflict).to_contain_text("Styrgrupp varje månad (flik A)")  # theirs shown
    expect(tab_b.locator(governance)).to_have_value("Styrgrupp varje kvartal (flik B)")  # yours kept
    assert _governance(server, world, case_id) == "Styrgrupp varje månad (flik A)"

    tab_b.get_by_role("button", name="Spara utkast").click()  # a plain resubmit
    expect(tab_b.get_by_role("region", name="Den andras version")).to_be_visible()
    assert _governance(server, world, case_id) == "Styrgrupp varje månad (flik A)"

    tab_b.get_by_label("Ersätt den andras version med min").check()
    tab_b.get_by_role("button", name="Spara utkast").click()
    expect(tab_b.get_by_role("region", name="Den andras version")).to_have_count(0)
    assert _governance(server, world, case_id) == "Styrgrupp varje kvartal (flik B)"
