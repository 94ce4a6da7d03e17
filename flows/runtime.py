"""What flows share: a session factory and the outbox context, built from settings."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

import service.doctemplates.active  # noqa: F401  (registers the active custom templates for documents flows render)
from service.config import get_settings
from service.db import get_sessionmaker
from service.effects import HANDLERS
from service.notifications.mailer import mailer_from_settings
from service.outbox.service import Context


def session_factory() -> sessionmaker[Session]:
    """Sessions on the configured database."""
    return get_sessionmaker()


@lru_cache
def outbox_context() -> Context:
    """Settings, mailer and object store for outbox handlers."""
    from service.documents.service import get_store

    settings = get_settings()
    return Context(settings=settings, mailer=mailer_from_settings(settings), store_factory=get_store, handlers=HANDLERS)
