"""The read path (service/reads.py): asyncpg on PostgreSQL, a session elsewhere; same statement, same row."""

from __future__ import annotations

import asyncio

from factories import World, case
from sqlalchemy.orm import sessionmaker

from service.cases import repository
from service.cases.stages import Stage
from service.reads import PgReader, SessionReader, reader_for


def test_both_readers_answer_the_same_row_and_the_pool_closes(fresh_engine) -> None:  # noqa: ANN001
    factory = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    with factory() as s:
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.AGREEMENT)
        c.officer_id = w.officer.id
        s.commit()
        case_id, officer_id, other_id = c.id, w.officer.id, w.other_member.id

    reader = reader_for(fresh_engine)
    assert reader is reader_for(fresh_engine)  # one per engine: one pool per process, not per request
    assert isinstance(reader, PgReader if fresh_engine.dialect.name == "postgresql" else SessionReader)
    plain = SessionReader(factory)

    async def read(r, **params):  # noqa: ANN001, ANN003, ANN202
        row = await r.first(repository.CASE_FOR_READER, {"case_id": case_id, "user_id": officer_id, **params})
        return None if row is None else dict(row)

    async def scenario() -> None:
        ours, baseline = await read(reader), await read(plain)
        assert ours == baseline and ours["officer_full_name"] and ours["reader_role"] == "officer"
        assert repository.case_for_reader(ours).model_dump() == repository.case_for_reader(baseline).model_dump()
        assert (await read(reader, case_id=case_id + 1000))["id"] is None  # the reader's row, no case
        assert await read(reader, user_id=other_id + 1000) is None  # no such user: no row at all
        await reader.close()

    asyncio.run(scenario())


def test_list_pages_on_the_read_path_equal_the_orm_pages(fresh_engine) -> None:  # noqa: ANN001
    """Every sort, both directions, filters and cursors: the read path walks the same pages as the ORM query."""
    from service.auth.models import User
    from service.cases.schemas import CaseSummary
    from service.deps import Principal
    from service.schemas import Page

    factory = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    with factory() as s:
        w = World(s)
        for n, stage in enumerate([Stage.DIALOGUE, Stage.AGREEMENT, Stage.DIALOGUE, Stage.FOLLOW_UP, Stage.DIALOGUE, Stage.DRAFT]):
            c = case(s, w.org if n % 2 else w.other_org, w.dep, stage=stage, title=f"Träffpunkt {5 - n} & café",
                     requested_amount_sek=100_000 * (n % 3))
            c.officer_id = w.officer.id if n % 3 else None
        s.commit()
        officer_id = w.officer.id
        orm_user = s.get(User, officer_id)
        principal = Principal(orm_user.id, orm_user.role, orm_user.organisation_id, orm_user.department_id)
    reader = reader_for(fresh_engine)
    filters = [repository.CaseFilter(), repository.CaseFilter(stage=[Stage.DIALOGUE, Stage.AGREEMENT]),
               repository.CaseFilter(q="café", officer_id=officer_id), repository.CaseFilter(overdue=False, organisation_id=w.org.id),
               # The organisation search (LIKE with escapes, the orgnr without its dash), "mine", unassigned and the year on both paths.
               repository.CaseFilter(organisation_q=w.org.name[-4:].upper(), unassigned=False),
               repository.CaseFilter(organisation_q=w.other_org.orgnr.replace("-", "")[2:], mine=False),
               repository.CaseFilter(mine=True, submitted_year=2026, overdue=True), repository.CaseFilter(unassigned=True)]

    async def walk(f: repository.CaseFilter, sort: str) -> list[tuple[list[int], str | None]]:
        pages, cursor = [], None
        while True:
            stmt, field = repository.summaries_statement(principal, f, sort=sort, cursor=cursor, limit=2)
            rows = await reader.all(stmt)
            items, cursor = repository.summaries_page(rows, 2, field)
            # What the API sends, built without a model per row, is the model's own JSON byte for byte.
            assert repository.summaries_json(rows, 2, field) == Page[CaseSummary](items=items, next_cursor=cursor).model_dump_json().encode()
            pages.append(([i.model_dump(mode="json") for i in items], cursor))
            if cursor is None:
                return pages

    async def scenario() -> None:
        for f in filters:
            for sort in [*repository.SORTS, *(f"-{k}" for k in repository.SORTS)]:
                ours = await walk(f, sort)
                with factory() as s:
                    user, expected, cursor = s.get(User, officer_id), [], None
                    while True:
                        rows, cursor = repository.list_cases(s, user, f, sort=sort, cursor=cursor, limit=2)
                        expected.append(([CaseSummary.model_validate(r).model_dump(mode="json") for r in rows], cursor))
                        if cursor is None:
                            break
                assert ours == expected, (f, sort)
                assert sum(len(items) for items, _ in ours) == len({i["id"] for items, _ in ours for i in items})
        assert any(len(items) == 2 for items, _ in await walk(filters[0], "-created_at"))  # pages were really cut
        await reader.close()

    asyncio.run(scenario())


def test_compiled_once_per_shape_with_each_statements_own_values() -> None:
    """Issue 18: the list's SQL comes from a cache keyed by the statement's shape; values (and IN-list lengths) are
    each statement's own, exactly what a fresh compilation gives."""
    from sqlalchemy import select

    from service.cases.models import Case
    from service.reads import _COMPILED, _DIALECT, compile_cached

    def fresh(stmt):  # noqa: ANN001, ANN202
        c = stmt.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
        params = c.construct_params()
        return c.string, [params[n] for n in c.positiontup or ()]

    shapes_before = len(_COMPILED)
    stmts = [select(Case.id).where(Case.title == title, Case.department_id.in_(deps)).limit(n)
             for title, deps, n in (("A", [1], 5), ("B", [2, 3, 4], 7), ("C & <D>", [9, 8], 1))]
    for stmt in stmts:
        assert compile_cached(stmt) == fresh(stmt)
    assert len(_COMPILED) == shapes_before + 1  # one shape, three statements
    sql, args = compile_cached(stmts[1])
    assert sorted(map(str, args)) == ["2", "3", "4", "7", "B"] and sql.count("$") == 5  # numbered as asyncpg binds them
