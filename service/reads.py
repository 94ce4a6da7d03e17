"""Read-only queries for the busiest GETs: one statement, one round trip, no ORM.

On PostgreSQL a read runs on an asyncpg pool in the event loop, so it costs neither a thread-pool hop
nor a transaction (BEGIN/COMMIT) nor a connection reset; elsewhere (SQLite, the embedded default) the same
SQLAlchemy Core statement runs on a short session in one thread-pool hop. Writes never come here: they
keep the request session (`service.deps.DbSession`) with its commit and row locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import anyio.to_thread
import asyncpg
from sqlalchemy import Engine, Select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.orm import Session, sessionmaker

import service.db
from service.errors import ServiceUnavailable

log = logging.getLogger("iop.reads")

# Statements are compiled for asyncpg's $n placeholders; values are passed as they are (int, str, aware datetimes).
_DIALECT = asyncpg_dialect()

# Names the read pool's connections in pg_stat_activity (tells them apart from the request sessions' pool).
APPLICATION_NAME = "iop-partnerskap-reads"

# What a dropped or unreachable server raises: a restart leaves dead pooled connections, a stopped one refuses.
CONNECTION_ERRORS = (
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, and "connection was closed in the middle of operation"
    asyncpg.exceptions.OperatorInterventionError,  # 57P01 admin shutdown (pg_terminate_backend, restart), 57P03
    asyncpg.InterfaceError,
    OSError,
    asyncio.TimeoutError,
)


@dataclass(frozen=True)
class Query:
    """A Core select with named bind parameters, compiled once for asyncpg."""

    stmt: Select
    sql: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, stmt: Select) -> Query:
        """Compile `stmt` (bind parameters by name, no expanding IN lists)."""
        compiled = stmt.compile(dialect=_DIALECT)
        return cls(stmt, compiled.string, tuple(compiled.positiontup or ()))


_COMPILED: OrderedDict[Any, Any] = OrderedDict()
_COMPILED_MAX = 500  # shapes: filters x sorts x directions x cursor or not, for a handful of roles
_compiled_lock = threading.Lock()


def compile_cached(stmt: Select) -> tuple[str, list[Any]]:
    """SQL and positional values of a statement, compiled once per shape like SQLAlchemy's own statement cache.

    The shape is SQLAlchemy's cache key (structure without values); the values of this statement are its extracted
    parameters, bound into the cached compilation; IN lists are expanded per call (their length is not in the key).
    A statement that cannot be cached (no key) is compiled afresh.
    """
    key = stmt._generate_cache_key()  # what Connection.execute keys its compiled cache on
    compiled = None
    if key is not None:
        with _compiled_lock:
            compiled = _COMPILED.get(key.key)
            if compiled is not None:
                _COMPILED.move_to_end(key.key)
    if compiled is None:
        compiled = stmt.compile(dialect=_DIALECT, cache_key=key)  # remembers which parameters are extracted
        if key is not None:
            with _compiled_lock:
                _COMPILED[key.key] = compiled
                while len(_COMPILED) > _COMPILED_MAX:
                    _COMPILED.popitem(last=False)
    params = compiled.construct_params(extracted_parameters=key.bindparams if key is not None else None)
    expanded = compiled.construct_expanded_state(params)
    return expanded.statement, [expanded.parameters[name] for name in expanded.positiontup or ()]


class Reader(Protocol):
    """Runs read-only statements and answers rows as mappings."""

    async def first(self, query: Query, params: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The first row of a precompiled query (None when there is none)."""

    async def all(self, stmt: Select) -> list[Mapping[str, Any]]:
        """Every row of a statement built for this request (its values bound in it)."""


