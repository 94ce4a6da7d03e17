"""What follows a follow-up report, after commit: the case's officer is told a submitted report waits for assessment."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.auth.models import User
from service.cases.models import Case
from service.followup.models import FollowUpReport
from service.notifications.service import _case_context, notify
from service.outbox.models import OutboxEvent
from service.outbox.service import Context, Handler


def report_submitted(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Tell the case's officer which report was submitted, for which period (once per submission)."""
    report = session.get(FollowUpReport, event.payload["report_id"])
    case = session.get(Case, report.case_id)
    officer = session.get(User, case.officer_id) if case.officer_id else None
    if officer is None or not officer.is_active:
        return  # no officer yet: the report's deadline view shows it to the department
    author = session.get(User, event.payload["user_id"])
    kind = "Slutrapport" if report.is_final else "Uppföljningsrapport"
    period = f"{report.period_start.isoformat()}–{report.period_end.isoformat()}"
    notify(session, [officer], key=f"followup-submitted:{event.id}", template="followup_submitted", case_id=case.id,
           title=f"{kind} inlämnad ({period}): {case.diarienummer} {case.title}", body=f"Inlämnad av {author.full_name}",
           context={**_case_context(case, ctx), "submitted_by": author.full_name, "report_kind": kind,
                    "period_start": report.period_start, "period_end": report.period_end,
                    "case_url": f"{ctx.settings.public_base_url}/arenden/{case.id}#uppfoljning"})


HANDLERS: dict[str, Handler] = {"followup.submitted": report_submitted}
