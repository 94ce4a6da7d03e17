"""Goals and indicators through the API: the terms carry them, reports give values of their unit, the officer rates them."""

from __future__ import annotations

import copy

import pytest
from factories import World, auth, case
from gates_setup import terms_payload
from helpers import error_fields, problem
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.agreements.models import AgreementGoal, AgreementIndicator, IndicatorPeriod
from service.audit.models import AuditEvent
from service.cases.stages import Stage
from service.config import get_settings
from service.deadlines.rules import schedule_followup
from service.followup.models import FollowUpReport, IndicatorResult

YEAR, FINAL = "2028-01-31", "2029-02-28"
CONTENT = {"activities_done": "Träffpunkt 140 gånger", "participants_reached": 210, "money_used_sek": 150_000}


def goals_payload() -> list[dict]:
    """Two goals: one with a count reported in both reports and a percent in the final only, one without indicators."""
    return [
        {"title": "Fler äldre deltar i gemenskapen", "indicators": [
            {"name": "Deltagare", "unit": "count", "baseline": 120, "target": 200, "how_measured": "Närvarolistor"},
            {"name": "Andel som känner sig mindre ensamma", "unit": "percent", "baseline": 40.5, "target": 60,
             "how_measured": "Enkät vid årets slut", "periods": [FINAL]},
        ]},
        {"title": "Tre träffar i veckan", "indicators": [
            {"name": "Ideella timmar", "unit": "hours", "target": 800, "how_measured": "Tidrapporter"}]},
    ]


def _url(c) -> str:  # noqa: ANN001
    return f"/api/v1/cases/{c.id}/agreement"


def _agreed_case(client, db: Session, w: World):  # noqa: ANN001, ANN202
    """A case whose officer saved complete terms with goals and indicators through the API, now in follow-up."""
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    r = client.put(_url(c), json={**terms_payload(w.org.name, w.org.orgnr), "goals": goals_payload()}, headers=auth(w.officer))
    assert r.status_code == 200, r.text
    c.stage = Stage.FOLLOW_UP
    db.flush()
    assert schedule_followup(db, c.id, get_settings()) > 0
    reports = db.scalars(select(FollowUpReport).where(FollowUpReport.case_id == c.id).order_by(FollowUpReport.due_on)).all()
    return c, reports


def _indicator_ids(db: Session, c) -> dict[str, int]:  # noqa: ANN001
    return {i.name: i.id for i in db.scalars(select(AgreementIndicator).where(AgreementIndicator.case_id == c.id))}