class PgReader:
    """asyncpg pool per event loop (a pool cannot cross loops; tests start one loop per client)."""

    def __init__(self, dsn: str, pool_size: int, timeout: float | None = None) -> None:
        self.dsn = dsn
        self.pool_size = pool_size
        # A hung server (no answer, not refused) costs one timeout, then a 503: no second attempt on a timeout.
        self.timeout = timeout or 30.0
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncpg.Pool] = weakref.WeakKeyDictionary()
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()

    def _gate(self) -> asyncio.Semaphore:
        """The loop's turnstile in front of its pool: one permit per connection, waiters served first come first served."""
        # asyncpg waits for a free connection in an asyncio.Queue, where a newcomer can take the connection that was
        # just handed to the longest waiter, which then goes to the back: with more concurrent readers than connections
        # a few reads waited 15x the median (GET p99 at 32 clients, bench/README). asyncio.Semaphore queues newcomers
        # behind the waiters, and with a permit in hand the pool always has a connection free.
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates.setdefault(loop, asyncio.Semaphore(self.pool_size))
        return gate

    async def _pool(self) -> asyncpg.Pool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            # min_size=0: no connection until the first read, so a database that is down does not stop start-up.
            # reset: the read path sets no session state, so asyncpg's reset query (a round trip per release) is skipped.
            pool = await asyncpg.create_pool(self.dsn, min_size=0, max_size=self.pool_size, timeout=self.timeout, command_timeout=self.timeout,
                                             max_inactive_connection_lifetime=300, reset=_no_reset,
                                             server_settings={"application_name": APPLICATION_NAME})
            winner = self._pools.setdefault(loop, pool)
            if winner is not pool:  # another request of this loop created one meanwhile
                await pool.close()
                pool = winner
        return pool

    async def first(self, query: Query, params: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The first row of a precompiled query."""
        return await self._run("fetchrow", query.sql, [params[name] for name in query.names])

    async def all(self, stmt: Select) -> list[Mapping[str, Any]]:
        """Every row; the statement's SQL comes from the cache of its shape (compiled once per shape)."""
        sql, args = compile_cached(stmt)
        return await self._run("fetch", sql, args)

    async def _run(self, method: str, sql: str, args: list[Any]) -> Any:  # noqa: ANN401
        """Run a read; one retry on fresh connections when the pooled one turns out dead."""
        for attempt in (1, 2):
            pool = await self._pool()
            gate = self._gate()
            try:
                async with asyncio.timeout(self.timeout):
                    await gate.acquire()
                try:
                    # With a permit held a connection is free: no waiting here, so no asyncpg wait_for task either.
                    async with pool.acquire() as conn:
                        return await getattr(conn, method)(sql, *args)
                finally:
                    gate.release()
            except TimeoutError as exc:
                # Waiting longer will not help a server that does not answer; its connections are replaced later.
                await _expire_quietly(pool)
                log.warning("database read timed out after %.0f s: %s", self.timeout, type(exc).__name__)
                break
            except CONNECTION_ERRORS as exc:
                # Safe to repeat: a read changes nothing. Every idle connection may be as dead (a restart),
                # so all are replaced, like SQLAlchemy's pool invalidation on a disconnect.
                await pool.expire_connections()
                log.warning("database read failed (attempt %s): %s", attempt, exc)
        raise ServiceUnavailable("Databasen svarar inte / Database unavailable", retry_after=5)

    async def close(self) -> None:
        """Close the pool of the running loop."""
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()


async def _no_reset(_conn: asyncpg.Connection) -> None:
    return None


async def _expire_quietly(pool: asyncpg.Pool) -> None:
    """Mark the pool's connections for replacement without waiting on a server that does not answer."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(pool.expire_connections(), 0.5)


class SessionReader:
    """The same statements on a SQLAlchemy session, in one thread-pool hop (SQLite; tests' own transaction)."""

    def __init__(self, sessions: Callable[[], AbstractContextManager[Session]]) -> None:
        self.sessions = sessions

    async def first(self, query: Query, params: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Run a read on a session from `sessions`."""
        return await anyio.to_thread.run_sync(self._first, query, params)

    async def all(self, stmt: Select) -> list[Mapping[str, Any]]:
        """Every row of the statement."""
        return await anyio.to_thread.run_sync(self._all, stmt)

    def _first(self, query: Query, params: Mapping[str, Any]) -> Mapping[str, Any] | None:
        with self.sessions() as session:
            return session.execute(query.stmt, dict(params)).mappings().first()

    def _all(self, stmt: Select) -> list[Mapping[str, Any]]:
        with self.sessions() as session:
            return list(session.execute(stmt).mappings().all())

    async def close(self) -> None:
        """Nothing to close: the sessions belong to their factory."""


# Keyed by the engine itself (an id could be reused by a later engine); the PostgreSQL readers hold no engine.
_readers: weakref.WeakKeyDictionary[Engine, PgReader | SessionReader] = weakref.WeakKeyDictionary()


def reader_for(engine: Engine) -> PgReader | SessionReader:
    """The reader for an engine: asyncpg on PostgreSQL, sessions otherwise (one per engine)."""
    reader = _readers.get(engine)
    if reader is None:
        if engine.dialect.name == "postgresql":
            dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            timeout = engine.pool.timeout() if hasattr(engine.pool, "timeout") else None
            reader = PgReader(dsn, engine.pool.size() if hasattr(engine.pool, "size") else 10, timeout)
        else:
            reader = SessionReader(sessionmaker(bind=engine, expire_on_commit=False))
        _readers[engine] = reader
    return reader


async def read_scope() -> Reader:
    """Dependency: the reader of the process-wide engine (module attribute, so tests can swap the engine)."""
    return reader_for(service.db.get_engine())


async def close_readers() -> None:
    """Close the asyncpg pools that belong to the running loop (application shutdown)."""
    for reader in list(_readers.values()):
        with contextlib.suppress(Exception):
            await reader.close()
