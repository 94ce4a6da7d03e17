"""The outbox kick fires once per outer commit that wrote events: not on savepoint release, not lost to a savepoint rollback."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.outbox import kick
from service.outbox.service import emit


class Boom(Exception):
    """A refused step inside a savepoint."""


def test_kick_follows_the_outer_transaction(fresh_engine, monkeypatch) -> None:  # noqa: ANN001
    calls: list[int] = []
    monkeypatch.setattr(kick, "kick", lambda **_: calls.append(1))
    with Session(fresh_engine) as s:
        with s.begin():
            with s.begin_nested():  # as the web forms do around every service call
                emit(s, "email.send", {"k": 1})
            assert calls == []  # the savepoint is released, but nothing is visible to the flow yet
        assert calls == [1]
        with s.begin():
            emit(s, "email.send", {"k": 2})
            try:
                with s.begin_nested():
                    raise Boom
            except Boom:
                pass
        assert calls == [1, 1]  # the rolled-back savepoint did not forget the earlier event
        with s.begin():
            pass
        assert calls == [1, 1]  # a transaction without events asks for nothing
        s.begin()
        emit(s, "email.send", {"k": 3})
        s.rollback()
        with s.begin():
            pass
        assert calls == [1, 1]  # a rolled-back event is never kicked, not even by a later empty commit