def test_indicators_round_trip_terms_report_assessment(client, db) -> None:
    w = World(db)
    c, (year, final) = _agreed_case(client, db, w)
    got = client.get(_url(c), headers=auth(w.officer)).json()
    assert got["complete"] is True
    assert got["terms"]["goals"][0]["indicators"][1] == {**goals_payload()[0]["indicators"][1], "periods": [FINAL]}
    # The register: every indicator with the reports it is given in (none listed: both reports).
    ids = _indicator_ids(db, c)
    periods = {(i, d.isoformat()) for i, d in db.execute(select(IndicatorPeriod.indicator_id, IndicatorPeriod.due_on))}
    assert {(ids["Deltagare"], YEAR), (ids["Deltagare"], FINAL), (ids["Andel som känner sig mindre ensamma"], FINAL),
            (ids["Ideella timmar"], YEAR), (ids["Ideella timmar"], FINAL)} == {p for p in periods if p[0] in ids.values()}
    assert [g.title for g in db.scalars(select(AgreementGoal).where(AgreementGoal.case_id == c.id).order_by(AgreementGoal.position))] == [
        "Fler äldre deltar i gemenskapen", "Tre träffar i veckan"]

    # The year report gives the two indicators due in it (as text too: "12,5" is how a Swede writes it).
    values = [{"indicator_id": ids["Deltagare"], "value": 150, "comment": "Fler på vårterminen"},
              {"indicator_id": ids["Ideella timmar"], "value": "412,5"}]
    r = client.post(f"/api/v1/cases/{c.id}/followup-reports/{year.id}/submit", json={**CONTENT, "indicator_values": values},
                    headers=auth(w.member))
    assert r.status_code == 200, r.text
    assert {(x["indicator_id"], x["value"]) for x in r.json()["results"]} == {(ids["Deltagare"], 150), (ids["Ideella timmar"], 412.5)}
    assert "indicator_values" not in r.json()["content"]

    # Approving rates every reported indicator.
    body = problem(client.post(f"/api/v1/cases/{c.id}/followup-reports/{year.id}/assessment", headers=auth(w.officer),
                               json={"assessment": "approved", "indicators": [{"indicator_id": ids["Deltagare"], "rating": "partly"}]}), 422)
    assert any(e.get("indicator_id") == ids["Ideella timmar"] for e in body["errors"])
    assert db.scalar(select(FollowUpReport.assessment).where(FollowUpReport.id == year.id)) is None
    r = client.post(f"/api/v1/cases/{c.id}/followup-reports/{year.id}/assessment", headers=auth(w.officer), json={
        "assessment": "approved", "comment": "Bra år",
        "indicators": [{"indicator_id": ids["Deltagare"], "rating": "partly", "comment": "150 av 200"},
                       {"indicator_id": ids["Ideella timmar"], "rating": "met"}]})
    assert r.status_code == 200, r.text
    ratings = {x["indicator_id"]: (x["rating"], x["rating_comment"]) for x in r.json()["results"]}
    assert ratings == {ids["Deltagare"]: ("partly", "150 av 200"), ids["Ideella timmar"]: ("met", "")}

    # The case's series: target vs achieved per report, the final not reported yet; money used vs planned.
    series = client.get(f"/api/v1/cases/{c.id}/indicators", headers=auth(w.member)).json()
    people = next(s for s in series["indicators"] if s["name"] == "Deltagare")
    assert (people["target"], people["baseline"], people["unit"]) == (200, 120, "count")
    assert [(p["due_on"], p["achieved"], p["rating"]) for p in people["points"]] == [(YEAR, 150, "partly"), (FINAL, None, None)]
    share = next(s for s in series["indicators"] if s["name"].startswith("Andel"))
    assert [p["due_on"] for p in share["points"]] == [FINAL]
    assert series["money"][0] == {"on": year.period_end.isoformat(), "planned_sek": 400_000, "used_sek": 150_000}
    assert series["money"][1]["used_sek"] is None

    # The audit chain keeps the figures and the ratings.
    submitted = db.scalar(select(AuditEvent).where(AuditEvent.case_id == c.id, AuditEvent.action == "followup.submitted"))
    assert submitted.after["indicator_values"] == {str(ids["Deltagare"]): 150, str(ids["Ideella timmar"]): 412.5}


@pytest.mark.parametrize(("unit", "value", "message"), [
    ("count", 2.5, "heltal"), ("sek", -5, "negativt"), ("percent", 150, "mellan 0 och 100"), ("hours", "många", "Ange ett tal"),
    ("percent", True, "Ange ett tal"), ("number", 1.234, "två decimaler")])
def test_a_target_of_the_wrong_type_for_its_unit_is_refused_and_nothing_saved(client, db, unit, value, message) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    goals = goals_payload()
    goals[1]["indicators"][0] |= {"unit": unit, "target": value}
    body = problem(client.put(_url(c), json={**terms_payload(w.org.name, w.org.orgnr), "goals": goals}, headers=auth(w.officer)), 422)
    errors = {e["field"]: e["message"] for e in body["errors"]}
    assert "goals.1.indicators.0.target" in errors and message in errors["goals.1.indicators.0.target"]
    assert client.get(_url(c), headers=auth(w.officer)).status_code == 404
    assert db.scalar(select(func.count()).select_from(AgreementIndicator).where(AgreementIndicator.case_id == c.id)) == 0
    # A draft is held to the same rule (its values are values of the unit given).
    body = problem(client.patch(_url(c), json={"goals": goals}, headers=auth(w.officer)), 422)
    assert "goals.1.indicators.0.target" in error_fields(body)


