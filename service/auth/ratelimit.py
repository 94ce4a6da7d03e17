"""Throttling in a sliding window: failed logins per e-mail address and client address and, against password
spraying, per client address across all accounts (API and web login share one limiter); self-registrations and
password-reset requests per client address.

The client address is the socket peer. X-Forwarded-For is believed only when the peer is one of the configured
proxies (IOP_TRUSTED_PROXIES, none by default), and then only up to the first hop that is not itself a trusted
proxy: addresses further left were written by the client and prove nothing. So rotating the header changes no key.

The counts live in this process's memory behind a lock. That is exact for one API process (the
default deployment: one uvicorn process per container). With several processes or replicas each
keeps its own counts, so an attacker gets `max_failures` per process: put the counts in a shared
store (a table with an upsert, or Redis) before scaling out, keeping the same three calls.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from functools import lru_cache

from fastapi import Request

from service.config import Settings, get_settings
from service.errors import TooManyRequests

Key = tuple[str, str]
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
    """Event times per key within the last `window` seconds, with bounded memory (stalest keys go first)."""

    def __init__(self, window_seconds: int, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window_seconds
        self.max_keys = max_keys
        self.clock = clock
        self.lock = threading.Lock()
        self.times: OrderedDict[object, deque[float]] = OrderedDict()

    def live(self, key: object, now: float) -> deque[float]:
        """The key's times still inside the window (call under the lock); drops the key when none are."""
        times = self.times.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self.times[key]
        return times

    def add(self, key: object, now: float) -> None:
        """Record one event (call under the lock)."""
        times = self.live(key, now)
        times.append(now)
        self.times[key] = times
        self.times.move_to_end(key)
        # Bounded memory when an attacker cycles through addresses: forget the stalest keys first.
        while len(self.times) > self.max_keys:
            self.times.popitem(last=False)

    def retry_after(self, times: deque[float], now: float) -> int:
        """Whole seconds until the oldest event leaves the window."""
        return max(1, math.ceil(times[0] + self.window - now))


class LoginLimiter:
    """Sliding-window counters of failed logins per (e-mail, client address) and, if given, per client address alone.

    A correct login clears its (e-mail, address) key but not the address's budget: an attacker who owns one
    account cannot log into it between guesses at others to start the budget afresh.
    """

    def __init__(self, max_failures: int, window_seconds: int, *, max_failures_per_client: int | None = None,
                 max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.max_failures_per_client = max_failures_per_client
        self._window = SlidingWindow(window_seconds, max_keys=max_keys, clock=clock)
        self._failures = self._window.times

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
        w = self._window
        with w.lock:
            now = w.clock()
            times = w.live(self.key(email, client), now)
            spray = w.live(self.client_key(client), now) if self.max_failures_per_client else deque()
            if self.max_failures_per_client and len(spray) >= self.max_failures_per_client:
                retry_after, sv, en = w.retry_after(spray, now), " från din adress", " from your address"
            elif len(times) >= self.max_failures:
                retry_after, sv, en = w.retry_after(times, now), "", ""
            else:
                return
        raise TooManyRequests(
            f"För många misslyckade inloggningar{sv}; försök igen om {wait_sv(retry_after)} / "
            f"too many failed logins{en}, retry in {wait_en(retry_after)}",
            headers={"Retry-After": str(retry_after)},
        )

    def failed(self, email: str, client: str | None) -> None:
        """Count one failed attempt, for the key and for the address."""
        w = self._window
        with w.lock:
            now = w.clock()
            w.add(self.key(email, client), now)
            if self.max_failures_per_client:
                w.add(self.client_key(client), now)

    def succeeded(self, email: str, client: str | None) -> None:
        """A correct login clears the key's failures."""
        with self._window.lock:
            self._failures.pop(self.key(email, client), None)

    def reset(self) -> None:
        """Forget every count (tests, or an operator after a false alarm)."""
        with self._window.lock:
            self._failures.clear()


@lru_cache
def get_login_limiter() -> LoginLimiter:
    """The process-wide limiter, configured from settings (a dependency, so tests can replace it)."""
    s = get_settings()
    return LoginLimiter(s.login_max_failures, s.login_window_seconds, max_failures_per_client=s.login_max_failures_per_client)


class AttemptLimiter:
    """Sliding-window counter of attempts per client address; every attempt counts, refused ones do not."""

    def __init__(self, max_attempts: int, window_seconds: int, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic,
                 what: tuple[str, str] = ("registreringar", "registrations")) -> None:
        self.max_attempts = max_attempts
        self.what = what
        self._window = SlidingWindow(window_seconds, max_keys=max_keys, clock=clock)

    def hit(self, client: str | None) -> None:
        """Count one attempt, or raise 429 with Retry-After when the address has used up its window."""
        key = client or "unknown"
        w = self._window
        with w.lock:
            now = w.clock()
            times = w.live(key, now)
            retry_after = w.retry_after(times, now) if len(times) >= self.max_attempts else 0
            if not retry_after:
                w.add(key, now)
        if retry_after:
            raise TooManyRequests(
                f"För många {self.what[0]} från din adress; försök igen om {wait_sv(retry_after)} / "
                f"too many {self.what[1]} from your address, retry in {wait_en(retry_after)}",
                headers={"Retry-After": str(retry_after)},
            )

    def reset(self) -> None:
        """Forget every count (tests, or an operator after a false alarm)."""
        with self._window.lock:
            self._window.times.clear()


@lru_cache
def get_register_limiter() -> AttemptLimiter:
    """The process-wide self-registration limiter, configured from settings (a dependency, so tests can replace it)."""
    s = get_settings()
    return AttemptLimiter(s.register_max_attempts, s.register_window_seconds)


@lru_cache
def get_reset_limiter() -> AttemptLimiter:
    """The process-wide limiter of password-reset requests (each may send an e-mail), per client address."""
    s = get_settings()
    return AttemptLimiter(s.password_reset_max_attempts, s.password_reset_window_seconds,
                          what=("begäranden om nytt lösenord", "password-reset requests"))
