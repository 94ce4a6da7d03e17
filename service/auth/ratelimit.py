"""Throttling in a sliding window: failed logins per e-mail address and client address (API and web
login share one limiter), and self-registrations per client address.

The counts live in this process's memory behind a lock. That is exact for one API process (the
default deployment: one uvicorn process per container). With several processes or replicas each
keeps its own counts, so an attacker gets `max_failures` per process: put the counts in a shared
store (a table with an upsert, or Redis) before scaling out, keeping the same three calls.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from functools import lru_cache

from service.config import get_settings
from service.errors import TooManyRequests

Key = tuple[str, str]


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
    """Sliding-window counter of failed logins per (e-mail, client address)."""

    def __init__(self, max_failures: int, window_seconds: int, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self._window = SlidingWindow(window_seconds, max_keys=max_keys, clock=clock)
        self._failures = self._window.times

    @staticmethod
    def key(email: str, client: str | None) -> Key:
        """Normalised key: the e-mail as the login looks it up, and the client address."""
        return email.strip().lower(), client or "unknown"

    def check(self, email: str, client: str | None) -> None:
        """Raise 429 with Retry-After while the key has used up its failures."""
        w = self._window
        with w.lock:
            now = w.clock()
            times = w.live(self.key(email, client), now)
            if len(times) < self.max_failures:
                return
            retry_after = w.retry_after(times, now)
        raise TooManyRequests(
            f"För många misslyckade inloggningar; försök igen om {retry_after} sekunder / "
            f"too many failed logins, retry in {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
        )

    def failed(self, email: str, client: str | None) -> None:
        """Count one failed attempt."""
        w = self._window
        with w.lock:
            w.add(self.key(email, client), w.clock())

    def succeeded(self, email: str, client: str | None) -> None:
        """A correct login clears the key's failures."""
        with self._window.lock:
            self._failures.pop(self.key(email, client), None)


@lru_cache
def get_login_limiter() -> LoginLimiter:
    """The process-wide limiter, configured from settings (a dependency, so tests can replace it)."""
    s = get_settings()
    return LoginLimiter(s.login_max_failures, s.login_window_seconds)


class AttemptLimiter:
    """Sliding-window counter of attempts per client address; every attempt counts, refused ones do not."""

    def __init__(self, max_attempts: int, window_seconds: int, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_attempts = max_attempts
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
                f"För många registreringar från din adress; försök igen om {retry_after} sekunder / "
                f"too many registrations from your address, retry in {retry_after} seconds",
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
