"""The service app plus probe endpoints that stop at successive layers of a case GET.

Served by the benchmark with the same uvicorn command line as the other two apps, to show
where a GET's time goes (the service's own routes are untouched):

- `/bench-layers/nodb`: an `async def` endpoint behind the service's middleware and error handling;
- `/bench-layers/token`: + the bearer token check (`TokenUserId`, signature cached per token);
- `/bench-layers/read`: + one read on the read path (`Reads`: the users row through asyncpg);
- `/bench-layers/session`: for comparison, the write path's request session instead (`DbSession`:
  a SQLAlchemy session, `SELECT 1`, commit, thread-pool hops) with `CurrentUser`.

`GET /api/v1/cases/{id}` reads user and case (organisation, department, officer joined) in one
statement on the read path and answers `CaseOut` with its ETag.
"""

from __future__ import annotations

from sqlalchemy import text

from service.app import create_app
from service.cases import repository
from service.deps import CurrentUser, DbSession, Reads, TokenUserId

app = create_app()


@app.get("/bench-layers/nodb")
async def nodb() -> dict[str, int]:
    """No dependencies."""
    return {"ok": 1}


@app.get("/bench-layers/token")
async def token_only(user_id: TokenUserId) -> dict[str, int]:
    """The bearer token, no database."""
    return {"ok": user_id}


@app.get("/bench-layers/read")
async def read_only(user_id: TokenUserId, reads: Reads) -> dict[str, int]:
    """Token and one row on the read path."""
    row = await reads.first(repository.READER_BY_ID, {"user_id": user_id})
    return {"ok": int(row["reader_id"])}


@app.get("/bench-layers/session")
def session_only(session: DbSession, user: CurrentUser) -> dict[str, int]:
    """The write path's request session: users row, one more query and the commit."""
    return {"ok": int(session.execute(text("SELECT 1")).scalar_one()) + user.id}
