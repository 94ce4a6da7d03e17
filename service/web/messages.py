"""The case message thread, used only when the messages module offers it (degrades to hidden)."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import Role, User
from service.cases.models import Case
from service.messages.models import Message


def _module(name: str) -> Any | None:
    try:
        if importlib.util.find_spec(name) is None:
            return None
        return importlib.import_module(name)
    except ImportError:
        return None


def thread_enabled() -> bool:
    """The thread is shown once the messages API exists (its router module is the signal)."""
    return _module("service.messages.router") is not None


def poster() -> Callable[..., Any] | None:
    """service.messages.service.post_message(session, user, case, body, internal) when it exists."""
    module = _module("service.messages.service")
    fn = getattr(module, "post_message", None) if module else None
    return fn if callable(fn) else None


def list_for(session: Session, user: User, case: Case) -> list[Message]:
    """The case's messages in order; internal notes never reach organisation members."""
    stmt = select(Message).where(Message.case_id == case.id)
    if user.role == Role.ORG_MEMBER:
        stmt = stmt.where(Message.internal.is_(False))
    return list(session.scalars(stmt.order_by(Message.created_at, Message.id)))