def test_an_indicator_period_must_be_a_report_of_the_schedule(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    goals = goals_payload()
    goals[0]["indicators"][1]["periods"] = ["2029-03-01"]
    r = client.put(_url(c), json={**terms_payload(w.org.name, w.org.orgnr), "goals": goals}, headers=auth(w.officer))
    assert "goals.0.indicators.1.periods" in error_fields(problem(r, 422))
    # Saved as a draft it is kept, listed as what is missing, and not registered until the terms are complete.
    r = client.patch(_url(c), json={**terms_payload(w.org.name, w.org.orgnr), "goals": goals}, headers=auth(w.officer))
    assert r.status_code == 200, r.text
    missing = {m["field"]: m for m in r.json()["missing"]}
    assert missing["goals.0.indicators.1.periods"]["label"] == "Mål 1, indikator 2 – Rapporteras i"
    assert missing["goals.0.indicators.1.periods"]["section"] == "mal"
    assert db.scalar(select(func.count()).select_from(AgreementIndicator).where(AgreementIndicator.case_id == c.id)) == 0
    goals[0]["indicators"][1]["periods"] = [FINAL]
    r = client.patch(_url(c), json={"goals": goals}, headers={**auth(w.officer), "If-Match": r.headers["etag"]})
    assert r.json()["complete"] is True
    assert db.scalar(select(func.count()).select_from(AgreementIndicator).where(AgreementIndicator.case_id == c.id)) == 3


def test_bad_report_values_are_refused_whole(client, db) -> None:
    w = World(db)
    c, (year, final) = _agreed_case(client, db, w)
    ids = _indicator_ids(db, c)
    url = f"/api/v1/cases/{c.id}/followup-reports/{year.id}/submit"
    good = [{"indicator_id": ids["Deltagare"], "value": 150}, {"indicator_id": ids["Ideella timmar"], "value": 400}]
    cases = {
        "wrong type": ([{**good[0], "value": 150.5}, good[1]], "indicator_values.0.value"),
        "not due in this period": ([*good, {"indicator_id": ids["Andel som känner sig mindre ensamma"], "value": 50}], "indicator_values.2.indicator_id"),
        "missing": ([good[0]], "indicator_values"),
        "twice": ([*good, good[0]], "indicator_values.2.indicator_id"),
    }
    for label, (values, field) in cases.items():
        body = problem(client.post(url, json={**CONTENT, "indicator_values": values}, headers=auth(w.member)), 422)
        assert field in error_fields(body), label
    db.expire_all()
    report = db.get(FollowUpReport, year.id)
    assert report.submitted_at is None and report.content is None
    assert db.scalar(select(func.count()).select_from(IndicatorResult).where(IndicatorResult.report_id == year.id)) == 0


def test_a_submitted_report_cannot_be_edited_until_completion_is_asked(client, db) -> None:
    w = World(db)
    c, (year, _) = _agreed_case(client, db, w)
    ids = _indicator_ids(db, c)
    url = f"/api/v1/cases/{c.id}/followup-reports/{year.id}/submit"
    first = [{"indicator_id": ids["Deltagare"], "value": 150}, {"indicator_id": ids["Ideella timmar"], "value": 400}]
    assert client.post(url, json={**CONTENT, "indicator_values": first}, headers=auth(w.member)).status_code == 200
    changed = copy.deepcopy(first)
    changed[0]["value"] = 190
    problem(client.post(url, json={**CONTENT, "indicator_values": changed}, headers=auth(w.member)), 409)
    db.expire_all()
    assert [r.value for r in db.get(FollowUpReport, year.id).results if r.indicator_id == ids["Deltagare"]] == [150]
    # Asked to complete it, the organisation sends it again with the corrected value.
    assert client.post(f"/api/v1/cases/{c.id}/followup-reports/{year.id}/assessment", headers=auth(w.officer),
                       json={"assessment": "needs_completion", "comment": "Kontrollera antalet deltagare"}).status_code == 200
    r = client.post(url, json={**CONTENT, "indicator_values": changed}, headers=auth(w.member))
    assert r.status_code == 200, r.text
    assert {x["indicator_id"]: x["value"] for x in r.json()["results"]}[ids["Deltagare"]] == 190
    # The terms cannot change the indicators reported on (the agreement is in force: follow-up stage refuses edits).
    problem(client.put(_url(c), json={**terms_payload(w.org.name, w.org.orgnr), "goals": ["Nytt mål"]}, headers=auth(w.officer)), 409)


def test_a_report_for_a_period_outside_the_agreement_is_refused(client, db) -> None:
    w = World(db)
    c, _ = _agreed_case(client, db, w)
    r = client.post(f"/api/v1/cases/{c.id}/followup-reports", headers=auth(w.officer),
                    json={"period_start": "2026-06-01", "period_end": "2026-12-31", "due_on": "2027-01-31"})
    assert "period_start" in error_fields(problem(r, 422))
    assert db.scalar(select(func.count()).select_from(FollowUpReport).where(FollowUpReport.case_id == c.id)) == 2
    # A report row outside the period (written before the agreement was narrowed) takes no values either.
    stray = FollowUpReport(case_id=c.id, period_start=year_start(), period_end=year_start().replace(month=12, day=31),
                           due_on=year_start().replace(year=2027, month=1, day=31))
    db.add(stray)
    db.flush()
    body = problem(client.post(f"/api/v1/cases/{c.id}/followup-reports/{stray.id}/submit", json=CONTENT, headers=auth(w.member)), 409)
    assert "utanför avtalsperioden" in body["detail"]
    db.expire_all()
    assert db.get(FollowUpReport, stray.id).submitted_at is None


def year_start():  # noqa: ANN201
    from datetime import date

    return date(2026, 1, 1)
