"""Email notifications: Swedish Jinja2 templates rendered to messages, delivered over SMTP.

Template format (``templates/email/<name>.txt``): the first line is ``Subject: <subject>``,
everything after it is the plain-text body; both are Jinja2 with the same context. The subject
is rendered on its own and its whitespace collapsed to single spaces, so a value containing a
line break can neither truncate the subject nor leak into the body. Rendering uses a
sandboxed environment with ``StrictUndefined`` (a missing variable raises instead of sending
an email with a blank) and no autoescaping (plain text). Dates are shown in Swedish in the
configured timezone through the filters ``datum``, ``veckodag_datum``, ``datum_tid`` and
``frist``; codes are shown in Swedish through ``fristtyp``, ``beslut`` and ``fas``; amounts
through ``kronor``. Recipients are taken from ``context["to"]`` (one address or a list), so an
outbox row can store ``(template, context)`` and re-render on retry.

Delivery: :class:`SmtpSender` sends with stdlib ``smtplib`` and returns the Message-ID. SMTP
itself is at-least-once: a crash after the server accepted the message but before the outbox
recorded it leads to a resend. Passing a stable ``message_id`` derived from the outbox row
(:func:`make_message_id`) makes such a resend the *same* message, so mail clients, archives and
downstream dedupe can recognise it. :class:`EmailDeliveryError` means "try again later"
(server down, timeout, 4xx, authentication/TLS misconfiguration); :class:`EmailRejected`
means the message itself was refused permanently (5xx for the recipient, sender or content)
and must not be retried unchanged.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from email.charset import BASE64, QP, Charset
from email.header import Header
from email.message import Message
from email.policy import compat32
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, format_datetime, make_msgid, parseaddr
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound
from jinja2.environment import Environment
from jinja2.exceptions import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from service.labels import DEADLINE_KINDS_IN_TEXT, DECISIONS_IN_TEXT, STAGES
from service.deadlines.calendar import DEFAULT_TZ, END_OF_DAY

TEMPLATES_DIR: Final = Path(__file__).resolve().parents[2] / "templates" / "email"

# Templates shipped with the service; render_email accepts any name present in the directory.
EMAIL_TEMPLATES: Final[tuple[str, ...]] = (
    "reminder",
    "deadline_missed",
    "review_requested",
    "decision_made",
    "partnership_terminated",
    "followup_report_requested",
    "agreement_expiring",
    "message_posted",
    "case_submitted",
    "password_reset",
    "account_created",
    "account_exists",
    "organisation_verified",
    "organisation_invited",
    "review_decided",
    "changes_submitted",
    "followup_submitted",
    "completion_requested",
    "signing_requested",
    "gallring_proposed",
)

# Swedish names written out here: OS locales are often missing in containers (and setlocale is
# process-global, which is unsafe in a threaded server).
WEEKDAYS_SV: Final[tuple[str, ...]] = (
    "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag",
)
MONTHS_SV: Final[tuple[str, ...]] = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)

_TEMPLATE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SUBJECT_PREFIX = "Subject:"
# No-break space between digit groups and before "kr", as Swedish typography wants.
_NBSP = "\u00a0"


class EmailError(Exception):
    """Base class for email delivery failures."""

    def __init__(self, message: str, *, refused: Mapping[str, tuple[int, str]] | None = None):
        """Keep per-recipient SMTP replies so a caller can retry or report just those."""
        super().__init__(message)
        self.refused: dict[str, tuple[int, str]] = dict(refused or {})


class EmailDeliveryError(EmailError):
    """Transient failure (server down, timeout, 4xx, auth/TLS setup): retry later."""


class EmailRejected(EmailError):
    """Permanent refusal (5xx) of a recipient, the sender or the content: do not retry."""


@dataclass(frozen=True, slots=True)
class EmailMessageSpec:
    """A rendered email: recipients, subject and plain-text body (HTML optional, unused)."""

    to: tuple[str, ...]
    subject: str
    body: str
    html: str | None = None

    def __post_init__(self) -> None:
        """Validate recipients and subject before anything reaches SMTP."""
        if not self.to:
            raise ValueError("an email needs at least one recipient")
        for address in self.to:
            _check_address(address)
        if not self.subject or "\n" in self.subject or "\r" in self.subject:
            raise ValueError("subject must be one non-empty line")


# quoted-printable keeps the message 7-bit, so it survives relays without 8BITMIME. Non-ASCII header words are base64
# encoded words (RFC 2047 "B"): the stdlib folds a "Q" header by measuring each candidate line character by character,
# which cost more than half a millisecond per subject (issue 13); "B" is measured by length.
_QP_UTF8: Final = Charset("utf-8")
_QP_UTF8.header_encoding = BASE64
_QP_UTF8.body_encoding = QP
# SMTP wants CRLF line ends, and smtplib sends bytes as they are.
_WIRE: Final = compat32.clone(linesep="\r\n")


# Both are pure and run several times per message on the same few addresses (sender, the recipients of a sweep).
@lru_cache(maxsize=4096)
def _encode_address(address: str) -> str:
    """"Name <addr>" with a non-ASCII name as an RFC 2047 encoded word (the address itself is checked ASCII-safe)."""
    name, addr = parseaddr(address)
    return formataddr((name, addr), charset=_QP_UTF8) if name else addr


@lru_cache(maxsize=4096)
def _check_address(address: str) -> str:
    """Return the bare address of "Name <addr>" / "addr", rejecting malformed input."""
    if not isinstance(address, str) or "\n" in address or "\r" in address:
        raise ValueError(f"invalid email address: {address!r}")
    _, addr = parseaddr(address)
    local, sep, domain = addr.rpartition("@")
    if not sep or not local or not domain or " " in addr:
        raise ValueError(f"invalid email address: {address!r}")
    return addr


# -- Swedish formatting -----------------------------------------------------------------------


class SwedishFormatter:
    """Formats dates, times, amounts and codes in Swedish for one timezone."""

    def __init__(self, tz: ZoneInfo = DEFAULT_TZ) -> None:
        """Remember the zone aware datetimes are shown in."""
        self.tz = tz

    def _local(self, value: date | datetime) -> date | datetime:
        """Aware datetimes in local time; plain dates unchanged; naive datetimes refused."""
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"naive datetime in email context: {value.isoformat()}")
            return value.astimezone(self.tz)
        if isinstance(value, date):
            return value
        raise TypeError(f"expected a date or datetime, got {type(value).__name__}")

    def datum(self, value: date | datetime) -> str:
        """'23 november 2026'."""
        d = self._local(value)
        return f"{d.day} {MONTHS_SV[d.month - 1]} {d.year}"

    def veckodag_datum(self, value: date | datetime) -> str:
        """'måndag 23 november 2026'."""
        d = self._local(value)
        return f"{WEEKDAYS_SV[d.weekday()]} {self.datum(d)}"

    def datum_tid(self, value: datetime) -> str:
        """'måndag 23 november 2026 kl. 14.30' (Språkrådet: period between hours and minutes)."""
        d = self._local(value)
        if not isinstance(d, datetime):
            raise TypeError("datum_tid needs a datetime")
        return f"{self.veckodag_datum(d)} kl. {d.hour:02d}.{d.minute:02d}"

    def frist(self, value: date | datetime) -> str:
        """A deadline: the day only when it runs to end of day, else day and time."""
        d = self._local(value)
        if isinstance(d, datetime) and d.time().replace(microsecond=0) != END_OF_DAY:
            return self.datum_tid(d)
        return self.veckodag_datum(d)

    @staticmethod
    def kronor(value: int | float | Decimal) -> str:
        """'1 250 000 kr' (whole kronor) or '1 250,50 kr'."""
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
        whole, _, cents = f"{abs(amount):,.2f}".partition(".")
        text = whole.replace(",", _NBSP)
        if cents != "00":
            text += f",{cents}"
        return f"{'−' if amount < 0 else ''}{text}{_NBSP}kr"

    @staticmethod
    def _label(labels: Mapping[str, str], what: str) -> Callable[[object], str]:
        """Filter mapping a code to its Swedish label; unknown codes are errors, not blanks."""

        def label(code: object) -> str:
            key = getattr(code, "value", code)
            try:
                return labels[str(key)]
            except KeyError:
                raise ValueError(f"no Swedish label for {what} {key!r}") from None

        return label

    def filters(self) -> dict[str, Callable[..., str]]:
        """Jinja filters by name."""
        return {
            "datum": self.datum,
            "veckodag_datum": self.veckodag_datum,
            "datum_tid": self.datum_tid,
            "frist": self.frist,
            "kronor": self.kronor,
            "fristtyp": self._label(DEADLINE_KINDS_IN_TEXT, "deadline kind"),
            "beslut": self._label(DECISIONS_IN_TEXT, "decision"),
            "fas": self._label(STAGES, "stage"),
        }


# -- rendering --------------------------------------------------------------------------------


class _SubjectBodyLoader(FileSystemLoader):
    """Serves "<name>.txt#subject" and "<name>.txt#body" from one file split at line one.

    Plain names (no "#part") are served whole, for {% include %} partials.

    Going through the loader keeps Jinja's template cache, auto-reload and file names in errors.
    """

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        """Return the subject line or the body part of the template file."""
        name, _, part = template.partition("#")
        source, filename, uptodate = super().get_source(environment, name)
        if not part:
            # Partials such as "_footer.txt" are included whole.
            return source, filename, uptodate
        first, _, rest = source.partition("\n")
        if not first.startswith(_SUBJECT_PREFIX):
            raise TemplateSyntaxError(
                f"first line must start with {_SUBJECT_PREFIX!r}", 1, name, filename
            )
        if part == "subject":
            return first[len(_SUBJECT_PREFIX):], filename, uptodate
        if part == "body":
            # The leading newline keeps error line numbers equal to the file's line numbers.
            return "\n" + rest, filename, uptodate
        raise TemplateNotFound(template)


class EmailRenderer:
    """Renders email templates from a directory with Swedish filters in one timezone."""

    def __init__(self, templates_dir: Path = TEMPLATES_DIR, tz: ZoneInfo = DEFAULT_TZ, *, auto_reload: bool = True) -> None:
        """Build the sandboxed, strict Jinja environment (auto_reload: look for edited template files on every render)."""
        self.templates_dir = templates_dir
        self.env = SandboxedEnvironment(
            loader=_SubjectBodyLoader(str(templates_dir), encoding="utf-8"),
            auto_reload=auto_reload,
            undefined=StrictUndefined,
            autoescape=False,  # plain text: HTML escaping would corrupt "&" and "<" in names
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(SwedishFormatter(tz).filters())

    def available(self) -> list[str]:
        """Names of the renderable templates in the directory (partials start with "_")."""
        names = (p.stem for p in self.templates_dir.glob("*.txt"))
        return sorted(n for n in names if _TEMPLATE_NAME.match(n))

    def render(self, template: str, context: Mapping[str, Any]) -> EmailMessageSpec:
        """Render template (name without .txt) with context; recipients from context['to']."""
        if not _TEMPLATE_NAME.match(template):
            raise ValueError(f"invalid email template name: {template!r}")
        to = _recipients(context.get("to"))
        subject_raw = self.env.get_template(f"{template}.txt#subject").render(context)
        body = self.env.get_template(f"{template}.txt#body").render(context)
        subject = " ".join(subject_raw.split())
        body = body.lstrip("\n").rstrip() + "\n"
        return EmailMessageSpec(to=to, subject=subject, body=body)


def _recipients(value: object) -> tuple[str, ...]:
    """Normalise context['to'] (a string or a sequence of strings) to a tuple."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError("context['to'] must be an email address or a non-empty list of addresses")


