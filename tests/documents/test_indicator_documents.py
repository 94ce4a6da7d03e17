"""The agreement and the follow-up request list the goals and indicators; the follow-up summary renders the values and ratings."""

from __future__ import annotations

from factories import World, auth, case
from gates_setup import terms_payload
from sqlalchemy import select
from tests.documents.test_documents_api import _text

from service.agreements.models import AgreementIndicator
from service.cases.stages import Stage
from service.config import get_settings
from service.deadlines.rules import schedule_followup
from service.followup.models import FollowUpReport

GOALS = [
    {"title": "Fler äldre deltar i gemenskapen", "indicators": [
        {"name": "Deltagare", "unit": "count", "baseline": 120, "target": 1200, "how_measured": "Närvarolistor vid varje träff"},
        {"name": "Andel mindre ensamma", "unit": "percent", "target": 62.5, "how_measured": "Enkät i december", "periods": ["2029-02-28"]}]},
    {"title": "Tre träffar i veckan <varje vecka>", "indicators": []},
]


def _generate(client, c, kind: str, user) -> str:  # noqa: ANN001
    r = client.post(f"/api/v1/cases/{c.id}/documents/{kind}/generate", headers=auth(user))
    assert r.status_code == 201, r.text
    return _text(client.get(f"/api/v1/cases/{c.id}/documents/{r.json()['id']}/content", headers=auth(user)).content)


def test_goals_and_values_in_the_documents(client, db, store) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    assert client.put(f"/api/v1/cases/{c.id}/agreement", json={**terms_payload(w.org.name, w.org.orgnr), "goals": GOALS},
                      headers=auth(w.officer)).status_code == 200
    text = _generate(client, c, "agreement", w.officer)
    assert "Fler äldre deltar i gemenskapen" in text and "Tre träffar i veckan <varje vecka>" in text  # escaped, not markup
    assert "Deltagare" in text and "1\u00a0200\u00a0st" in text and "120\u00a0st" in text and "Närvarolistor vid varje träff" in text
    assert "62,5\u00a0%" in text and "2029-02-28" in text and "alla rapporter" in text

    c.stage = Stage.FOLLOW_UP
    db.flush()
    schedule_followup(db, c.id, get_settings())
    year, final = db.scalars(select(FollowUpReport).where(FollowUpReport.case_id == c.id).order_by(FollowUpReport.due_on)).all()
    # The request for the year report lists the indicator due in it, not the one asked for in the final report only.
    request = _generate(client, c, "followup_request", w.officer)
    assert "Deltagare" in request and "Närvarolistor vid varje träff" in request and "Andel mindre ensamma" not in request

    ids = {i.name: i.id for i in db.scalars(select(AgreementIndicator).where(AgreementIndicator.case_id == c.id))}
    r = client.post(f"/api/v1/cases/{c.id}/followup-reports/{year.id}/submit", headers=auth(w.member), json={
        "activities_done": "Träffpunkt 140 gånger", "participants_reached": 210, "money_used_sek": 150_000,
        "indicator_values": [{"indicator_id": ids["Deltagare"], "value": 987, "comment": "Räknat vid dörren"}]})
    assert r.status_code == 200, r.text
    summary = _generate(client, c, "followup_summary", w.officer)
    assert "987\u00a0st" in summary and "1\u00a0200\u00a0st" in summary and "Räknat vid dörren" in summary
    assert "Inte bedömd ännu" in summary and "Träffpunkt 140 gånger" in summary
    assert client.post(f"/api/v1/cases/{c.id}/followup-reports/{year.id}/assessment", headers=auth(w.officer), json={
        "assessment": "approved", "comment": "Väl genomfört",
        "indicators": [{"indicator_id": ids["Deltagare"], "rating": "partly", "comment": "Nära målet"}]}).status_code == 200
    summary = _generate(client, c, "followup_summary", w.officer)
    assert "Delvis uppnått" in summary and "Nära målet" in summary and "Godkänd" in summary and "Väl genomfört" in summary
