"""Case message thread: who posts, internal notes hidden from the organisation, cursor pages, audit without text."""

from __future__ import annotations

from factories import World, auth, case, department, user
from helpers import error_fields, problem
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.auth.models import Role
from service.cases.stages import Stage
from service.notifications.models import Notification


def _post(client, c, who, body="Hej!", **extra):  # noqa: ANN001, ANN202
    return client.post(f"/api/v1/cases/{c.id}/messages", json={"body": body, **extra}, headers=auth(who))


def _thread(client, c, who, **params) -> dict:  # noqa: ANN001
    r = client.get(f"/api/v1/cases/{c.id}/messages", params=params, headers=auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def test_parties_post_and_read_in_order(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    r = _post(client, c, w.member, "  Vi har en fråga om lokalen.  ")
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["body"] == "Vi har en fråga om lokalen." and first["internal"] is False
    assert first["author"] == {"id": w.member.id, "full_name": w.member.full_name, "role": "org_member"}
    assert r.headers["location"] == f"/api/v1/cases/{c.id}/messages/{first['id']}"
    assert _post(client, c, w.officer, "Lokalen ingår.").status_code == 201
    assert _post(client, c, w.approver, "Instämmer.").status_code == 201
    for reader in (w.member, w.officer, w.registrar):
        assert [m["body"] for m in _thread(client, c, reader)["items"]] == ["Vi har en fråga om lokalen.", "Lokalen ingår.", "Instämmer."]


def test_internal_notes_hidden_from_organisation(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    _post(client, c, w.member, "Öppet meddelande")
    note = _post(client, c, w.officer, "Intern bedömning: oklart om LOU", internal=True)
    assert note.status_code == 201 and note.json()["internal"] is True
    approver_note = _post(client, c, w.approver, "Intern: ok för mig", internal=True)
    assert approver_note.status_code == 201
    member_view = _thread(client, c, w.member)["items"]
    assert [m["body"] for m in member_view] == ["Öppet meddelande"]
    problem(client.get(f"/api/v1/cases/{c.id}/messages/{note.json()['id']}", headers=auth(w.member)), 404)
    for staff in (w.officer, w.officer2, w.approver, w.registrar):
        assert len(_thread(client, c, staff)["items"]) == 3
        r = client.get(f"/api/v1/cases/{c.id}/messages/{note.json()['id']}", headers=auth(staff))
        assert r.status_code == 200 and r.json()["body"] == "Intern bedömning: oklart om LOU"
    # The timeline keeps the same secret.
    member_timeline = client.get(f"/api/v1/cases/{c.id}/timeline", headers=auth(w.member)).json()
    assert "LOU" not in str(member_timeline) and "Intern" not in str(member_timeline)


def test_member_cannot_write_internal_note(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED)
    body = problem(_post(client, c, w.member, "Hemligt", internal=True), 422)
    assert error_fields(body) == {"internal"}
    assert _thread(client, c, w.officer)["items"] == []


def test_who_may_not_post(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED)
    other_dep_officer = user(db, Role.OFFICER, department=department(db))
    problem(_post(client, c, w.other_member), 404)  # another organisation does not learn the case exists
    problem(_post(client, c, other_dep_officer), 404)
    problem(_post(client, c, w.admin), 404)
    problem(_post(client, c, w.registrar), 403)  # registrars read, they do not take part
    problem(client.get(f"/api/v1/cases/{c.id}/messages", headers=auth(w.other_member)), 404)
    problem(client.post(f"/api/v1/cases/{c.id}/messages", json={"body": "x"}), 401)


def test_body_validated(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED)
    assert error_fields(problem(_post(client, c, w.member, "   "), 422)) == {"body"}
    assert error_fields(problem(_post(client, c, w.member, "x" * 10_001), 422)) == {"body"}
    assert error_fields(problem(client.post(f"/api/v1/cases/{c.id}/messages", json={}, headers=auth(w.member)), 422)) == {"body"}
    # PostgreSQL cannot store NUL: refused as bad input, never a 500.
    assert error_fields(problem(_post(client, c, w.member, "före\x00efter"), 422)) == {"body"}
    assert _post(client, c, w.member, "Rad ett\n\tRad två").status_code == 201


def test_closed_case_thread_is_read_only(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.CLOSED)
    body = problem(_post(client, c, w.member), 409)
    assert body["current_stage"] == "closed"


def test_cursor_pages_cover_the_thread_once(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED)
    for i in range(5):
        _post(client, c, w.member, f"m{i}")
        _post(client, c, w.officer, f"intern{i}", internal=True)
    seen, cursor = [], None
    while True:
        page = _thread(client, c, w.member, limit=2, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 2
        seen += [m["body"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"m{i}" for i in range(5)]
    assert len(_thread(client, c, w.officer, limit=100)["items"]) == 10
    problem(client.get(f"/api/v1/cases/{c.id}/messages", params={"cursor": "nonsens"}, headers=auth(w.member)), 422)


def test_audit_records_id_and_flag_not_text(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED)
    secret = "Personnummer 19121212-1212 nämns här"
    mid = _post(client, c, w.officer, secret, internal=True).json()["id"]
    event = db.scalars(select(AuditEvent).where(AuditEvent.case_id == c.id, AuditEvent.action == "message.posted")).one()
    assert event.after == {"message_id": mid, "internal": True}
    assert "19121212" not in str(event.before) + str(event.after)
    assert client.get(f"/api/v1/cases/{c.id}/audit/verify", headers=auth(w.registrar)).json()["valid"] is True


def test_message_of_another_case_is_404(client, db) -> None:
    w = World(db)
    c1 = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED)
    c2 = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED)
    mid = _post(client, c1, w.member).json()["id"]
    problem(client.get(f"/api/v1/cases/{c2.id}/messages/{mid}", headers=auth(w.member)), 404)
    assert client.get(f"/api/v1/cases/{c1.id}/messages/{mid}", headers=auth(w.member)).status_code == 200


def test_out_of_range_ids_are_refused_before_the_database(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED)
    for big in (2**31, 2**63):
        assert error_fields(problem(client.get(f"/api/v1/cases/{c.id}/messages/{big}", headers=auth(w.member)), 422)) == {"path.message_id"}
        assert error_fields(problem(client.get(f"/api/v1/cases/{big}/messages", headers=auth(w.member)), 422)) == {"path.case_id"}
        assert error_fields(problem(client.get(f"/api/v1/cases/{big}/timeline", headers=auth(w.member)), 422)) == {"path.case_id"}


def _notes(client, who) -> list[dict]:  # noqa: ANN001
    r = client.get("/api/v1/notifications", headers=auth(who))
    assert r.status_code == 200, r.text
    return [n for n in r.json() if n["kind"] == "message_posted"]


def test_new_messages_notify_the_other_party(client, db) -> None:
    w = World(db)
    colleague = user(db, Role.ORG_MEMBER, organisation=w.org)
    gone = user(db, Role.ORG_MEMBER, organisation=w.org, is_active=False)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)

    # The organisation writes: the assigned officer is told, nobody else (not the author, not other staff or members).
    assert _post(client, c, w.member, "Personnummer 19121212-1212 finns i bilagan").status_code == 201
    [note] = _notes(client, w.officer)
    assert note["case_id"] == c.id and c.diarienummer in note["title"] and note["read_at"] is None
    assert note["body"] == f"Från {w.member.full_name}" and "19121212" not in str(note)  # the text stays in the (erasable) thread
    assert not _notes(client, w.member) and not _notes(client, colleague) and not _notes(client, w.officer2) and not _notes(client, w.approver)

    # The officer answers: every active member of the organisation is told, the officer is not.
    assert _post(client, c, w.officer, "Tack, vi tittar på det.").status_code == 201
    for member in (w.member, colleague):
        assert [n["title"].startswith("Nytt meddelande") for n in _notes(client, member)] == [True]
    assert len(_notes(client, w.officer)) == 1 and not _notes(client, w.other_member)
    assert not db.scalars(select(Notification).where(Notification.user_id == gone.id)).all()  # a disabled account is skipped

    # An internal note reaches nobody at the organisation; a colleague's note reaches the assigned officer.
    assert _post(client, c, w.officer, "Intern: kolla budgeten", internal=True).status_code == 201
    assert _post(client, c, w.approver, "Intern: jag tar beslutet", internal=True).status_code == 201
    assert len(_notes(client, w.member)) == 1 and len(_notes(client, colleague)) == 1
    titles = [n["title"] for n in _notes(client, w.officer)]
    assert len(titles) == 2 and titles[0].startswith("Ny intern anteckning")  # newest first
    assert not _notes(client, w.approver)

    # The recipient marks it read.
    nid = _notes(client, w.member)[0]["id"]
    assert client.post(f"/api/v1/notifications/{nid}/read", headers=auth(w.member)).json()["read_at"] is not None


def test_message_on_an_unassigned_case_notifies_no_officer(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED)
    assert _post(client, c, w.member, "Hej, någon där?").status_code == 201
    assert not _notes(client, w.officer) and not _notes(client, w.officer2)


def test_messages_to_the_other_party_are_announced_by_email_without_the_text(client, db) -> None:

    from service.notifications.email import render_email
    from service.outbox.models import OutboxEvent

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)

    def mails() -> list[dict]:
        db.expire_all()
        return [e.payload for e in db.scalars(select(OutboxEvent).where(OutboxEvent.case_id == c.id, OutboxEvent.topic == "email.send")
                                              .order_by(OutboxEvent.id))]

    secret = "Ring Karin Andersson på 070-123 45 67"
    assert client.post(f"/api/v1/cases/{c.id}/messages", json={"body": secret}, headers=auth(w.member)).status_code == 201
    sent = mails()
    assert [m["context"]["to"] for m in sent] == [w.officer.email]
    spec = render_email(sent[0]["template"], sent[0]["context"])
    assert c.diarienummer in spec.subject and w.member.full_name in spec.body and f"/arenden/{c.id}" in spec.body
    assert "Karin" not in spec.body and "070" not in spec.body  # the text stays in the thread (GDPR erasure reaches it there)
    client.post(f"/api/v1/cases/{c.id}/messages", json={"body": "Intern: kolla budgeten", "internal": True}, headers=auth(w.officer))
    assert len(mails()) == 1  # internal notes send no e-mail
    client.post(f"/api/v1/cases/{c.id}/messages", json={"body": "Tack, vi återkommer."}, headers=auth(w.officer))
    assert [m["context"]["to"] for m in mails()][1:] == [w.member.email]
