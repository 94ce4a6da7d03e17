"""Throttling in a sliding window: failed logins per e-mail address and client address and, against password
spraying, per client address across all accounts (API and web login share one limiter); self-registrations and
password-reset requests, and requests to the public register, per client address.

The client address is the socket peer. X-Forwarded-For is believed only when the peer is one of the configured
proxies (IOP_TRUSTED_PROXIES, none by default), and then only up to the first hop that is not itself a trusted
proxy: addresses further left were written by the client and prove nothing. So rotating the header changes no key.

Where the counts live (`shared`): in this process's memory behind a lock for one API process (make dev, tests), or
in the database (DatabaseWindow, table rate_limit_events) when IOP_RATELIMIT_STORE=database, and by default with
several workers (IOP_WEB_CONCURRENCY > 1) or in production, so N processes or hosts share one budget instead of
granting N of them.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

from fastapi import Request
from sqlalchemy import Connection, Engine, delete, func, insert, select, text

from service.auth.models import RateLimitEvent
from service.config import Settings, get_settings
from service.errors import TooManyRequests

Key = tuple[str, str]
_EVENTS = RateLimitEvent.__table__
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_address(request: Request, settings: Settings) -> str | None:
    """The address throttling counts for this request: the socket peer, or what trusted proxies say it forwarded."""
    peer = request.client.host if request.client else None
    trusted = _networks(tuple(settings.trusted_proxies))
    peer_ip = _ip(peer) if peer else None
    if not trusted or peer_ip is None or not any(peer_ip in n for n in trusted):
        return peer
    hops = [h for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    client = peer
    # Right to left: each trusted proxy vouches for the hop it appended; the first untrusted one is the client.
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            break
        client = str(ip)
        if not any(ip in n for n in trusted):
            break
    return client


def wait_sv(seconds: int) -> str:
    """How long to wait, as a person says it: '45 sekunder', '1 minut', '15 minuter' (whole minutes rounded up)."""
    if seconds < 60:
        return f"{seconds} sekund" if seconds == 1 else f"{seconds} sekunder"
    minutes = -(-seconds // 60)
    return "1 minut" if minutes == 1 else f"{minutes} minuter"


def wait_en(seconds: int) -> str:
    """The English twin of wait_sv."""
    if seconds < 60:
        return f"{seconds} second" if seconds == 1 else f"{seconds} seconds"
    minutes = -(-seconds // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


class SlidingWindow:
    """Event times per key within the last `window` seconds in this process, with bounded memory (stalest keys go first)."""

    def __init__(self, window_seconds: int, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window_seconds
        self.max_keys = max_keys
        self.clock = clock
        self.lock = threading.Lock()
        self.times: OrderedDict[object, deque[float]] = OrderedDict()

    def _live(self, key: object, now: float) -> deque[float]:
        times = self.times.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self.times[key]
        return times

    def _add(self, key: object, now: float) -> None:
        times = self._live(key, now)
        times.append(now)
        self.times[key] = times
        self.times.move_to_end(key)
        # Bounded memory when an attacker cycles through addresses: forget the stalest keys first.
        while len(self.times) > self.max_keys:
            self.times.popitem(last=False)

    def _wait(self, times: deque[float], now: float) -> int:
        return max(1, math.ceil(times[0] + self.window - now))

    def waits(self, limits: list[tuple[object, int]]) -> list[int]:
        """Seconds until each key is under its limit again (0: it is now)."""
        with self.lock:
            now = self.clock()
            out = []
            for key, limit in limits:
                times = self._live(key, now)
                out.append(self._wait(times, now) if len(times) >= limit else 0)
            return out

    def add(self, *keys: object) -> None:
        """Count one event under each key."""
        with self.lock:
            now = self.clock()
            for key in keys:
                self._add(key, now)

    def hit(self, key: object, limit: int) -> int:
        """Count one event unless the key has reached its limit: 0 when counted, else the seconds to wait."""
        with self.lock:
            now = self.clock()
            times = self._live(key, now)
            if len(times) >= limit:
                return self._wait(times, now)
            self._add(key, now)
            return 0

    def clear(self, key: object) -> None:
        """Forget one key's events."""
        with self.lock:
            self.times.pop(key, None)

    def clear_all(self) -> None:
        """Forget every key's events."""
        with self.lock:
            self.times.clear()


