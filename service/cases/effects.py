"""What follows a case change, after commit: an officer's request for completion reaches the organisation, and the
organisation's completion reaches the case's officer and whoever prepared the case for the decision that asked for it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import Role, User
from service.cases import completion
from service.cases.models import Case, CompletionRequest
from service.notifications.service import _case_context, notify
from service.outbox.models import OutboxEvent
from service.outbox.service import Context, Handler


def _members(session: Session, case: Case) -> list[User]:
    return list(session.scalars(select(User).where(User.organisation_id == case.organisation_id, User.role == Role.ORG_MEMBER,
                                                   User.is_active.is_(True)).order_by(User.id)))


def completion_requested(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Tell the organisation's members what the officer asks them to complete (once per request)."""
    ask = session.get(CompletionRequest, event.payload["completion_request_id"])
    case = session.get(Case, ask.case_id)
    officer = session.get(User, ask.requested_by_id)
    notify(session, _members(session, case), key=f"completion-requested:{ask.id}", template="completion_requested", case_id=case.id,
           title=f"Komplettering begärd: {case.diarienummer} {case.title}", body=f"{officer.full_name}: {ask.message}",
           context={**_case_context(case, ctx), "requested_by": officer.full_name, "message": ask.message})


def changes_submitted(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Tell the case's officer and the one who acts on the completion (the officer who asked, or the review's requester)."""
    case = session.get(Case, event.payload["case_id"])
    author = session.get(User, event.payload["user_id"])
    ask = completion.latest(session, case)
    asker_id = (ask.prepared_by_id if ask.review_id else ask.by_id) if ask else None
    users = [session.get(User, i) for i in (case.officer_id, asker_id) if i]
    notify(session, [u for u in users if u is not None and u.is_active], key=f"changes-submitted:{event.id}",
           template="changes_submitted", case_id=case.id,
           title=f"Komplettering inskickad: {case.diarienummer} {case.title}", body=f"Inskickad av {author.full_name}",
           context={**_case_context(case, ctx), "submitted_by": author.full_name})


HANDLERS: dict[str, Handler] = {"case.completion_requested": completion_requested, "case.changes_submitted": changes_submitted}
