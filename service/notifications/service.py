"""In-app notifications (write, list, mark read, count), each user's channel setting, and the e-mail events behind them.

Every notification is in-app; the e-mail goes too unless the user chose in-app only (no setting: both).
Addresses passed as extra_emails belong to no account here and are always written to.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.db import utcnow
from service.errors import NotFound
from service.notifications.email import EmailDeliveryError, EmailMessageSpec, EmailRejected, render_email
from service.notifications.models import Notification, NotificationSetting
from service.outbox.service import Context, GiveUp, Handler, RetryLater, emit

if TYPE_CHECKING:
    from service.auth.models import User
    from service.cases.models import Case
    from service.outbox.models import OutboxEvent

DATE_FIELDS = ("due_at", "decided_at", "ends_on", "period_start", "period_end", "submitted_at", "expires_at")
LIST_LIMIT = 200


def _plain(context: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in context.items()}


def _revive(context: dict[str, Any]) -> dict[str, Any]:
    out = dict(context)
    for k in DATE_FIELDS:
        if isinstance(out.get(k), str):
            out[k] = datetime.fromisoformat(out[k]) if "T" in out[k] else date.fromisoformat(out[k])
    return out


def wants_email(session: Session, user: User) -> bool:
    """Whether the user gets notifications by e-mail as well as in-app."""
    setting = session.get(NotificationSetting, user.id)
    return setting is None or setting.email


def set_email(session: Session, user: User, email: bool) -> NotificationSetting:
    """Choose in-app only (False) or in-app and e-mail (True) for the user's own notifications."""
    setting = session.get(NotificationSetting, user.id)
    if setting is None:
        setting = NotificationSetting(user_id=user.id)
        session.add(setting)
    setting.email = email
    setting.updated_at = utcnow()
    session.flush()
    return setting


def notify(session: Session, users: list[User], *, key: str, template: str, context: dict[str, Any], title: str,
           case_id: int | None, extra_emails: list[str] | None = None, body: str | None = None) -> None:
    """In-app notification per user (deduplicated) and one e-mail event per address whose owner wants e-mail."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    seen: set[str] = set()
    unique = list({u.id: u for u in users}.values())
    for u in unique:
        session.execute(insert(Notification).values(user_id=u.id, case_id=case_id, kind=template, title=title[:300],
                                                    body=context.get("motivation") or "" if body is None else body,
                                                    dedupe_key=f"{key}:{u.id}")
                        .on_conflict_do_nothing(index_elements=["dedupe_key"]))
    mailed = [(u.full_name, u.email) for u in unique if wants_email(session, u)]
    for name, email in mailed + [(e, e) for e in extra_emails or []]:
        if email in seen:
            continue
        seen.add(email)
        emit(session, "email.send", {"template": template, "key": f"{key}:{email}",
                                     "context": _plain({**context, "to": email, "recipient_name": name})}, case_id=case_id)


def _case_context(case: Case, ctx: Context) -> dict[str, Any]:
    return {"diarienummer": case.diarienummer or f"ärende {case.id}", "case_title": case.title, "organisation_name": case.organisation.name,
            "case_url": f"{ctx.settings.public_base_url}/arenden/{case.id}"}


def deliver(ctx: Context, spec: EmailMessageSpec, key: str) -> None:
    """Send one rendered e-mail from a handler; SMTP down is retried later, a refused recipient is recorded and not retried."""
    try:
        ctx.mailer.send(spec, key)
    except EmailRejected as exc:
        raise GiveUp(f"rejected: {exc}") from exc
    except EmailDeliveryError as exc:
        raise RetryLater(str(exc)) from exc


def send_email(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """One e-mail, rendered from the event's template and context."""
    deliver(ctx, render_email(event.payload["template"], _revive(event.payload["context"])), event.payload["key"])


def list_for(session: Session, user: User, *, unread: bool = False, limit: int = LIST_LIMIT) -> list[Notification]:
    """The user's notifications, newest first (only the unread ones if asked)."""
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(session.scalars(stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def mark_read(session: Session, user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (another user's is not found)."""
    n = session.get(Notification, notification_id)
    if n is None or n.user_id != user.id:
        raise NotFound("Notisen finns inte / notification not found")
    n.read_at = n.read_at or utcnow()
    session.flush()
    return n


def mark_all_read(session: Session, user: User) -> None:
    """Mark every unread notification of the user read."""
    for n in session.scalars(select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))):
        n.read_at = utcnow()
    session.flush()


def unread_count(session: Session, user: User) -> int:
    """How many of the user's notifications are unread."""
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


HANDLERS: dict[str, Handler] = {"email.send": send_email}
