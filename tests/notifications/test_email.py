"""Email rendering (Swedish templates) and delivery against a real aiosmtpd server."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError

from service.cases.stages import Stage
from service.notifications.email import (
    EMAIL_TEMPLATES,
    EmailDeliveryError,
    EmailMessageSpec,
    EmailRejected,
    EmailRenderer,
    SmtpSender,
    SwedishFormatter,
    make_message_id,
    parse_smtp_url,
    render_email,
)
from tests.fixtures.smtp import HOST, SmtpTestServer, free_tcp_port

STHLM = ZoneInfo("Europe/Stockholm")
NBSP = "\u00a0"
FROM = "Västerås stad – IOP <iop@vasteras.example>"


def at(y: int, m: int, d: int, hh: int = 23, mm: int = 59, ss: int = 59) -> dt.datetime:
    """Aware Stockholm datetime (default: end of day, the deadline convention)."""
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=STHLM)


def case_ctx(**extra: Any) -> dict[str, Any]:
    """Context shared by the case templates."""
    base: dict[str, Any] = {
        "to": "asa.ostrom@kommun.example",
        "recipient_name": "Åsa Öström",
        "diarienummer": "SOC 2026/0042",
        "case_title": "Läxhjälp och fritid i Gårdsten",
        "organisation_name": "Föreningen Ängsbacken",
        "case_url": "https://iop.kommun.example/arenden/7f3c",
    }
    base.update(extra)
    return base


def reminder_spec() -> EmailMessageSpec:
    """A rendered reminder with Swedish characters in subject and body."""
    return render_email(
        "reminder", case_ctx(deadline_kind="review", due_at=at(2026, 11, 23))
    )


# -- rendering --------------------------------------------------------------------------------


def test_reminder_template() -> None:
    spec = reminder_spec()
    assert spec.to == ("asa.ostrom@kommun.example",)
    assert spec.subject == (
        "Påminnelse: beslut i granskning i ärende SOC 2026/0042 senast måndag 23 november 2026"
    )
    assert spec.body.startswith("Hej Åsa Öström,\n\n")
    assert "”Läxhjälp och fritid i Gårdsten”" in spec.body
    assert "Frist:   Beslut i granskning\n" in spec.body
    assert "Senast:  måndag 23 november 2026\n" in spec.body
    assert "https://iop.kommun.example/arenden/7f3c" in spec.body
    assert "skickades automatiskt" in spec.body
    assert spec.body.endswith("stället.\n")
    assert spec.html is None


def test_due_time_shown_in_local_time_and_only_when_not_end_of_day() -> None:
    # 22:59:59 UTC in November is 23:59:59 in Stockholm: end of day, so the date only.
    eod = render_email("reminder", case_ctx(
        deadline_kind="triage", due_at=dt.datetime(2026, 11, 23, 22, 59, 59, tzinfo=dt.UTC)
    ))
    assert "Senast:  måndag 23 november 2026\n" in eod.body
    # 23:30 UTC is already 00:30 the next day in Stockholm.
    late = render_email("reminder", case_ctx(
        deadline_kind="triage", due_at=dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC)
    ))
    assert "Senast:  tisdag 24 november 2026 kl. 00.30\n" in late.body
    summer = render_email("reminder", case_ctx(
        deadline_kind="agreement_signature", due_at=dt.datetime(2026, 6, 22, 12, 0, tzinfo=dt.UTC)
    ))
    assert "måndag 22 juni 2026 kl. 14.00" in summer.subject  # CEST = UTC+2
    assert "underskrift av avtalet" in summer.subject


def test_deadline_missed_template_goes_to_escalation_recipient() -> None:
    spec = render_email("deadline_missed", case_ctx(
        to=["enhetschef@kommun.example"],
        recipient_name="Göran Ärlig",
        deadline_kind="triage",
        due_at=at(2026, 12, 29),
        responsible_name="Åsa Öström",
    ))
    assert spec.to == ("enhetschef@kommun.example",)
    assert spec.subject == "Frist passerad: tilldelning av handläggare i ärende SOC 2026/0042"
    assert "Hej Göran Ärlig," in spec.body
    assert "gick ut tisdag 29 december 2026 utan att vara uppfylld" in spec.body
    assert "Ansvarig: Åsa Öström\n" in spec.body
    assert "eskalerats till dig" in spec.body
    without = render_email("deadline_missed", case_ctx(deadline_kind="triage", due_at=at(2026, 12, 29)))
    assert "Ansvarig" not in without.body


def test_review_requested_template_goes_to_all_approvers() -> None:
    ctx = case_ctx(
        to=["chef.ett@kommun.example", "Bo Åkesson <chef.tva@kommun.example>"],
        requested_by="Åsa Öström",
        from_stage="dialogue",
        to_stage=Stage.AGREEMENT,  # enum members and plain codes both work
        amount_sek=1_250_000,
        due_at=at(2026, 12, 7),
        review_url="https://iop.kommun.example/granskningar/19",
    )
    spec = render_email("review_requested", ctx)
    assert spec.to == ("chef.ett@kommun.example", "Bo Åkesson <chef.tva@kommun.example>")
    assert spec.subject == "Beslut begärt i ärende SOC 2026/0042: dialog till överenskommelse"
    assert "Åsa Öström begär beslut i IOP-ärendet SOC 2026/0042" in spec.body
    assert "med Föreningen Ängsbacken" in spec.body
    assert f"Offentligt bidrag: 1{NBSP}250{NBSP}000{NBSP}kr\n" in spec.body
    assert "Beslut senast:     måndag 7 december 2026\n" in spec.body
    assert "https://iop.kommun.example/granskningar/19" in spec.body
    del ctx["amount_sek"]
    assert "Offentligt bidrag" not in render_email("review_requested", ctx).body


@pytest.mark.parametrize(
    ("decision", "label", "phrase", "appeal"),
    [
        ("approve", "beviljat", "har beviljats och går vidare till fasen överenskommelse.", True),
        ("reject", "avslaget", "har tyvärr avslagits.", True),
        ("changes_requested", "komplettering begärd", "behövs komplettering", False),
    ],
)
def test_decision_made_template(decision: str, label: str, phrase: str, appeal: bool) -> None:
    spec = render_email("decision_made", case_ctx(
        to="kontakt@angsbacken.example",
        recipient_name="Märta Sjöö",
        decision=decision,
        to_stage="agreement",
        motivation="Behovet är väl beskrivet.\nBåda parter bidrar med resurser.",
        decided_at=at(2026, 11, 30, 14, 5, 0),
        decided_by="Örjan Lindqvist, förvaltningschef",
    ))
    assert spec.to == ("kontakt@angsbacken.example",)
    assert spec.subject == f"Beslut i ärende SOC 2026/0042: {label}"
    assert phrase in spec.body
    # Multi-line motivation is kept line by line.
    assert "Motivering:\nBehovet är väl beskrivet.\nBåda parter bidrar med resurser.\n" in spec.body
    assert "fattades 30 november 2026 av Örjan Lindqvist, förvaltningschef." in spec.body
    assert ("laglighetsprövning" in spec.body) is appeal


def test_followup_report_requested_template() -> None:
    spec = render_email("followup_report_requested", case_ctx(
        to="kontakt@angsbacken.example",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        due_at=at(2027, 2, 26),
        report_url="https://iop.kommun.example/arenden/7f3c/uppfoljning/1",
    ))
    assert spec.subject == (
        "Uppföljningsrapport för ärende SOC 2026/0042 ska lämnas senast fredag 26 februari 2027"
    )
    assert "ska Föreningen Ängsbacken lämna en uppföljningsrapport" in spec.body
    assert "för perioden 1 januari 2026 – 31 december 2026." in spec.body
    assert "- hur de offentliga medlen har använts," in spec.body
    assert "https://iop.kommun.example/arenden/7f3c/uppfoljning/1" in spec.body


def test_agreement_expiring_template() -> None:
    spec = render_email("agreement_expiring", case_ctx(
        ends_on=dt.date(2027, 12, 31), notice_period="sex månader"
    ))
    assert spec.subject == "Avtalet i ärende SOC 2026/0042 löper ut 31 december 2027"
    assert "löper ut fredag 31 december 2027." in spec.body
    assert "(uppsägningstid: sex månader)" in spec.body
    assert "förlängas, avslutas" in spec.body


def test_every_shipped_template_is_present() -> None:
    assert sorted(EMAIL_TEMPLATES) == EmailRenderer().available()


def test_missing_variable_raises() -> None:
    ctx = case_ctx(deadline_kind="review", due_at=at(2026, 11, 23))
    del ctx["case_title"]
    with pytest.raises(UndefinedError, match="case_title"):
        render_email("reminder", ctx)


def test_unknown_codes_raise_instead_of_rendering_raw() -> None:
    with pytest.raises(ValueError, match="deadline kind"):
        render_email("reminder", case_ctx(deadline_kind="nonsense", due_at=at(2026, 11, 23)))
    with pytest.raises(ValueError, match="decision"):
        render_email("decision_made", case_ctx(
            decision="maybe", motivation="-", decided_at=at(2026, 1, 7), decided_by="X"
        ))


def test_naive_datetime_in_context_raises() -> None:
    with pytest.raises(ValueError, match="naive"):
        render_email("reminder", case_ctx(deadline_kind="review", due_at=dt.datetime(2026, 11, 23, 12)))


def test_recipients_are_required_and_validated() -> None:
    ctx = case_ctx(deadline_kind="review", due_at=at(2026, 11, 23))
    del ctx["to"]
    with pytest.raises(ValueError, match="to"):
        render_email("reminder", ctx)
    for bad in ("inte-en-adress", "a@b.example\nBcc: x@evil.example", []):
        with pytest.raises(ValueError):
            render_email("reminder", {**ctx, "to": bad})


def test_template_names_cannot_escape_the_directory() -> None:
    with pytest.raises(ValueError):
        render_email("../../pyproject", {"to": "a@b.example"})


def test_swedish_dates() -> None:
    f = SwedishFormatter()
    assert f.veckodag_datum(dt.date(2026, 6, 19)) == "fredag 19 juni 2026"
    assert f.veckodag_datum(dt.date(2026, 6, 20)) == "lördag 20 juni 2026"
    assert f.veckodag_datum(dt.date(2026, 10, 25)) == "söndag 25 oktober 2026"
    assert f.veckodag_datum(dt.date(2026, 12, 24)) == "torsdag 24 december 2026"
    assert f.veckodag_datum(dt.date(2027, 3, 26)) == "fredag 26 mars 2027"
    assert f.veckodag_datum(dt.date(2026, 5, 14)) == "torsdag 14 maj 2026"
    assert f.veckodag_datum(dt.date(2026, 8, 5)) == "onsdag 5 augusti 2026"
    assert f.veckodag_datum(dt.date(2026, 9, 1)) == "tisdag 1 september 2026"
    assert f.datum(dt.date(2026, 2, 2)) == "2 februari 2026"
    assert f.datum_tid(at(2026, 3, 29, 3, 5, 0)) == "söndag 29 mars 2026 kl. 03.05"


def test_swedish_amounts() -> None:
    assert SwedishFormatter.kronor(1_250_000) == f"1{NBSP}250{NBSP}000{NBSP}kr"
    assert SwedishFormatter.kronor(Decimal("1250.5")) == f"1{NBSP}250,50{NBSP}kr"
    assert SwedishFormatter.kronor(0) == f"0{NBSP}kr"


def test_template_format_and_sandbox(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("Subject: Ärende {{ title }}\nRad ett & <två>\n", "utf-8")
    (tmp_path / "nosubject.txt").write_text("Hej\n", "utf-8")
    (tmp_path / "evil.txt").write_text("Subject: x\n{{ title.__class__.__mro__ }}\n", "utf-8")
    (tmp_path / "broken.txt").write_text("Subject: x\nrad 2\n{{ oops(\n", "utf-8")
    renderer = EmailRenderer(tmp_path)
    spec = renderer.render("ok", {"to": "a@b.example", "title": "Rad\nBcc: x@evil.example"})
    # A line break in a value collapses into the subject instead of splitting it.
    assert spec.subject == "Ärende Rad Bcc: x@evil.example"
    # No HTML escaping in plain text.
    assert spec.body == "Rad ett & <två>\n"
    with pytest.raises(TemplateSyntaxError, match="Subject:"):
        renderer.render("nosubject", {"to": "a@b.example"})
    with pytest.raises(SecurityError):
        renderer.render("evil", {"to": "a@b.example", "title": "x"})
    with pytest.raises(TemplateSyntaxError) as info:
        renderer.render("broken", {"to": "a@b.example"})
    assert info.value.lineno == 3  # error lines match the file, Subject line included


# -- URL and ids --------------------------------------------------------------------------------


def test_parse_smtp_url() -> None:
    assert parse_smtp_url("smtp://mail.kommun.example").port == 25
    assert parse_smtp_url("smtp+starttls://mail.kommun.example").port == 587
    s = parse_smtp_url("smtps://iop%40kommun.example:s3cr%3At%2Fx@mail.kommun.example:2465")
    assert (s.security, s.host, s.port) == ("tls", "mail.kommun.example", 2465)
    assert (s.username, s.password) == ("iop@kommun.example", "s3cr:t/x")
    assert "s3cr" not in repr(SmtpSender("smtps://u:s3cret@mail.kommun.example"))
    for bad in ("http://mail.kommun.example", "smtp://", "smtp://u:l%C3%B6sen@h.example"):
        with pytest.raises(ValueError):
            parse_smtp_url(bad)


def test_make_message_id_is_stable() -> None:
    assert make_message_id("outbox/42", "kommun.example") == "<iop.outbox-42@kommun.example>"
    assert make_message_id("outbox/42", "kommun.example") == make_message_id("outbox/42", "kommun.example")


# -- delivery -------------------------------------------------------------------------------


def test_send_roundtrip_keeps_swedish_text_and_message_id(smtp_server: SmtpTestServer) -> None:
    spec = reminder_spec()
    sender = SmtpSender(smtp_server.url, timeout=5)
    mid = sender.send(spec, from_addr=FROM, message_id="<iop.outbox-42@vasteras.example>")
    assert mid == "<iop.outbox-42@vasteras.example>"
    [received] = smtp_server.messages
    msg = received.message
    assert msg["Message-ID"] == mid
    assert msg["Subject"] == spec.subject
    assert "Påminnelse" in msg["Subject"] and "ärende" in msg["Subject"]
    body = msg.get_content().replace("\r\n", "\n")
    assert body == spec.body
    assert "Åsa Öström" in body and "Läxhjälp" in body and "Gårdsten" in body
    sender_addr = msg["From"].addresses[0]
    assert sender_addr.display_name == "Västerås stad – IOP"
    assert sender_addr.addr_spec == "iop@vasteras.example"
    assert [a.addr_spec for a in msg["To"].addresses] == ["asa.ostrom@kommun.example"]
    assert received.mail_from == "iop@vasteras.example"
    assert received.rcpt_tos == ["asa.ostrom@kommun.example"]
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Date"].datetime.tzinfo is not None
    assert msg.get_content_charset() == "utf-8"
    # 7-bit on the wire: no reliance on 8BITMIME/SMTPUTF8 support in relays.
    assert received.raw.isascii()


def test_send_to_several_recipients(smtp_server: SmtpTestServer) -> None:
    spec = EmailMessageSpec(
        to=("chef.ett@kommun.example", "Bo Åkesson <chef.tva@kommun.example>"),
        subject="Beslut begärt: dialog till överenskommelse",
        body="Hej!\n",
    )
    SmtpSender(smtp_server.url).send(spec, from_addr="iop@kommun.example")
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["chef.ett@kommun.example", "chef.tva@kommun.example"]
    assert received.message["To"].addresses[1].display_name == "Bo Åkesson"


def test_message_id_is_normalised_or_generated(smtp_server: SmtpTestServer) -> None:
    sender = SmtpSender(smtp_server.url)
    spec = reminder_spec()
    assert sender.send(spec, from_addr=FROM, message_id="abc.1@vasteras.example") == (
        "<abc.1@vasteras.example>"
    )
    generated = sender.send(spec, from_addr=FROM)
    other = sender.send(spec, from_addr=FROM)
    assert generated != other
    assert generated.startswith("<") and generated.endswith("@vasteras.example>")
    assert [m.message["Message-ID"] for m in smtp_server.messages] == [
        "<abc.1@vasteras.example>", generated, other,
    ]
    with pytest.raises(ValueError):
        sender.send(spec, from_addr=FROM, message_id="<has space@x.example>")


def test_resend_with_same_message_id_is_recognisable(smtp_server: SmtpTestServer) -> None:
    # SMTP is at-least-once; a retried outbox row re-sends under the same id.
    sender = SmtpSender(smtp_server.url)
    mid = make_message_id("outbox-7", "vasteras.example")
    assert sender.send(reminder_spec(), from_addr=FROM, message_id=mid) == mid
    assert sender.send(reminder_spec(), from_addr=FROM, message_id=mid) == mid
    assert {m.message["Message-ID"] for m in smtp_server.messages} == {mid}


def test_nothing_listening_is_a_quick_delivery_error() -> None:
    sender = SmtpSender(f"smtp://{HOST}:{free_tcp_port()}", timeout=5)
    started = time.monotonic()
    with pytest.raises(EmailDeliveryError) as info:
        sender.send(reminder_spec(), from_addr=FROM)
    assert time.monotonic() - started < 2
    assert not isinstance(info.value, EmailRejected)


def test_server_down_then_back_up(smtp_server: SmtpTestServer) -> None:
    sender = SmtpSender(smtp_server.url, timeout=5)
    smtp_server.stop()
    started = time.monotonic()
    with pytest.raises(EmailDeliveryError):
        sender.send(reminder_spec(), from_addr=FROM, message_id="<retry-1@vasteras.example>")
    assert time.monotonic() - started < 2
    assert smtp_server.messages == []
    smtp_server.start()
    assert sender.send(reminder_spec(), from_addr=FROM, message_id="<retry-1@vasteras.example>")
    assert [m.message["Message-ID"] for m in smtp_server.messages] == ["<retry-1@vasteras.example>"]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections but never sends the SMTP greeting."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_unresponsive_server_times_out_as_delivery_error(silent_server: int) -> None:
    sender = SmtpSender(f"smtp://{HOST}:{silent_server}", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(EmailDeliveryError):
        sender.send(reminder_spec(), from_addr=FROM)
    assert 0.4 < time.monotonic() - started < 3


def test_permanent_recipient_refusal_is_rejected(smtp_server: SmtpTestServer) -> None:
    smtp_server.refuse("asa.ostrom@kommun.example", "550 5.1.1 Okänd mottagare")
    with pytest.raises(EmailRejected) as info:
        SmtpSender(smtp_server.url).send(reminder_spec(), from_addr=FROM)
    code, text = info.value.refused["asa.ostrom@kommun.example"]
    assert code == 550 and "5.1.1" in text
    assert smtp_server.messages == []


def test_temporary_recipient_refusal_is_a_delivery_error(smtp_server: SmtpTestServer) -> None:
    smtp_server.refuse("asa.ostrom@kommun.example", "450 4.2.1 Brevlådan är upptagen")
    with pytest.raises(EmailDeliveryError) as info:
        SmtpSender(smtp_server.url).send(reminder_spec(), from_addr=FROM)
    assert not isinstance(info.value, EmailRejected)
    assert info.value.refused["asa.ostrom@kommun.example"][0] == 450


def test_partial_refusal_reports_only_the_refused(smtp_server: SmtpTestServer) -> None:
    smtp_server.refuse("borta@kommun.example")
    spec = EmailMessageSpec(
        to=("chef@kommun.example", "borta@kommun.example"), subject="Beslut begärt", body="Hej\n"
    )
    with pytest.raises(EmailRejected) as info:
        SmtpSender(smtp_server.url).send(spec, from_addr=FROM, message_id="<p-1@vasteras.example>")
    assert set(info.value.refused) == {"borta@kommun.example"}
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["chef@kommun.example"]


def test_invalid_sender_address_is_refused_before_connecting() -> None:
    sender = SmtpSender(f"smtp://{HOST}:{free_tcp_port()}")
    with pytest.raises(ValueError):
        sender.send(reminder_spec(), from_addr="ingen adress")


# -- TLS and authentication -------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "iop test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def server_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    """Server-side TLS context with the test certificate."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*tls_files)
    return ctx


