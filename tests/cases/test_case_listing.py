"""GET /api/v1/cases: search by organisation, every sort both ways with the id tiebreak, the filters, bad values as 422.

Expected lists are computed from the rows each test creates (SQLite and PostgreSQL, the db fixtures parametrise).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from factories import World, auth, case, department, organisation
from helpers import error_fields, problem

from service.cases.listing import SORTS, STAGE_ORDER
from service.cases.stages import Stage
from service.config import get_settings
from service.db import utcnow
from service.deadlines.models import Deadline, DeadlineKind, DeadlineStatus
from service.deadlines.rules import create as create_deadline


def _walk(client, user, **params: Any) -> list[dict]:  # noqa: ANN001
    """Every item of a list, page by page (limit 2, so the cursor is used), the parameters kept on every page."""
    items, cursor = [], None
    for _ in range(100):
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        r = client.get(f"/api/v1/cases?{urlencode(query, doseq=True)}", headers=auth(user))
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("the cursor never ended")


def _ids(client, user, **params: Any) -> list[int]:  # noqa: ANN001
    return [x["id"] for x in _walk(client, user, **params)]


def test_search_by_organisation_name_or_orgnr_ignores_case_and_the_dash(client, db) -> None:  # noqa: ANN001
    w = World(db)
    orebro = organisation(db, name="ÖREBRO Läxhjälp Ideell förening")
    percent = organisation(db, name="Hundra procent idrott")
    plain = organisation(db, name="Kvinnojouren Ek")
    cases = {org.id: case(db, org, w.dep, stage=Stage.DIALOGUE, title=f"Samverkan {org.name}") for org in (orebro, percent, plain)}
    registrar = w.registrar

    def found(text: str) -> set[int]:
        return {i for i in _ids(client, registrar, organisation_q=text) if i in {c.id for c in cases.values()}}

    assert found("örebro") == {cases[orebro.id].id}  # lower case finds upper case, also beyond ASCII (Ö)
    assert found("LÄXHJÄLP") == {cases[orebro.id].id}
    assert found("jouren") == {cases[plain.id].id}  # any part of the name
    assert found(plain.orgnr) == {cases[plain.id].id}
    assert found(plain.orgnr.replace("-", "")) == {cases[plain.id].id}  # without the dash
    assert found(plain.orgnr[3:9]) == {cases[plain.id].id}  # a part spanning the dash
    assert found("%") == set() and found("_") == set()  # LIKE wildcards are searched for literally
    assert found("finns inte") == set()
    # Combined with the other filters (both must hold).
    assert found("örebro") & set(_ids(client, registrar, organisation_q="örebro", stage="agreement")) == set()


def test_every_sort_both_directions_pages_through_in_key_then_id_order(client, db) -> None:  # noqa: ANN001
    w = World(db)
    settings = get_settings()
    orgs = [organisation(db, name=n) for n in ("Beta idrott", "Alfa kultur", "Alfa kultur")]  # two with the same name: id decides
    base = datetime(2026, 3, 1, 12, tzinfo=UTC)
    rows = []
    specs = [  # (org, stage, title, amount, diarienummer, created/updated minutes, deadline in days or None)
        (0, Stage.DIALOGUE, "Cafe", 300, "X 2026/0003", 5, 3),
        (1, Stage.IDENTIFY_NEED, "Anlag", 100, "X 2026/0001", 1, None),
        (2, Stage.AGREEMENT, "Cafe", 100, "X 2026/0002", 1, 10),
        (0, Stage.FOLLOW_UP, "Bokcirkel", 200, "X 2025/0009", 3, 3),
        (1, Stage.CLOSED, "Anlag", 300, "X 2026/0004", 2, None),
    ]
    for org, stage, title, amount, dnr, minutes, due in specs:
        c = case(db, orgs[org], w.dep, stage=stage, title=title, requested_amount_sek=amount, diarienummer=dnr,
                 created_at=base + timedelta(minutes=minutes), updated_at=base + timedelta(minutes=minutes))
        if due is not None:
            create_deadline(db, c, DeadlineKind.DIALOGUE, settings, due_at=base + timedelta(days=due))
        rows.append((c, orgs[org].name, due))
    # A met deadline does not count as the next one.
    db.add(Deadline(case_id=rows[1][0].id, kind=DeadlineKind.TRIAGE, due_at=base, original_due_at=base, status=DeadlineStatus.MET))
    db.flush()
    keys = {
        "created_at": lambda r: r[0].created_at, "updated_at": lambda r: r[0].updated_at, "title": lambda r: r[0].title,
        "requested_amount_sek": lambda r: r[0].requested_amount_sek, "diarienummer": lambda r: r[0].diarienummer,
        "organisation": lambda r: r[1], "stage": lambda r: STAGE_ORDER[r[0].stage],
    }
    assert set(keys) | {"next_deadline"} == set(SORTS)
    for key, value in keys.items():
        up = [r[0].id for r in sorted(rows, key=lambda r: (value(r), r[0].id))]
        down = [r[0].id for r in sorted(rows, key=lambda r: (value(r), r[0].id), reverse=True)]
        assert _ids(client, w.officer, sort=key) == up, key
        assert _ids(client, w.officer, sort=f"-{key}") == down, key
    # Next deadline: soonest first going up, latest first going down; cases without one last either way.
    with_due = [r for r in rows if r[2] is not None]
    without = sorted(r[0].id for r in rows if r[2] is None)
    assert _ids(client, w.officer, sort="next_deadline") == [r[0].id for r in sorted(with_due, key=lambda r: (r[2], r[0].id))] + without
    assert _ids(client, w.officer, sort="-next_deadline") == (
        [r[0].id for r in sorted(with_due, key=lambda r: (r[2], r[0].id), reverse=True)] + without[::-1])
    listed = {x["id"]: x for x in _walk(client, w.officer)}
    for c, _, due in rows:
        expected = None if due is None else (base + timedelta(days=due))
        got = listed[c.id]["next_deadline_at"]
        assert (got and datetime.fromisoformat(got)) == expected


def test_filters_department_stage_officer_overdue_and_year(client, db) -> None:  # noqa: ANN001
    w = World(db)
    settings = get_settings()
    # 23:30 on New Year's Eve in Stockholm is 22:30 UTC (still 2025); 00:30 on New Year's Day is 23:30 UTC on the 31st (2026).
    late_2025 = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id, submitted_at=datetime(2025, 12, 31, 22, 30, tzinfo=UTC))
    early_2026 = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer2.id,
                      submitted_at=datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    unassigned = case(db, w.other_org, w.dep, stage=Stage.IDENTIFY_NEED, submitted_at=datetime(2026, 6, 1, tzinfo=UTC))
    elsewhere_dep = department(db)
    elsewhere = case(db, w.org, elsewhere_dep, stage=Stage.DIALOGUE, submitted_at=datetime(2026, 6, 1, tzinfo=UTC))
    create_deadline(db, unassigned, DeadlineKind.TRIAGE, settings, due_at=utcnow() - timedelta(days=2))  # overdue
    create_deadline(db, late_2025, DeadlineKind.DIALOGUE, settings, due_at=utcnow() + timedelta(days=20))
    mine = {late_2025.id, early_2026.id, unassigned.id}

    def ids(user, **params: Any) -> set[int]:  # noqa: ANN001
        return set(_ids(client, user, **params))

    assert ids(w.officer) == mine
    assert ids(w.officer, submitted_year=2025) == {late_2025.id}
    assert ids(w.officer, submitted_year=2026) == {early_2026.id, unassigned.id}
    assert ids(w.officer, mine="true") == {late_2025.id}
    assert ids(w.officer, mine="false") == {early_2026.id, unassigned.id}
    assert ids(w.officer, unassigned="true") == {unassigned.id}
    assert ids(w.officer, unassigned="false") == {late_2025.id, early_2026.id}
    assert ids(w.officer, officer_id=w.officer2.id) == {early_2026.id}
    assert ids(w.officer, overdue="true") == {unassigned.id}
    assert ids(w.officer, overdue="false") == {late_2025.id, early_2026.id}
    assert ids(w.officer, stage=["identify_need"], unassigned="false") == {early_2026.id}
    assert ids(w.officer, stage=["identify_need", "dialogue"], submitted_year=2026, overdue="true") == {unassigned.id}
    listed = {x["id"]: x for x in _walk(client, w.officer)}
    assert listed[unassigned.id]["overdue"] is True and listed[late_2025.id]["overdue"] is False
    # Department: a registrar picks one; an officer asking for another department still sees only what is visible.
    assert ids(w.registrar, department_id=elsewhere_dep.id) == {elsewhere.id}
    assert ids(w.officer, department_id=elsewhere_dep.id) == set()
    assert ids(w.registrar, department_id=w.dep.id, organisation_q=w.other_org.name) == {unassigned.id}


def test_an_organisation_member_sees_only_its_own_cases_whatever_the_filters(client, db) -> None:  # noqa: ANN001
    w = World(db)
    settings = get_settings()
    own = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id, submitted_at=datetime(2026, 2, 1, tzinfo=UTC))
    draft = case(db, w.org, w.dep, stage=Stage.DRAFT)
    theirs = case(db, w.other_org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id, submitted_at=datetime(2026, 2, 1, tzinfo=UTC))
    internal = create_deadline(db, own, DeadlineKind.REVIEW, settings, due_at=utcnow() + timedelta(days=2))
    signature = create_deadline(db, own, DeadlineKind.AGREEMENT_SIGNATURE, settings, due_at=utcnow() + timedelta(days=9))
    member = w.member
    assert set(_ids(client, member)) == {own.id, draft.id}
    assert _ids(client, member, organisation_q=w.other_org.name) == []
    assert _ids(client, member, organisation_q=w.other_org.orgnr) == []
    assert _ids(client, member, organisation_id=w.other_org.id) == []
    assert _ids(client, member, stage=["agreement"], submitted_year=2026) == [own.id]
    assert _ids(client, member, officer_id=w.officer.id) == [own.id]
    assert set(_ids(client, member, sort="-next_deadline")) == {own.id, draft.id}
    assert theirs.id in _ids(client, w.officer)
    # The next deadline is one the reader may see: the organisation is not shown the administration's review deadline.
    by_member = {x["id"]: x for x in _walk(client, member)}[own.id]["next_deadline_at"]
    by_officer = {x["id"]: x for x in _walk(client, w.officer)}[own.id]["next_deadline_at"]
    assert datetime.fromisoformat(by_member) == signature.due_at and datetime.fromisoformat(by_officer) == internal.due_at


@pytest.mark.parametrize("query,field", [
    ("sort=password", "sort"), ("sort=--title", "sort"), ("sort=", "sort"), ("submitted_year=1800", "submitted_year"),
    ("submitted_year=tjugo", "submitted_year"), ("unassigned=kanske", "unassigned"), ("mine=2", "mine"),
    ("organisation_q=a%00b", "organisation_q"), (f"organisation_q={'x' * 201}", "organisation_q"), ("stage=paused", "stage"),
])
def test_bad_sort_or_filter_is_a_422_problem(client, db, query: str, field: str) -> None:  # noqa: ANN001
    w = World(db)
    body = problem(client.get(f"/api/v1/cases?{query}", headers=auth(w.officer)), 422)
    assert field in error_fields(body) or field in body["detail"] or any(field in str(e) for e in body.get("errors", [])), body


def test_a_cursor_only_continues_its_own_sort(client, db) -> None:  # noqa: ANN001
    w = World(db)
    for n in range(3):
        case(db, w.org, w.dep, stage=Stage.DIALOGUE, title=f"Sak {n}")
    first = client.get("/api/v1/cases?limit=1&sort=title", headers=auth(w.officer)).json()
    assert first["next_cursor"]
    # A title cursor read as an amount or a date is refused, not passed to the database.
    for sort in ("requested_amount_sek", "updated_at", "next_deadline", "stage"):
        problem(client.get(f"/api/v1/cases?limit=1&sort={sort}&cursor={first['next_cursor']}", headers=auth(w.officer)), 422)
    assert client.get(f"/api/v1/cases?limit=1&sort=-title&cursor={first['next_cursor']}", headers=auth(w.officer)).status_code == 200
