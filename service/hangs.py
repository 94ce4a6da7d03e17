"""A hung PostgreSQL answers nothing: close the socket after a deadline so the request gets a 503, not a wait forever.

Contract:
- A server that is frozen (SIGSTOP, a stalled disk, a dead host whose kernel still ACKs) leaves libpq waiting: the
  server-side statement_timeout never runs and TCP keepalives are answered by the kernel. So each statement, commit,
  rollback and pool ping is *armed* with a deadline on one watchdog thread; if it has not returned by then, the
  watchdog shuts the connection's socket down. The blocked driver call then fails as a lost connection
  (OperationalError, a 503 with Retry-After in service.app) and the pool discards the connection.
- Arming costs a lock and a dict update; nothing runs per statement on the watchdog thread unless a deadline passes.
- Only engines built with a timeout get it (service.db.get_engine from settings.db_timeout_seconds); migrations,
  tests' own engines and the bench keep their long statements.
- A statement legitimately slower than the deadline (a lock wait behind a long transaction) is cut too: the
  deadline is several seconds, far above what a request's statements take.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger("iop.db")


class Watchdog:
    """One thread that shuts the sockets of driver calls past their deadline."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._armed: dict[int, tuple[float, int]] = {}  # id(dbapi connection) -> (deadline, socket fd)
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, dbapi_conn: Any) -> None:  # noqa: ANN401 - a DBAPI connection
        """Start the deadline for a call on this connection."""
        try:
            fd = dbapi_conn.fileno()
        except Exception:  # noqa: BLE001 - a closed connection: nothing to watch
            return
        with self._cond:
            self._armed[id(dbapi_conn)] = (time.monotonic() + self.seconds, fd)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()

    def disarm(self, dbapi_conn: Any) -> None:  # noqa: ANN401
        """The call returned (or failed) in time."""
        with self._cond:
            self._armed.pop(id(dbapi_conn), None)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                expired = [(key, fd) for key, (deadline, fd) in self._armed.items() if deadline <= now]
                for key, fd in expired:
                    del self._armed[key]
                    _shut(fd)
                upcoming = min((deadline for deadline, _ in self._armed.values()), default=None)
                self._cond.wait(None if upcoming is None else max(0.0, upcoming - now))

    def install(self, engine: Engine) -> None:
        """Arm every statement, commit, rollback and checkout ping of the engine's connections."""

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
            self.arm(conn.connection.dbapi_connection)

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
            self.disarm(conn.connection.dbapi_connection)

        @event.listens_for(engine, "handle_error")
        def _error(ctx):  # noqa: ANN001
            if ctx.connection is not None and ctx.connection.connection.dbapi_connection is not None:
                self.disarm(ctx.connection.connection.dbapi_connection)

        # COMMIT and ROLLBACK are no cursor statements: armed here, disarmed when the connection goes back to the pool.
        @event.listens_for(engine, "commit")
        def _commit(conn):  # noqa: ANN001
            self.arm(conn.connection.dbapi_connection)

        @event.listens_for(engine, "rollback")
        def _rollback(conn):  # noqa: ANN001
            self.arm(conn.connection.dbapi_connection)

        @event.listens_for(engine.pool, "checkin")
        def _checkin(dbapi_conn, record):  # noqa: ANN001, ARG001
            if dbapi_conn is not None:
                self.disarm(dbapi_conn)

        @event.listens_for(engine.pool, "reset")
        def _reset(dbapi_conn, record, reset_state=None):  # noqa: ANN001, ARG001
            self.arm(dbapi_conn)  # the pool's rollback on return; disarmed at checkin

        @event.listens_for(engine.pool, "checkout")
        def _ping(dbapi_conn, record, proxy):  # noqa: ANN001, ARG001
            # Instead of pool_pre_ping (which no event arms): a dead pooled connection is replaced, a hung one is a 503.
            # The dialect's own ping (psycopg: in autocommit, so no transaction is left open behind it).
            from sqlalchemy import exc

            self.arm(dbapi_conn)
            started = time.monotonic()
            try:
                if not engine.dialect.do_ping(dbapi_conn):
                    raise exc.DisconnectionError()
            except exc.DisconnectionError:
                raise
            except Exception as error:
                if time.monotonic() - started >= self.seconds * 0.9:
                    raise exc.OperationalError("SELECT 1", None, error) from error  # hung: no retry on a new connection
                raise exc.DisconnectionError() from error  # dropped (a restart): the pool tries a fresh connection
            finally:
                self.disarm(dbapi_conn)


def _shut(fd: int) -> None:
    """Shut a socket down by its descriptor; the driver keeps (and later closes) its own descriptor."""
    try:
        dup = os.dup(fd)
    except OSError:
        return
    try:
        sock = socket.socket(fileno=dup)
    except OSError:
        os.close(dup)
        return
    with sock:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            return
    log.warning("database call past its deadline: connection shut (hung server?)")
