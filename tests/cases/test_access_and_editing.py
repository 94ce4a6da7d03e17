"""Visibility (404, no existence leak), optimistic locking, listing."""

from __future__ import annotations

import pytest
from factories import World, auth, case, department, user
from helpers import problem

from service.auth.models import Role
from service.cases.stages import Stage


@pytest.mark.parametrize("method,path,body", [
    ("get", "", None), ("patch", "", {"title": "x"}), ("post", "/submit", None), ("post", "/withdraw", {}),
    ("get", "/reviews", None), ("get", "/stages", None), ("get", "/audit", None), ("get", "/meetings", None),
])
def test_other_organisation_gets_404(client, db, method: str, path: str, body) -> None:  # noqa: ANN001
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE)
    r = client.request(method.upper(), f"/api/v1/cases/{c.id}{path}", json=body, headers={**auth(w.other_member), "If-Match": '"1"'})
    body404 = problem(r, 404)
    missing = problem(client.request(method.upper(), f"/api/v1/cases/999999{path}", json=body, headers={**auth(w.other_member), "If-Match": '"1"'}), 404)
    assert body404["detail"] == missing["detail"]  # indistinguishable from a case that does not exist


def test_lists_only_show_visible_cases(client, db) -> None:
    w = World(db)
    mine = case(db, w.org, w.dep, stage=Stage.DIALOGUE)
    draft = case(db, w.org, w.dep, stage=Stage.DRAFT)
    theirs = case(db, w.other_org, w.dep, stage=Stage.DIALOGUE)
    other_dep = department(db)
    elsewhere = case(db, w.org, other_dep, stage=Stage.DIALOGUE)
    ids = lambda u: {x["id"] for x in client.get("/api/v1/cases?limit=100", headers=auth(u)).json()["items"]}  # noqa: E731
    assert ids(w.member) == {mine.id, draft.id, elsewhere.id}
    assert ids(w.other_member) == {theirs.id}
    assert ids(w.officer) == {mine.id, theirs.id}  # own department, no drafts
    assert {mine.id, draft.id, theirs.id, elsewhere.id} <= ids(w.registrar)
    assert ids(w.admin) == set()
    problem(client.get(f"/api/v1/cases/{draft.id}", headers=auth(w.officer)), 404)
    problem(client.get(f"/api/v1/cases/{elsewhere.id}", headers=auth(w.officer)), 404)


def test_stale_if_match_is_409_and_missing_is_428(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DRAFT)
    r = client.get(f"/api/v1/cases/{c.id}", headers=auth(w.member))
    etag = r.headers["etag"]
    problem(client.patch(f"/api/v1/cases/{c.id}", json={"title": "Ny titel"}, headers=auth(w.member)), 428)
    r1 = client.patch(f"/api/v1/cases/{c.id}", json={"title": "Ny titel"}, headers={**auth(w.member), "If-Match": etag})
    assert r1.status_code == 200 and r1.headers["etag"] != etag
    body = problem(client.patch(f"/api/v1/cases/{c.id}", json={"title": "Annan titel"}, headers={**auth(w.member), "If-Match": etag}), 409)
    assert body["current_version"] == int(r1.headers["etag"].strip('"'))
    assert client.get(f"/api/v1/cases/{c.id}", headers=auth(w.member)).json()["title"] == "Ny titel"
    problem(client.patch(f"/api/v1/cases/{c.id}", json={"title": "x"}, headers={**auth(w.member), "If-Match": "abc"}), 422)


def test_bad_input_is_422_problem_and_changes_nothing(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DRAFT)
    etag = client.get(f"/api/v1/cases/{c.id}", headers=auth(w.member)).headers["etag"]
    body = problem(client.patch(f"/api/v1/cases/{c.id}", json={"title": "Ok", "requested_amount_sek": -5, "period_start": "2027-05-01", "period_end": "2027-01-01"},
                                headers={**auth(w.member), "If-Match": etag}), 422)
    assert "requested_amount_sek" in {e["field"] for e in body["errors"]}
    after = client.get(f"/api/v1/cases/{c.id}", headers=auth(w.member))
    assert after.headers["etag"] == etag and after.json()["title"] == c.title
    problem(client.post("/api/v1/cases", json={"title": "", "department_id": w.dep.id}, headers=auth(w.member)), 422)
    problem(client.post("/api/v1/cases", json={"title": "X", "department_id": 987654}, headers=auth(w.member)), 422)


def test_only_org_members_create_and_officers_cannot_edit_drafts(client, db) -> None:
    w = World(db)
    problem(client.post("/api/v1/cases", json={"title": "X", "department_id": w.dep.id}, headers=auth(w.officer)), 403)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED)
    etag = client.get(f"/api/v1/cases/{c.id}", headers=auth(w.member)).headers["etag"]
    problem(client.patch(f"/api/v1/cases/{c.id}", json={"title": "Y"}, headers={**auth(w.member), "If-Match": etag}), 409)
    assert client.patch(f"/api/v1/cases/{c.id}", json={"title": "Y"}, headers={**auth(w.officer), "If-Match": etag}).status_code == 200
    problem(client.patch(f"/api/v1/cases/{c.id}", json={"title": "Z"}, headers={**auth(w.approver), "If-Match": f'"{c.version}"'}), 403)