def client_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    """Client-side context trusting only the test certificate (hostname checked)."""
    return ssl.create_default_context(cafile=str(tls_files[0]))


@pytest.fixture
def starttls_server(tls_files: tuple[Path, Path]) -> Iterator[tuple[SmtpTestServer, list[tuple[str, str]]]]:
    """STARTTLS-required server accepting iop@kommun.example / s3cr:t, logging login attempts."""
    attempts: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        attempts.append((login, password))
        # handled=False: let aiosmtpd send the 235/535 reply itself.
        return AuthResult(success=(login, password) == ("iop@kommun.example", "s3cr:t"), handled=False)

    server = SmtpTestServer(
        tls_context=server_context(tls_files),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    server.start()
    try:
        yield server, attempts
    finally:
        server.stop()


def test_starttls_with_login(
    starttls_server: tuple[SmtpTestServer, list[tuple[str, str]]], tls_files: tuple[Path, Path]
) -> None:
    server, attempts = starttls_server
    url = f"smtp+starttls://iop%40kommun.example:s3cr%3At@{HOST}:{server.port}"
    sender = SmtpSender(url, timeout=5, ssl_context=client_context(tls_files))
    sender.send(reminder_spec(), from_addr=FROM, message_id="<tls-1@vasteras.example>")
    assert attempts == [("iop@kommun.example", "s3cr:t")]
    [received] = server.messages
    assert received.message["Subject"] == reminder_spec().subject


def test_wrong_password_is_a_delivery_error(
    starttls_server: tuple[SmtpTestServer, list[tuple[str, str]]], tls_files: tuple[Path, Path]
) -> None:
    server, _ = starttls_server
    url = f"smtp+starttls://iop%40kommun.example:fel@{HOST}:{server.port}"
    with pytest.raises(EmailDeliveryError, match="authentication"):
        SmtpSender(url, ssl_context=client_context(tls_files)).send(reminder_spec(), from_addr=FROM)
    assert server.messages == []


def test_untrusted_certificate_is_a_delivery_error(
    starttls_server: tuple[SmtpTestServer, list[tuple[str, str]]],
) -> None:
    server, attempts = starttls_server
    url = f"smtp+starttls://iop%40kommun.example:s3cr%3At@{HOST}:{server.port}"
    with pytest.raises(EmailDeliveryError):
        SmtpSender(url).send(reminder_spec(), from_addr=FROM)  # system trust store only
    assert attempts == []  # credentials never sent over an unverified connection


def test_starttls_never_falls_back_to_plaintext(smtp_server: SmtpTestServer) -> None:
    url = smtp_server.url.replace("smtp://", "smtp+starttls://u:p@")
    with pytest.raises(EmailDeliveryError):
        SmtpSender(url).send(reminder_spec(), from_addr=FROM)
    assert smtp_server.messages == []


def test_implicit_tls(tls_files: tuple[Path, Path]) -> None:
    server = SmtpTestServer(ssl_context=server_context(tls_files))
    server.start()
    try:
        assert server.url.startswith("smtps://")
        SmtpSender(server.url, timeout=5, ssl_context=client_context(tls_files)).send(
            reminder_spec(), from_addr=FROM
        )
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_session_fixture_is_usable(smtp_server_session: SmtpTestServer) -> None:
    smtp_server_session.clear()
    SmtpSender(smtp_server_session.url).send(reminder_spec(), from_addr=FROM)
    assert len(smtp_server_session.wait_for(1, timeout=2)) == 1


def test_account_templates_render_in_swedish() -> None:
    reset = render_email("password_reset", {"to": "asa@example.se", "recipient_name": "Åsa", "reset_url": "https://iop.example/aterstall-losenord?token=abc",
                                            "expires_at": at(2026, 11, 23, 14, 30)})
    assert reset.subject == "Återställ ditt lösenord till IOP Partnerskap"
    assert "https://iop.example/aterstall-losenord?token=abc" in reset.body and "måndag 23 november 2026 kl. 14.30" in reset.body
    exists = render_email("account_exists", {"to": "asa@example.se", "recipient_name": "Åsa", "login_url": "https://iop.example/logga-in",
                                             "reset_url": "https://iop.example/glomt-losenord"})
    assert "redan ett konto" in exists.body and "https://iop.example/glomt-losenord" in exists.body
    created = render_email("account_created", {"to": "asa@example.se", "recipient_name": "Åsa", "organisation_name": "Föreningen Ängsbacken",
                                               "orgnr": "802000-0001", "login_url": "https://iop.example/logga-in",
                                               "confirm_url": "https://iop.example/bekrafta-konto?token=abc", "expires_at": at(2026, 11, 30, 8, 0)})
    assert created.subject == "Bekräfta din e-postadress – välkommen till IOP Partnerskap"
    assert "https://iop.example/bekrafta-konto?token=abc" in created.body and "måndag 30 november 2026 kl. 08.00" in created.body
    assert "Föreningen Ängsbacken (802000-0001)" in created.body and "bekräftar en handläggare" in created.body
    verified = render_email("organisation_verified", {"to": "asa@example.se", "recipient_name": "Åsa", "organisation_name": "Föreningen Ängsbacken",
                                                      "orgnr": "802000-0001", "login_url": "https://iop.example/logga-in"})
    assert "kan ni skicka in förslag" in verified.body


def test_receipt_template() -> None:
    spec = render_email("case_submitted", case_ctx(submitted_at=at(2026, 11, 23, 9, 5), department_name="Socialförvaltningen"))
    assert spec.subject == "Kvittens: ert förslag har tagits emot – SOC 2026/0042"
    assert "Socialförvaltningen har tagit emot förslaget ”Läxhjälp och fritid i Gårdsten” från Föreningen Ängsbacken måndag 23 november 2026 kl. 09.05." in spec.body
    assert "diarienumret SOC 2026/0042" in spec.body and "https://iop.kommun.example/arenden/7f3c" in spec.body
