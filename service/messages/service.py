"""Case message thread: who may post, who sees internal notes, audited without the message text."""

from __future__ import annotations

import re

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from service.cases.access import messages_shown
from service.audit.service import record
from service.diarium import service as diarium
from service.auth.models import Role, User
from service.cases.models import Case
from service.cases.repository import decode_cursor, encode_cursor
from service.cases.stages import TERMINAL
from service.config import get_settings
from service.errors import Conflict, Forbidden, NotFound, ValidationFailed
from service.messages.models import Message
from service.messages.schemas import AuthorOut, MessageOut
from service.notifications.models import Notification
from service.notifications.service import wants_email
from service.outbox.service import emit
from service.reviews.models import Review, ReviewStatus
from service.schemas import MAX_ID

MAX_BODY = 10_000
# C0 control characters other than tab and newlines; PostgreSQL refuses NUL in text outright.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Department staff who take part in the thread and may write internal notes.
STAFF = (Role.OFFICER, Role.APPROVER)


def _ensure_may_post(user: User, case: Case, internal: bool) -> None:
    """Members of the case's organisation and its department's staff post; only staff write internal notes."""
    if user.role == Role.ORG_MEMBER and user.organisation_id == case.organisation_id:
        if internal:
            # Refused rather than silently dropped: the member would otherwise believe the note is hidden.
            raise ValidationFailed(
                "Organisationen kan inte skriva interna anteckningar / organisation members cannot write internal notes",
                errors=[{"field": "internal", "message": "Endast förvaltningens personal / department staff only"}],
            )
        return
    if user.role in STAFF and user.department_id == case.department_id:
        return
    raise Forbidden("Endast organisationen och förvaltningens personal skriver i tråden / only the parties post messages")


def post_message(session: Session, user: User, case: Case, body: str, internal: bool = False) -> Message:
    """Add a message to a visible case's thread (the caller has checked visibility)."""
    _ensure_may_post(user, case, internal)
    text = (body or "").strip()
    if not text or len(text) > MAX_BODY:
        raise ValidationFailed(errors=[{"field": "body", "message": f"1–{MAX_BODY} tecken / 1–{MAX_BODY} characters"}])
    if CONTROL_CHARS.search(text):
        raise ValidationFailed(errors=[{"field": "body", "message": "får inte innehålla styrtecken / must not contain control characters"}])
    if case.stage in TERMINAL:
        raise Conflict("Ärendet är avslutat; tråden är stängd / case is closed, the thread is read-only", current_stage=case.stage)
    message = Message(case_id=case.id, author_id=user.id, body=text, internal=internal)
    session.add(message)
    session.flush()
    # The text stays out of the append-only audit chain: free text often holds personal data that
    # must stay erasable (see organisations.service.erase_contact); the row itself is the record.
    record(session, actor=user, action="message.posted", case_id=case.id, after={"message_id": message.id, "internal": internal})
    if not internal:  # an internal note is the administration's working note, not a handling exchanged with the organisation
        diarium.register_message(session, case, message, user)
    _notify(session, user, case, message)
    return message


def recipients(session: Session, author: User, case: Case, internal: bool) -> list[User]:
    """Who hears of a new message: the other party, and the assigned officer (and the pending review's requester) when a colleague writes.

    The organisation's message goes to the case's assigned officer (nobody is told before one is assigned;
    the triage deadline covers that). Staff messages go to the organisation's active members, internal
    notes to nobody on the organisation's side; the assigned officer hears of colleagues' messages and notes. The
    requester of a pending review hears what the assigned officer hears.
    """
    out: list[User] = []
    officer = session.get(User, case.officer_id) if case.officer_id else None
    # Whoever asked for the pending decision acts on what is said meanwhile, like the assigned officer.
    requester_id = session.scalar(select(Review.requested_by_id).where(Review.case_id == case.id, Review.status == ReviewStatus.PENDING).limit(1))
    for staff in (officer, session.get(User, requester_id) if requester_id else None):
        if staff is not None and staff.is_active and staff.id != author.id and staff not in out:
            out.append(staff)
    if author.role in STAFF and not internal:
        out += session.scalars(select(User).where(User.organisation_id == case.organisation_id, User.role == Role.ORG_MEMBER,
                                                  User.is_active.is_(True), User.id != author.id).order_by(User.id))
    return out


def _notify(session: Session, author: User, case: Case, message: Message) -> None:
    """In-app notifications in the message's own transaction (no side effect to retry, so no outbox event).

    Title and sender only: the text may name people and stays in the thread, where a GDPR erasure redacts it.
    """
    what = "Ny intern anteckning" if message.internal else "Nytt meddelande"
    title = f"{what}: {case.diarienummer + ' ' if case.diarienummer else ''}{case.title}"[:300]
    users = recipients(session, author, case, message.internal)
    for u in users:
        session.add(Notification(user_id=u.id, case_id=case.id, kind="message_posted", title=title, body=f"Från {author.full_name}",
                                 dedupe_key=f"message:{message.id}:{u.id}"))
    session.flush()
    if message.internal:
        return  # internal notes stay in the system: colleagues see them in-app
    # A small association does not watch the service all day: an e-mail says there is something to read.
    base = get_settings().public_base_url
    for u in (u for u in users if wants_email(session, u)):
        emit(session, "email.send", {"template": "message_posted", "key": f"message:{message.id}:{u.email}", "context": {
            "to": u.email, "recipient_name": u.full_name, "author_name": author.full_name, "case_title": case.title,
            "diarienummer": case.diarienummer or f"ärende {case.id}", "case_url": f"{base}/arenden/{case.id}#meddelanden"}},
             case_id=case.id)


def _visible_stmt(user: User, case: Case):  # noqa: ANN202 - a Select
    return select(Message).where(Message.case_id == case.id, messages_shown(user))


def list_messages(session: Session, user: User, case: Case, *, cursor: str | None, limit: int) -> tuple[list[Message], str | None]:
    """One page of the thread, oldest first; internal notes only for department staff and registrars."""
    stmt = _visible_stmt(user, case)
    if cursor:
        created_at, ident = decode_cursor(cursor, "created_at")
        stmt = stmt.where(tuple_(Message.created_at, Message.id) > tuple_(created_at, ident))
    rows = list(session.scalars(stmt.order_by(Message.created_at, Message.id).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
    return rows, next_cursor


def get_message(session: Session, user: User, case: Case, message_id: int) -> Message:
    """One message, 404 when missing, of another case, or an internal note the user may not see."""
    message = session.scalar(_visible_stmt(user, case).where(Message.id == message_id)) if 0 < message_id <= MAX_ID else None
    if message is None:
        raise NotFound("Meddelandet finns inte / Message not found")
    return message


def to_out(session: Session, messages: list[Message]) -> list[MessageOut]:
    """Response objects with their authors, loaded in one query."""
    ids = {m.author_id for m in messages if m.author_id is not None}
    authors = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [
        MessageOut(id=m.id, case_id=m.case_id, body=m.body, internal=m.internal, created_at=m.created_at,
                   author=AuthorOut.model_validate(authors[m.author_id]) if m.author_id in authors else None)
        for m in messages
    ]


def thread(session: Session, user: User, case: Case) -> list[Message]:
    """The whole thread as the user may see it, oldest first (the case page shows it in full)."""
    return list(session.scalars(_visible_stmt(user, case).order_by(Message.created_at, Message.id)))