@cache
def _default_renderer() -> EmailRenderer:
    """The renderer for the shipped templates in Europe/Stockholm."""
    # The shipped templates change only with a release: no stat() of the files per message (three per reminder).
    return EmailRenderer(auto_reload=False)


def render_email(template: str, context: Mapping[str, Any]) -> EmailMessageSpec:
    """Render a shipped template (e.g. "reminder") with context; see the module docstring."""
    return _default_renderer().render(template, context)


# -- delivery ---------------------------------------------------------------------------------

Security = Literal["plain", "starttls", "tls"]

_SCHEMES: Final[dict[str, tuple[Security, int]]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Parsed SMTP URL."""

    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpSettings:
    """Parse smtp://, smtp+starttls:// or smtps:// [user[:pass]@]host[:port] (percent-decoded)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(f"unsupported SMTP URL scheme {parts.scheme!r}; use {sorted(_SCHEMES)}")
    if not parts.hostname:
        raise ValueError("SMTP URL needs a host")
    security, default_port = _SCHEMES[scheme]
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    for credential in (username, password):
        # smtplib base64-encodes AUTH data as ASCII and would fail mid-send on anything else.
        if credential is not None and not credential.isascii():
            raise ValueError("SMTP credentials must be ASCII (smtplib limitation)")
    return SmtpSettings(
        host=parts.hostname,
        port=parts.port or default_port,
        security=security,
        username=username,
        password=password,
    )


def make_message_id(key: str, domain: str) -> str:
    """A stable Message-ID for an outbox key, e.g. make_message_id("outbox-42", "kommun.se")."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", key).strip(".-")
    if not safe:
        raise ValueError("message id key is empty after sanitising")
    return f"<iop.{safe}@{domain}>"


def _normalise_message_id(message_id: str) -> str:
    """Ensure <local@domain> form; refuse whitespace that would break the header."""
    mid = message_id.strip()
    if not mid.startswith("<"):
        mid = f"<{mid}>"
    if any(c.isspace() for c in mid) or "@" not in mid or not mid.endswith(">"):
        raise ValueError(f"invalid Message-ID: {message_id!r}")
    return mid


@cache
def _local_hostname() -> str:
    """EHLO name, resolved once: socket.getfqdn() can take seconds on misconfigured DNS."""
    return socket.getfqdn() or "localhost"


class SmtpUnavailable(EmailDeliveryError):
    """The SMTP server cannot be reached, or the connection broke and a fresh one failed too: stop, retry later."""


class SmtpSender:
    """Sends EmailMessageSpec over SMTP: send() on a connection of its own, connection() for many messages."""

    def __init__(
        self,
        url: str,
        timeout: float = 10,
        *,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        """Configure from an SMTP URL; ssl_context overrides the system trust store."""
        self.settings = parse_smtp_url(url)
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.local_hostname = local_hostname

    def __repr__(self) -> str:
        """Show the endpoint without the password."""
        s = self.settings
        return f"SmtpSender({s.security}://{s.username + '@' if s.username else ''}{s.host}:{s.port})"

    def build_message(
        self, spec: EmailMessageSpec, *, from_addr: str, message_id: str | None = None
    ) -> Message:
        """The MIME message that send() transmits (7-bit clean, UTF-8 content)."""
        from_bare = _check_address(from_addr)
        # The compat32 classes, not EmailMessage: its header registry parses every header back into objects and
        # cost three quarters of a millisecond per message, more than the SMTP exchange (issue 13). What goes out is
        # the same: RFC 2047 encoded words for non-ASCII names and subjects, quoted-printable UTF-8 bodies.
        text = MIMEText(spec.body, "plain", _QP_UTF8)
        if spec.html is None:
            msg: Message = text
        else:
            msg = MIMEMultipart("alternative")
            msg.attach(text)
            msg.attach(MIMEText(spec.html, "html", _QP_UTF8))
        msg["From"] = _encode_address(from_addr)
        msg["To"] = ", ".join(_encode_address(a) for a in spec.to)
        msg["Subject"] = spec.subject if spec.subject.isascii() else Header(spec.subject, _QP_UTF8, header_name="Subject")
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = (
            _normalise_message_id(message_id)
            if message_id is not None
            else make_msgid(domain=from_bare.rpartition("@")[2])
        )
        # RFC 3834: tells autoresponders (out-of-office) not to reply to notifications.
        msg["Auto-Submitted"] = "auto-generated"
        return msg

    def send(
        self, spec: EmailMessageSpec, *, from_addr: str, message_id: str | None = None
    ) -> str:
        """Deliver spec and return its Message-ID; raises EmailDeliveryError / EmailRejected."""
        with self.connection() as conn:
            return conn.send(spec, from_addr=from_addr, message_id=message_id)

    def connection(self, *, max_messages: int = 100) -> SmtpConnection:
        """One connection for many messages (see SmtpConnection); use as a context manager."""
        return SmtpConnection(self, max_messages=max_messages)

    def _open(self) -> smtplib.SMTP:
        """A connected (and logged-in) SMTP session; raises SmtpUnavailable."""
        try:
            smtp = self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            raise SmtpUnavailable(f"SMTP delivery failed: {exc!r}") from exc
        if self.settings.username is not None:
            try:
                smtp.login(self.settings.username, self.settings.password or "")
            except smtplib.SMTPAuthenticationError as exc:
                smtp.close()
                # Bad credentials are a configuration problem, not the message's: retry after fixing.
                raise SmtpUnavailable(f"SMTP authentication failed: {exc.smtp_code}") from exc
            except (smtplib.SMTPException, OSError) as exc:
                smtp.close()
                raise SmtpUnavailable(f"SMTP delivery failed: {exc!r}") from exc
        return smtp

    def _transmit(self, smtp: smtplib.SMTP, msg: bytes, envelope_from: str, envelope_to: list[str]) -> None:
        """One message on an open session; a broken connection surfaces as _Broken (the caller may reconnect)."""
        try:
            refused = smtp.sendmail(envelope_from, envelope_to, msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _refusal_error(exc.recipients, all_refused=True) from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            reply = f"{exc.smtp_code} {_reply_text(exc.smtp_error)}"
            if exc.smtp_code == 421:
                # "Service not available, closing channel": the server ends the session (too many messages, shutdown).
                raise _Broken(f"SMTP server closed the connection: {reply}") from exc
            if exc.smtp_code >= 500:
                raise EmailRejected(f"SMTP server refused the message: {reply}") from exc
            raise EmailDeliveryError(f"SMTP server deferred the message: {reply}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            # OSError covers dropped connections, timeouts and TLS (ssl.SSLError) failures.
            raise _Broken(f"SMTP delivery failed: {exc!r}") from exc
        if refused:
            # Some recipients got it; a retry reuses the Message-ID so they can dedupe.
            raise _refusal_error(refused, all_refused=False)

    def _connect(self) -> smtplib.SMTP:
        """Open a connection with the configured transport security (EHLO done)."""
        s = self.settings
        hostname = self.local_hostname or _local_hostname()
        if s.security == "tls":
            context = self.ssl_context or ssl.create_default_context()
            return smtplib.SMTP_SSL(
                s.host, s.port, local_hostname=hostname, timeout=self.timeout, context=context
            )
        smtp = smtplib.SMTP(s.host, s.port, local_hostname=hostname, timeout=self.timeout)
        try:
            if s.security == "starttls":
                smtp.ehlo()
                # starttls() raises SMTPNotSupportedError if the server does not offer it:
                # never fall back to plaintext when TLS was asked for.
                smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp


class _Broken(Exception):
    """The SMTP session is unusable (dropped, timed out, closed by the server)."""


class SmtpConnection:
    """Many messages over one SMTP session, opened on the first send and reopened when it breaks.

    Contract: send() returns the Message-ID the server accepted (250 after DATA), or raises for this message only
    (EmailRejected, EmailDeliveryError for a deferral: the session stays usable), or raises SmtpUnavailable: the
    server cannot be reached, or a session that had worked broke and a fresh one failed too. After SmtpUnavailable
    every later send() raises it at once, so a batch stops instead of waiting out a timeout per message. A session
    that breaks is reopened and the message sent again; if the break came after the server had accepted the data
    but before its reply arrived, that is a second copy with the same Message-ID (SMTP cannot tell). After
    max_messages the session is ended with QUIT and a new one opened (servers limit messages per session).
    """

    def __init__(self, sender: SmtpSender, *, max_messages: int = 100) -> None:
        """Nothing is opened until the first send."""
        self.sender = sender
        self.max_messages = max_messages
        self.sessions = 0  # sessions opened so far (tests and the bench look at it)
        self._smtp: smtplib.SMTP | None = None
        self._sent_on_session = 0
        self._down: SmtpUnavailable | None = None

    def __enter__(self) -> SmtpConnection:
        """Use as a context manager; the session is closed on exit."""
        return self

    def __exit__(self, *_exc: object) -> None:
        """Close the session."""
        self.close()

    def send(self, spec: EmailMessageSpec, *, from_addr: str, message_id: str | None = None) -> str:
        """Deliver spec and return its Message-ID; raises EmailRejected, EmailDeliveryError or SmtpUnavailable."""
        if self._down is not None:
            raise SmtpUnavailable(str(self._down))
        msg = self.sender.build_message(spec, from_addr=from_addr, message_id=message_id)
        data = msg.as_bytes(policy=_WIRE)  # flattened once, also when a fresh session sends it again
        envelope_from = _check_address(from_addr)
        envelope_to = [_check_address(a) for a in spec.to]
        if self._smtp is not None and self._sent_on_session >= self.max_messages:
            self.close()
        # A session that already carried messages may have been dropped while idle: one fresh session is tried.
        for attempt in range(2):
            fresh = self._smtp is None
            if fresh:
                try:
                    self._smtp = self.sender._open()
                except SmtpUnavailable as exc:
                    self._down = exc
                    raise
                self.sessions += 1
                self._sent_on_session = 0
            try:
                self.sender._transmit(self._smtp, data, envelope_from, envelope_to)
            except _Broken as exc:
                self._discard()
                if fresh or attempt:
                    self._down = SmtpUnavailable(str(exc))
                    raise self._down from exc
                continue
            self._sent_on_session += 1
            return str(msg["Message-ID"])
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """End the session politely (QUIT), or just drop it if the server is gone."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _discard(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()


def _reply_text(reply: bytes | str) -> str:
    """SMTP reply text as str."""
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _refusal_error(
    recipients: Mapping[str, tuple[int, bytes | str]], *, all_refused: bool
) -> EmailError:
    """EmailRejected if any recipient got a 5xx, else EmailDeliveryError (all 4xx)."""
    refused = {addr: (code, _reply_text(text)) for addr, (code, text) in recipients.items()}
    summary = ", ".join(f"{a}: {c} {t}" for a, (c, t) in refused.items())
    scope = "all recipients" if all_refused else "some recipients"
    if any(code >= 500 for code, _ in refused.values()):
        return EmailRejected(f"SMTP server refused {scope}: {summary}", refused=refused)
    return EmailDeliveryError(f"SMTP server deferred {scope}: {summary}", refused=refused)


__all__ = [
    "EMAIL_TEMPLATES",
    "EmailDeliveryError",
    "EmailError",
    "EmailMessageSpec",
    "EmailRejected",
    "EmailRenderer",
    "SmtpConnection",
    "SmtpSender",
    "SmtpSettings",
    "SmtpUnavailable",
    "SwedishFormatter",
    "make_message_id",
    "parse_smtp_url",
    "render_email",
]
