"""The service app plus three probe endpoints that stop at successive layers of a case GET.

Served by the benchmark with the same uvicorn command line as the other two apps, to show
where a GET's time goes (the service's own routes are untouched):

- `/bench-layers/nodb`: a plain `def` endpoint behind the service's middleware and error handling;
- `/bench-layers/session`: + the request-scoped database session (`DbSession`) and one `SELECT 1`;
- `/bench-layers/user`: + the authenticated user (`CurrentUser`: JWT check and the users row).

`GET /api/v1/cases/{id}` adds the case query (organisation, department, officer joined) and
the `CaseOut` response model on top of the last one.
"""

from __future__ import annotations

from sqlalchemy import text

from service.app import create_app
from service.deps import CurrentUser, DbSession

app = create_app()


@app.get("/bench-layers/nodb")
def nodb() -> dict[str, int]:
    """No dependencies."""
    return {"ok": 1}


@app.get("/bench-layers/session")
def session_only(session: DbSession) -> dict[str, int]:
    """Session dependency and one trivial query."""
    return {"ok": int(session.execute(text("SELECT 1")).scalar_one())}


@app.get("/bench-layers/user")
def user_only(user: CurrentUser) -> dict[str, int]:
    """Session, token and user row."""
    return {"ok": user.id}