class DatabaseWindow:
    """The same window in the database (table rate_limit_events), so every API process and host counts against one budget.

    Each call is a short transaction of its own on the process's engine, committed whatever the request does. hit() is
    atomic across processes: the key is locked (PostgreSQL advisory lock; SQLite's single writer) while it counts and
    adds. The check before a login and the count after a failed one are two calls, as in memory: logins of one key that
    are in flight together when its budget runs out can each still be counted (at most one per request in flight).
    Times come from this host's clock (UTC); rows older than the window are deleted as the key is written.
    """

    LOCK_NAMESPACE = 0x494F5052  # "IOPR": this use among the database's advisory locks

    def __init__(self, window_seconds: int, *, name: str, engine: Callable[[], Engine] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.window = window_seconds
        self.name = name
        self.engine = engine or _default_engine
        self.clock = clock

    def _key(self, key: object) -> str:
        return f"{self.name}:" + ("|".join(str(k) for k in key) if isinstance(key, tuple) else str(key))[:380]

    def _at(self, t: float) -> datetime:
        return datetime.fromtimestamp(t, UTC)

    def _state(self, conn: Connection, key: str, now: float) -> tuple[int, float | None]:
        n, oldest = conn.execute(select(func.count(), func.min(_EVENTS.c.at)).where(
            _EVENTS.c.key == key, _EVENTS.c.at > self._at(now - self.window))).one()
        return n, (_aware(oldest).timestamp() if oldest is not None else None)

    def _insert(self, conn: Connection, keys: list[str], now: float) -> None:
        conn.execute(insert(_EVENTS), [{"key": k, "at": self._at(now)} for k in keys])
        conn.execute(delete(_EVENTS).where(_EVENTS.c.key.in_(keys), _EVENTS.c.at <= self._at(now - self.window)))

    def _wait(self, oldest: float, now: float) -> int:
        """Whole seconds until the oldest event leaves the window."""
        return max(1, math.ceil(oldest + self.window - now))

    def _lock(self, conn: Connection, key: str) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:ns, hashtext(:key))"), {"ns": self.LOCK_NAMESPACE, "key": key})

    def waits(self, limits: list[tuple[object, int]]) -> list[int]:
        """Seconds until each key is under its limit again (0: it is now)."""
        now = self.clock()
        out = []
        with self.engine().connect() as conn:
            for key, limit in limits:
                n, oldest = self._state(conn, self._key(key), now)
                out.append(self._wait(oldest, now) if n >= limit and oldest is not None else 0)
            conn.rollback()
        return out

    def add(self, *keys: object) -> None:
        """Count one event under each key."""
        with self.engine().begin() as conn:
            self._insert(conn, [self._key(k) for k in keys], self.clock())

    def hit(self, key: object, limit: int) -> int:
        """Count one event unless the key has reached its limit: 0 when counted, else the seconds to wait."""
        k = self._key(key)
        with self.engine().begin() as conn:
            self._lock(conn, k)
            now = self.clock()
            n, oldest = self._state(conn, k, now)
            if n >= limit and oldest is not None:
                return self._wait(oldest, now)
            self._insert(conn, [k], now)
            return 0

    def clear(self, key: object) -> None:
        """Forget one key's events."""
        with self.engine().begin() as conn:
            conn.execute(delete(_EVENTS).where(_EVENTS.c.key == self._key(key)))

    def clear_all(self) -> None:
        """Forget every event of this limiter."""
        with self.engine().begin() as conn:
            conn.execute(delete(_EVENTS).where(_EVENTS.c.key.like(f"{self.name}:%")))


Window = SlidingWindow | DatabaseWindow


def _default_engine() -> Engine:
    from service.db import get_engine

    return get_engine()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def shared(settings: Settings) -> bool:
    """Whether the counts live in the database: asked for, or implied by several workers or production."""
    if settings.ratelimit_store is not None:
        return settings.ratelimit_store == "database"
    return settings.web_concurrency != 1 or settings.env == "production"


def make_window(settings: Settings, window_seconds: int, name: str) -> Window:
    """The window the settings ask for: in this process's memory, or shared in the database."""
    return DatabaseWindow(window_seconds, name=name) if shared(settings) else SlidingWindow(window_seconds)


