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


class LoginLimiter:
    """Sliding-window counter of failed logins per (e-mail, client address)."""

    def __init__(self, max_failures: int, window_seconds: int, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        # Ordered by last failure so the stalest keys go first when the table is full.
        self._failures: OrderedDict[Key, deque[float]] = OrderedDict()

    @staticmethod
    def key(email: str, client: str | None) -> Key:
        """Normalised key: the e-mail as the login looks it up, and the client address."""
        return email.strip().lower(), client or "unknown"

    def _live(self, key: Key, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def check(self, email: str, client: str | None) -> None:
        """Raise 429 with Retry-After while the key has used up its failures."""
        with self._lock:
            now = self._clock()
            times = self._live(self.key(email, client), now)
            if times is None or len(times) < self.max_failures:
                return
            retry_after = max(1, math.ceil(times[0] + self.window - now))
        raise TooManyRequests(
            f"För många misslyckade inloggningar; försök igen om {retry_after} sekunder / "
            f"too many failed logins, retry in {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
        )

    def failed(self, email: str, client: str | None) -> None:
        """Count one failed attempt."""
        key = self.key(email, client)
        with self._lock:
            now = self._clock()
            times = self._live(key, now) or deque()
            times.append(now)
            self._failures[key] = times
            self._failures.move_to_end(key)
            # Bounded memory when an attacker cycles through addresses: forget the stalest keys first.
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, email: str, client: str | None) -> None:
        """A correct login clears the key's failures."""
        with self._lock:
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
        self.window = window_seconds
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, client: str | None) -> None:
        """Count one attempt, or raise 429 with Retry-After when the address has used up its window."""
        key = client or "unknown"
        with self._lock:
            now = self._clock()
            times = self._attempts.get(key) or deque()
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.max_attempts:
                retry_after = max(1, math.ceil(times[0] + self.window - now))
            else:
                retry_after = 0
                times.append(now)
                self._attempts[key] = times
                self._attempts.move_to_end(key)
                while len(self._attempts) > self.max_keys:
                    self._attempts.popitem(last=False)
        if retry_after:
            raise TooManyRequests(
                f"För många registreringar från din adress; försök igen om {retry_after} sekunder / "
                f"too many registrations from your address, retry in {retry_after} seconds",
                headers={"Retry-After": str(retry_after)},
            )

    def reset(self) -> None:
        """Forget every count (tests, or an operator after a false alarm)."""
        with self._lock:
            self._attempts.clear()


@lru_cache
def get_register_limiter() -> AttemptLimiter:
    """The process-wide self-registration limiter, configured from settings (a dependency, so tests can replace it)."""
    s = get_settings()
    return AttemptLimiter(s.register_max_attempts, s.register_window_seconds)
