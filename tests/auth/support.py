"""Shared by the account tests: the app on a database of the test's own with real commits, and the real outbox
delivering to the real SMTP server (tests/fixtures/smtp.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers import committing_sessions, drop_sessions, use_sessions
from sqlalchemy.orm import Session, sessionmaker

from service.auth.ratelimit import AttemptLimiter, get_reset_limiter
from service.config import get_settings
from service.effects import HANDLERS
from service.notifications.mailer import SmtpMailer
from service.outbox.service import Context, process
from service.reads import reader_for
from storage.filesystem import FilesystemStore
from tests.fixtures.smtp import SmtpTestServer


@dataclass
class Real:
    """A committing app and the outbox that sends its mail."""

    factory: sessionmaker[Session]
    client: TestClient
    smtp: SmtpTestServer
    store: FilesystemStore

    def deliver(self) -> list[EmailMessage]:
        """Run the real outbox until it is empty (handlers may queue e-mails) and return every message received."""
        ctx = Context(settings=get_settings(), mailer=SmtpMailer(self.smtp.url, "iop@kommun.example.se"),
                      store_factory=lambda: self.store, handlers=HANDLERS)
        for _ in range(3):
            process(self.factory, ctx)
        return [m.message for m in self.smtp.messages]

    def to(self, address: str) -> list[EmailMessage]:
        """The messages delivered to one address."""
        return [m for m in self.deliver() if str(m["To"]) == address]


def body(msg: EmailMessage) -> str:
    """The plain-text body, decoded."""
    return msg.get_body(("plain",)).get_content()


def link_token(msg: EmailMessage) -> str:
    """The reset token of a password-reset e-mail's link."""
    found = re.search(r"/aterstall-losenord\?token=([A-Za-z0-9_-]+)", body(msg))
    assert found, body(msg)
    return found.group(1)


@pytest.fixture
def real(app, fresh_engine, smtp_server, tmp_path: Path) -> Iterator[Real]:  # noqa: ANN001
    """The app committing for real on a database of this test's own; `real.deliver()` runs the outbox over SMTP."""
    factory = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    use_sessions(app, committing_sessions(factory), reader_for(fresh_engine))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Real(factory, client, smtp_server, FilesystemStore(tmp_path / "objects"))
    drop_sessions(app)


@pytest.fixture(autouse=True)
def fresh_reset_limit(app) -> Iterator[AttemptLimiter]:  # noqa: ANN001
    """Reset requests are limited per client address and every test client is "testclient": each test starts afresh."""
    limiter = AttemptLimiter(5, 3600, what=("begäranden om nytt lösenord", "password-reset requests"))
    app.dependency_overrides[get_reset_limiter] = lambda: limiter
    yield limiter
    app.dependency_overrides.pop(get_reset_limiter, None)
