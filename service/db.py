"""Engine, declarative base and the request-scoped session."""

from __future__ import annotations

import math
import re

import anyio
import anyio.to_thread
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from service.config import get_settings
from service.hangs import Watchdog

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


def declare_unmodelled_indexes(*names: str) -> None:
    """Name indexes a migration creates that no model declares (PostgreSQL-only ones), on Base.metadata.info."""
    Base.metadata.info.setdefault("unmodelled_indexes", set()).update(names)


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001, ARG001
    """Alembic include_object hook: leave out the indexes declared unmodelled (service.cases.models: search)."""
    return not (type_ == "index" and name in Base.metadata.info.get("unmodelled_indexes", ()))


def utcnow() -> datetime:
    """Current time, aware, UTC."""
    return datetime.now(UTC)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql URLs and create the SQLite folder."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return url


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str, *, pool_size: int = 10, timeout: float | None = None) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and real transactions.

    With a timeout (seconds), a PostgreSQL that does not answer costs at most about that long: connecting, waiting
    for a pooled connection, and every statement (service.hangs), after which the request gets a 503.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # noqa: ANN001
            # pysqlite's own transaction handling breaks SAVEPOINT; we emit BEGIN ourselves.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # SQLite's own lower() folds only ASCII, so ILIKE missed 'Örebro' for 'örebro'; Python's folds all of Unicode.
            dbapi_conn.create_function("lower", 1, _unicode_lower, deterministic=True)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            # IMMEDIATE takes the write lock up front so concurrent writers queue instead of deadlocking.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if not timeout:
        return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    # libpq counts whole seconds and no fewer than 2; the pool ping is the watchdog's own (it arms it).
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_timeout=timeout,
                           connect_args={"connect_timeout": max(2, math.ceil(timeout))})
    Watchdog(timeout).install(engine)
    return engine


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine from settings."""
    s = get_settings()
    return make_engine(s.database_url, pool_size=s.db_pool_size, timeout=s.db_timeout_seconds or None)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    """Session factory bound to the process-wide engine."""
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


async def session_scope() -> AsyncIterator[Session]:
    """Request-scoped session: commit when the handler succeeds, roll back otherwise.

    Async so that only the end (commit or rollback, and close) takes a thread-pool hop: creating a
    Session does no I/O, and a sync generator dependency costs two hops per request (bench/).
    """
    session = get_sessionmaker()()
    # A limiter of its own, as FastAPI uses for sync generator dependencies: on the shared thread pool the
    # commit could wait behind handlers that wait for this request's pooled connection (a deadlock until
    # the pool timeout).
    limiter = anyio.CapacityLimiter(1)
    try:
        yield session
    except BaseException:
        await anyio.to_thread.run_sync(_rollback_and_close, session, limiter=limiter)
        raise
    await anyio.to_thread.run_sync(_commit_and_close, session, limiter=limiter)
