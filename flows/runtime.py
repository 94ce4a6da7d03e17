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
def autocommit_connection(*, wait_for_disk: bool = True) -> Iterator[Connection]:
    """A connection for small writes each committed at once (`conn.commit()` after each): on PostgreSQL in autocommit,
    so a write is one round trip and the commit() costs nothing; on SQLite an ordinary one (its BEGIN IMMEDIATE, commit).

    wait_for_disk=False (PostgreSQL's synchronous_commit off): a commit is at once visible to every other session and
    survives this process dying, but not the database server crashing within ~0.6 s (3 x wal_writer_delay) after it;
    it no longer waits for the WAL flush, which on a busy disk took longer than the SMTP exchange it records.
    """
    with get_engine().connect() as conn:
        if conn.dialect.name != "postgresql":
            yield conn
            return
        # The pool restores the isolation level when the connection goes back; the setting is reset here.
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        if wait_for_disk:
            yield auto
            return
        auto.exec_driver_sql("SET synchronous_commit TO off")
        try:
            yield auto
        finally:
            auto.exec_driver_sql("RESET synchronous_commit")


@lru_cache
def outbox_context() -> Context:
    """Settings, mailer and object store for outbox handlers."""
    from service.documents.service import get_store

    settings = get_settings()
    return Context(settings=settings, mailer=mailer_from_settings(settings), store_factory=get_store, handlers=HANDLERS)
