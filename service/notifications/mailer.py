"""Where e-mail goes: SMTP when configured, otherwise .eml files under var/mail (embedded default)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

from service.notifications.email import EmailMessageSpec, SmtpConnection, SmtpSender, make_message_id


class SmtpMailer:
    """Send through the configured SMTP server with a Message-ID derived from the caller's key."""

    def __init__(self, url: str, from_addr: str, domain: str = "iop.localhost", timeout: float = 10) -> None:
        self.sender = SmtpSender(url, timeout=timeout)
        self.from_addr = from_addr
        self.domain = domain

    def send(self, spec: EmailMessageSpec, key: str) -> str:
        """Deliver; raises EmailDeliveryError (retry) or EmailRejected (permanent)."""
        return self.sender.send(spec, from_addr=self.from_addr, message_id=make_message_id(key, self.domain))

    def connection(self) -> SmtpMailerConnection:
        """The same send(spec, key) over one SMTP session for a batch (reopened when it drops)."""
        return SmtpMailerConnection(self, self.sender.connection())


class SmtpMailerConnection:
    """A mailer bound to one SmtpConnection; closed on leaving the with block."""

    def __init__(self, mailer: SmtpMailer, conn: SmtpConnection) -> None:
        self.mailer = mailer
        self.conn = conn

    def __enter__(self) -> SmtpMailerConnection:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.conn.close()

    def send(self, spec: EmailMessageSpec, key: str) -> str:
        """Deliver; raises EmailDeliveryError (retry), SmtpUnavailable (stop the batch) or EmailRejected (permanent)."""
        return self.conn.send(spec, from_addr=self.mailer.from_addr, message_id=make_message_id(key, self.mailer.domain))


class FileMailer:
    """Write each message to a file, one per key, so a retry overwrites instead of duplicating."""

    def __init__(self, folder: Path, from_addr: str, domain: str = "iop.localhost") -> None:
        self.folder = folder
        self.from_addr = from_addr
        self.domain = domain

    def send(self, spec: EmailMessageSpec, key: str) -> str:
        """Write the message as .eml."""
        from email.message import EmailMessage

        self.folder.mkdir(parents=True, exist_ok=True)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.from_addr, ", ".join(spec.to), spec.subject
        msg["Message-ID"] = make_message_id(key, self.domain)
        msg.set_content(spec.body)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)[:150]
        (self.folder / f"{safe}.eml").write_bytes(bytes(msg))
        return msg["Message-ID"]

    def connection(self) -> nullcontext[FileMailer]:
        """Files need no session: the mailer itself."""
        return nullcontext(self)


def mailer_from_settings(settings) -> SmtpMailer | FileMailer:  # noqa: ANN001
    """SMTP if IOP_SMTP_URL is set, else files in ./var/mail."""
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.mail_from)
    return FileMailer(Path("var/mail"), settings.mail_from)