def test_assign_officer_rules(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED)
    foreign = user(db, Role.OFFICER, department=department(db))
    assert {e["field"] for e in problem(client.post(f"/api/v1/cases/{c.id}/assign", json={"officer_id": foreign.id}, headers=auth(w.officer)), 422)["errors"]} == {"officer_id"}
    problem(client.post(f"/api/v1/cases/{c.id}/assign", json={"officer_id": w.approver.id}, headers=auth(w.officer)), 422)
    r = client.post(f"/api/v1/cases/{c.id}/assign", json={"officer_id": w.officer2.id}, headers=auth(w.approver))
    assert r.status_code == 200 and r.json()["officer"]["id"] == w.officer2.id
    problem(client.post(f"/api/v1/cases/{c.id}/assign", json={"officer_id": w.officer2.id}, headers=auth(w.member)), 403)


def test_filters_and_cursor_pagination(client, db) -> None:
    w = World(db)
    made = [case(db, w.org, w.dep, stage=Stage.DIALOGUE if i % 2 else Stage.IDENTIFY_NEED, title=f"Läxhjälp {i:02d}",
                 officer_id=w.officer.id if i % 3 == 0 else None) for i in range(7)]
    seen, cursor = [], None
    while True:
        url = "/api/v1/cases?limit=3&sort=title" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=auth(w.officer)).json()
        seen += [x["title"] for x in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(c.title for c in made)
    desc = client.get("/api/v1/cases?limit=100&sort=-created_at", headers=auth(w.officer)).json()["items"]
    assert [x["id"] for x in desc] == sorted((c.id for c in made), reverse=True)
    dialogue = client.get("/api/v1/cases?stage=dialogue", headers=auth(w.officer)).json()["items"]
    assert {x["id"] for x in dialogue} == {c.id for c in made if c.stage == Stage.DIALOGUE}
    mine = client.get(f"/api/v1/cases?officer_id={w.officer.id}", headers=auth(w.officer)).json()["items"]
    assert {x["id"] for x in mine} == {made[0].id, made[3].id, made[6].id}
    text = client.get("/api/v1/cases?q=xhjälp 04", headers=auth(w.officer)).json()["items"]
    assert [x["id"] for x in text] == [made[4].id]
    problem(client.get("/api/v1/cases?sort=password", headers=auth(w.officer)), 422)
    problem(client.get("/api/v1/cases?cursor=notacursor", headers=auth(w.officer)), 422)


def test_overdue_filter(client, db) -> None:
    from datetime import timedelta

    from service.db import utcnow
    from service.reviews.models import Review

    w = World(db)
    late = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED)
    fine = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED)
    for c, due in ((late, utcnow() - timedelta(days=1)), (fine, utcnow() + timedelta(days=5))):
        db.add(Review(case_id=c.id, from_stage=Stage.IDENTIFY_NEED, to_stage=Stage.DIALOGUE, requested_by_id=w.officer.id, due_at=due))
    db.flush()
    assert [x["id"] for x in client.get("/api/v1/cases?overdue=true", headers=auth(w.officer)).json()["items"]] == [late.id]
    assert [x["id"] for x in client.get("/api/v1/cases?overdue=false", headers=auth(w.officer)).json()["items"]] == [fine.id]


def test_case_read_answers_what_the_orm_view_answers(client, db) -> None:
    """GET /cases/{id} reads one Core row (service/reads.py); it must equal CaseOut of the ORM case, for every reader."""
    from service.cases.models import Case
    from service.cases.schemas import CaseOut

    w = World(db)
    assigned = case(db, w.org, w.dep, stage=Stage.DIALOGUE, title="Läxhjälp & språkcafé <Norrby>")
    assigned.officer_id = w.officer.id
    unassigned = case(db, w.org, w.dep, stage=Stage.DIALOGUE)
    draft = case(db, w.org, w.dep, stage=Stage.DRAFT)
    db.flush()
    db.expire_all()
    for c, readers, hidden in [
        (assigned, [w.member, w.officer, w.approver, w.registrar], [w.other_member, w.admin]),
        (unassigned, [w.member, w.officer, w.registrar], [w.other_member]),
        (draft, [w.member, w.registrar], [w.officer, w.approver, w.other_member]),
    ]:
        expected = CaseOut.model_validate(db.get(Case, c.id)).model_dump(mode="json")
        for u in readers:
            r = client.get(f"/api/v1/cases/{c.id}", headers=auth(u))
            assert r.status_code == 200 and r.headers["content-type"] == "application/json", (u.role, r.text)
            assert r.json() == expected and r.headers["etag"] == f'"{expected["version"]}"'
        for u in hidden:
            problem(client.get(f"/api/v1/cases/{c.id}", headers=auth(u)), 404)
    assert client.get(f"/api/v1/cases/{assigned.id}", headers=auth(w.officer)).json()["officer"]["id"] == w.officer.id
    w.member.is_active = False
    db.flush()
    problem(client.get(f"/api/v1/cases/{assigned.id}", headers=auth(w.member)), 401)
    problem(client.get(f"/api/v1/cases/{assigned.id}"), 401)
