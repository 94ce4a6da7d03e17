"""What flows share: a session factory and the outbox context, built from settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

import service.doctemplates.active  # noqa: F401  (registers the active custom templates for documents flows render)
from service.config import get_settings
from service.db import get_engine, get_sessionmaker
from service.effects import HANDLERS
from service.notifications.mailer import mailer_from_settings
from service.outbox.service import Context


def session_factory() -> sessionmaker[Session]:
    """Sessions on the configured database."""
    return get_sessionmaker()


@contextmanager
def autocommit_connection() -> Iterator[Connection]:
    """A connection for small writes each committed at once (`conn.commit()` after each): on PostgreSQL in autocommit,
    so a write is one round trip and the commit() costs nothing; on SQLite an ordinary one (its BEGIN IMMEDIATE, commit)."""
    with get_engine().connect() as conn:
        if conn.dialect.name != "postgresql":
            yield conn
            return
        # The pool restores the isolation level when the connection goes back.
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


@lru_cache
def outbox_context() -> Context:
    """Settings, mailer and object store for outbox handlers."""
    from service.documents.service import get_store

    settings = get_settings()
    return Context(settings=settings, mailer=mailer_from_settings(settings), store_factory=get_store, handlers=HANDLERS)
