"""The registrar's gallring API: what is due, the list, approval (403 for everyone else), execution after commit, 410 after."""

from __future__ import annotations

from datetime import UTC, datetime

from factories import World, auth
from gallring_world import add, close, open_case, versions
from helpers import problem
from sqlalchemy import select, update

from service.cases.models import StageChange
from service.config import Settings
from service.effects import HANDLERS
from service.notifications.mailer import FileMailer
from service.notifications.models import Notification
from service.outbox.models import OutboxEvent
from service.outbox.service import Context
from service.retention import service as retention

CLOSED_IN_2015 = datetime(2015, 3, 2, 10, 0, tzinfo=UTC)


def _closed_long_ago(db, store, w):  # noqa: ANN001, ANN202
    """A case closed in 2015 (its stage history says so) with an attachment, due under the shipped plan's five years."""
    c = open_case(db, w)
    doc = add(db, store, w, c, name="verksamhetsplan.pdf")
    close(db, w, c)
    db.execute(update(StageChange).where(StageChange.case_id == c.id).values(at=CLOSED_IN_2015))
    db.flush()
    return c, doc


def test_registrar_lists_approves_and_the_outbox_deletes_after_commit(client, db, store, tmp_path) -> None:  # noqa: ANN001
    w = World(db)
    c, doc = _closed_long_ago(db, store, w)

    for who in (w.officer, w.approver, w.admin, w.member):
        problem(client.get("/api/v1/retention/due", headers=auth(who)), 403)
        problem(client.post("/api/v1/retention/decisions", headers=auth(who)), 403)
    due = client.get("/api/v1/retention/due", headers=auth(w.registrar))
    assert due.status_code == 200, due.text
    mine = [d for d in due.json() if d["document_id"] == doc.id]
    assert mine and mine[0]["rule"] == "gallras efter 5 år" and mine[0]["document_type"] == "Bilaga"
    assert mine[0]["listed_in"] is None and mine[0]["diarienummer"] == c.diarienummer
    assert datetime.fromisoformat(mine[0]["closed_at"]) == CLOSED_IN_2015

    made = client.post("/api/v1/retention/decisions", headers=auth(w.registrar))
    assert made.status_code == 201, made.text
    decision = made.json()
    item = next(i for i in decision["items"] if i["document_id"] == doc.id)
    assert decision["status"] == "proposed" and item["state"] == "föreslagen"
    again = client.post("/api/v1/retention/decisions", headers=auth(w.registrar))
    assert again.status_code == 200 and again.json()["id"] == decision["id"]  # the open list, nothing added twice
    # Registrars hear of the list; nothing is deleted by it.
    assert db.scalar(select(Notification).where(Notification.user_id == w.registrar.id, Notification.kind == "gallring_proposed"))
    assert versions(store, doc)
    assert client.get(f"/api/v1/cases/{c.id}/documents/{doc.id}/content", headers=auth(w.registrar)).status_code == 200

    url = f"/api/v1/retention/decisions/{decision['id']}"
    for who in (w.officer, w.approver, w.admin, w.member):
        problem(client.post(f"{url}/approve", json={}, headers=auth(who)), 403)
        problem(client.get(url, headers=auth(who)), 403)
    problem(client.post(f"{url}/approve", json={"item_ids": [2**31 - 2]}, headers=auth(w.registrar)), 422)
    problem(client.post(f"{url}/approve", json={"item_ids": "alla"}, headers=auth(w.registrar)), 422)
    problem(client.get("/api/v1/retention/decisions/999999", headers=auth(w.registrar)), 404)
    assert versions(store, doc)

    approved = client.post(f"{url}/approve", json={"item_ids": [item["id"]]}, headers=auth(w.registrar))
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["approved_by_id"] == w.registrar.id
    problem(client.post(f"{url}/approve", json={}, headers=auth(w.registrar)), 409)
    assert versions(store, doc)  # the request only wrote the outbox event

    event = db.scalar(select(OutboxEvent).where(OutboxEvent.topic == retention.EXECUTE_TOPIC))
    settings = Settings()
    HANDLERS[event.topic](db, event, Context(settings=settings, mailer=FileMailer(tmp_path / "mail", settings.mail_from),
                                             store_factory=lambda: store, handlers=HANDLERS))
    assert versions(store, doc) == []
    shown = client.get(url, headers=auth(w.registrar)).json()
    assert shown["status"] == "executed"
    assert next(i for i in shown["items"] if i["document_id"] == doc.id)["state"].startswith("gallrad ")
    assert [d["id"] for d in client.get("/api/v1/retention/decisions", headers=auth(w.registrar)).json()][0] == decision["id"]

    # The file is gone, the row and the diary entry say so.
    gone = problem(client.get(f"/api/v1/cases/{c.id}/documents/{doc.id}/content", headers=auth(w.registrar)), 410)
    assert gone["disposal_decision_id"] == decision["id"]
    listed = next(d for d in client.get(f"/api/v1/cases/{c.id}/documents", headers=auth(w.registrar)).json() if d["id"] == doc.id)
    assert listed["disposal_decision_id"] == decision["id"] and listed["disposed_at"]
    entry = next(e for e in client.get(f"/api/v1/cases/{c.id}/diary", headers=auth(w.registrar)).json() if e["document_id"] == doc.id)
    assert entry["disposal_decision_id"] == decision["id"] and entry["disposed_at"]
    assert doc.id not in [d["document_id"] for d in client.get("/api/v1/retention/due", headers=auth(w.registrar)).json()]


def test_nothing_due_is_a_409(client, db) -> None:  # noqa: ANN001
    w = World(db)
    problem(client.post("/api/v1/retention/decisions", headers=auth(w.registrar)), 409)
