"""Readiness probes other modules register for /ready (service.app), kept apart so registering imports no app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# A failing one makes /ready 503 (storage, registered by service.documents.router).
READY_PROBES: dict[str, Callable[[], object]] = {}
# Informational (outbox backlog, Prefect): reported by /ready, never failing it; they must not raise.
INFO_PROBES: dict[str, Callable[[], Any]] = {}