class LoginLimiter:
    """Sliding-window counters of failed logins per (e-mail, client address) and, if given, per client address alone.

    A correct login clears its (e-mail, address) key but not the address's budget: an attacker who owns one
    account cannot log into it between guesses at others to start the budget afresh.
    """

    def __init__(self, max_failures: int, window_seconds: int, *, max_failures_per_client: int | None = None,
                 max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic, window: Window | None = None) -> None:
        self.max_failures = max_failures
        self.max_failures_per_client = max_failures_per_client
        self._window = window or SlidingWindow(window_seconds, max_keys=max_keys, clock=clock)

    @staticmethod
    def key(email: str, client: str | None) -> Key:
        """Normalised key: the e-mail as the login looks it up, and the client address."""
        return email.strip().lower(), client or "unknown"

    @staticmethod
    def client_key(client: str | None) -> tuple[str]:
        """The address's budget across accounts (a 1-tuple: never equal to an (e-mail, address) key)."""
        return (client or "unknown",)

    def check(self, email: str, client: str | None) -> None:
        """Raise 429 with Retry-After while the key, or the client address as a whole, has used up its failures."""
        limits: list[tuple[object, int]] = [(self.key(email, client), self.max_failures)]
        if self.max_failures_per_client:
            limits.append((self.client_key(client), self.max_failures_per_client))
        waits = self._window.waits(limits)
        if len(waits) > 1 and waits[1]:
            retry_after, sv, en = waits[1], " från din adress", " from your address"
        elif waits[0]:
            retry_after, sv, en = waits[0], "", ""
        else:
            return
        raise TooManyRequests(
            f"För många misslyckade inloggningar{sv}; försök igen om {wait_sv(retry_after)} / "
            f"too many failed logins{en}, retry in {wait_en(retry_after)}",
            headers={"Retry-After": str(retry_after)},
        )

    def failed(self, email: str, client: str | None) -> None:
        """Count one failed attempt, for the key and for the address."""
        keys: list[object] = [self.key(email, client)]
        if self.max_failures_per_client:
            keys.append(self.client_key(client))
        self._window.add(*keys)

    def succeeded(self, email: str, client: str | None) -> None:
        """A correct login clears the key's failures."""
        self._window.clear(self.key(email, client))

    def reset(self) -> None:
        """Forget every count (tests, or an operator after a false alarm)."""
        self._window.clear_all()


@lru_cache
def get_login_limiter() -> LoginLimiter:
    """The process-wide limiter, configured from settings (a dependency, so tests can replace it)."""
    s = get_settings()
    return LoginLimiter(s.login_max_failures, s.login_window_seconds, max_failures_per_client=s.login_max_failures_per_client,
                        window=make_window(s, s.login_window_seconds, "login"))


class AttemptLimiter:
    """Sliding-window counter of attempts per client address; every attempt counts, refused ones do not."""

    def __init__(self, max_attempts: int, window_seconds: int, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic,
                 what: tuple[str, str] = ("registreringar", "registrations"), window: Window | None = None) -> None:
        self.max_attempts = max_attempts
        self.what = what
        self._window = window or SlidingWindow(window_seconds, max_keys=max_keys, clock=clock)

    def hit(self, client: str | None) -> None:
        """Count one attempt, or raise 429 with Retry-After when the address has used up its window."""
        retry_after = self._window.hit(client or "unknown", self.max_attempts)
        if retry_after:
            raise TooManyRequests(
                f"För många {self.what[0]} från din adress; försök igen om {wait_sv(retry_after)} / "
                f"too many {self.what[1]} from your address, retry in {wait_en(retry_after)}",
                headers={"Retry-After": str(retry_after)},
            )

    def reset(self) -> None:
        """Forget every count (tests, or an operator after a false alarm)."""
        self._window.clear_all()


@lru_cache
def get_register_limiter() -> AttemptLimiter:
    """The process-wide self-registration limiter, configured from settings (a dependency, so tests can replace it)."""
    s = get_settings()
    return AttemptLimiter(s.register_max_attempts, s.register_window_seconds, window=make_window(s, s.register_window_seconds, "register"))


@lru_cache
def get_reset_limiter() -> AttemptLimiter:
    """The process-wide limiter of password-reset requests (each may send an e-mail), per client address."""
    s = get_settings()
    return AttemptLimiter(s.password_reset_max_attempts, s.password_reset_window_seconds,
                          what=("begäranden om nytt lösenord", "password-reset requests"),
                          window=make_window(s, s.password_reset_window_seconds, "reset"))


@lru_cache
def get_public_limiter() -> AttemptLimiter:
    """The process-wide limiter of requests to the public register (no login), per client address."""
    s = get_settings()
    return AttemptLimiter(s.public_register_max_requests, s.public_register_window_seconds,
                          what=("förfrågningar till det offentliga registret", "requests to the public register"),
                          window=make_window(s, s.public_register_window_seconds, "public"))
