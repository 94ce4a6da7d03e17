"""Small helpers shared by API tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy.orm import Session

PROBLEM = "application/problem+json"


def problem(resp: Any, status: int) -> dict:
    """Assert a problem+json response with the status and return its body."""
    assert resp.status_code == status, f"expected {status}, got {resp.status_code}: {resp.text}"
    assert resp.headers["content-type"].startswith(PROBLEM), resp.headers["content-type"]
    body = resp.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def error_fields(body: dict) -> set[str]:
    """The field names listed in a problem's errors[]."""
    return {e["field"] for e in body.get("errors", [])}


def committing_sessions(factory: Callable[[], Session]) -> Callable[[], Iterator[Session]]:
    """A `session_scope` override whose request sessions come from `factory` and commit for real."""

    def _session() -> Iterator[Session]:
        s = factory()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    return _session


def use_sessions(app: Any, sessions: Callable[[], Iterator[Session]], reader: Any) -> None:
    """Send the request session (`session_scope`) and the read path (`read_scope`) to the test's database."""
    from service.db import session_scope
    from service.reads import read_scope

    app.dependency_overrides[session_scope] = sessions
    app.dependency_overrides[read_scope] = lambda: reader


def drop_sessions(app: Any) -> None:
    """Undo use_sessions()."""
    from service.db import session_scope
    from service.reads import read_scope

    app.dependency_overrides.pop(session_scope, None)
    app.dependency_overrides.pop(read_scope, None)


def race(app: Any, calls: list[Callable[[Any], Any]]) -> list[Any]:
    """Run the calls in threads released together by a barrier; each gets its own client."""
    from fastapi.testclient import TestClient

    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        with TestClient(app, raise_server_exceptions=False) as c:
            barrier.wait()
            results[i] = calls[i](c)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results
