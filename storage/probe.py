"""A readiness check run at most once per interval per store, its outcome (success or the error) reused in between.

So a load balancer polling /ready every second costs one probe write per interval, not one per
call; a failure is remembered for the same interval (a hung store is not asked again at once).
A different store object (reconfiguration, tests) is probed afresh. Calls that arrive while a
probe runs wait for its outcome instead of starting another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CachedProbe:
    """Remember one store's last probe outcome for ``ttl`` seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._store: object | None = None
        self._at = 0.0
        self._error: BaseException | None = None

    def check(self, store: object, ttl: float, run: Callable[[], object]) -> None:
        """Raise the last outcome's error if it is younger than ``ttl`` for this store, else ``run()`` anew."""
        with self._lock:
            fresh = self._store is store and self._clock() - self._at < ttl
            if not fresh:
                try:
                    run()
                except Exception as exc:  # noqa: BLE001 - every failure is an outcome to remember
                    self._error = exc
                else:
                    self._error = None
                self._store, self._at = store, self._clock()
            error = self._error
        if error is not None:
            raise error.with_traceback(None)
