"""Follow-up use cases: schedule, submit, assess (shared by the API and the web pages)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement

from service.audit.service import digest, record, text_summary
from service.auth.models import Role, User
from service.cases.access import ensure_case_officer, ensure_stage
from service.cases.models import Case
from service.cases.stages import Stage
from service.config import get_settings
from service.db import utcnow
from service.deadlines import rules as deadlines
from service.deadlines.models import DeadlineStatus
from service.diarium import service as diarium
from service.errors import Conflict, Forbidden, NotFound, ValidationFailed
from service.followup import indicators
from service.followup.models import Assessment, FollowUpReport
from service.followup.schemas import AssessmentIn, ReportContent, ReportScheduleIn
from service.outbox.service import emit
from service.schemas import MAX_ID


def get_report(session: Session, case: Case, report_id: int) -> FollowUpReport:
    """A report of the case, or 404."""
    # Beyond the column range no report exists (and the driver would fail).
    report = session.get(FollowUpReport, report_id) if 0 < report_id <= MAX_ID else None
    if report is None or report.case_id != case.id:
        raise NotFound("Rapporten finns inte / report not found")
    return report


def schedule(session: Session, user: User, case: Case, data: ReportScheduleIn) -> FollowUpReport:
    """The case officer schedules a report (the agreement's schedule creates them automatically later)."""
    ensure_case_officer(user, case)
    ensure_stage(case, Stage.AGREEMENT, Stage.FOLLOW_UP)
    agreement = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    if agreement is not None and agreement.period_start and agreement.period_end and not (
            agreement.period_start <= data.period_start and data.period_end <= agreement.period_end):
        raise ValidationFailed(errors=[{"field": "period_start", "message": f"Rapportperioden måste ligga inom avtalsperioden "
                                        f"{agreement.period_start} – {agreement.period_end} / within the agreement period"}])
    report = FollowUpReport(case_id=case.id, **data.model_dump())
    session.add(report)
    session.flush()
    record(session, actor=user, action="followup.scheduled", case_id=case.id, after={"report_id": report.id, **data.model_dump(mode="json")})
    return report


def ensure_within_agreement(session: Session, report: FollowUpReport) -> None:
    """A report speaks of a period of the agreement (409 for one outside it: nothing is reported against it)."""
    agreement = session.scalar(select(Agreement).where(Agreement.case_id == report.case_id))
    if agreement is None or agreement.period_start is None or agreement.period_end is None:
        return  # a case followed up without structured terms (older cases) has no period to hold the report to
    if not (agreement.period_start <= report.period_start and report.period_end <= agreement.period_end):
        raise Conflict(f"Rapportperioden {report.period_start} – {report.period_end} ligger utanför avtalsperioden "
                       f"{agreement.period_start} – {agreement.period_end} / report period outside the agreement",
                       errors=[{"field": "period", "message": "Rapportperioden ligger utanför avtalsperioden"}])


def local_today() -> date:
    """The municipality's date now (the tests' data is written for 2027–2028 and sets this forward)."""
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def ensure_period_started(report: FollowUpReport, today: date | None = None) -> None:
    """A report speaks of a period that has begun: before it starts there is nothing to report, submit or approve."""
    today = today or local_today()
    if today < report.period_start:
        raise Conflict(f"Rapportperioden börjar {report.period_start}; rapporten kan lämnas först då "
                       f"/ the report's period starts {report.period_start}", period_start=report.period_start.isoformat())


def submit(session: Session, user: User, case: Case, report_id: int, data: ReportContent, today: date | None = None) -> FollowUpReport:
    """The organisation submits (or completes) a report."""
    if user.role != Role.ORG_MEMBER:
        raise Forbidden("Endast organisationen lämnar rapporten / only the organisation submits reports")
    ensure_stage(case, Stage.FOLLOW_UP)
    report = get_report(session, case, report_id)
    if report.assessment == Assessment.APPROVED:
        raise Conflict("Rapporten är redan godkänd / report already approved")
    if report.submitted_at is not None and report.assessment is None:
        # What the officer is assessing stays as it was sent; a change comes when the officer asks for completion.
        raise Conflict("Rapporten är inlämnad och väntar på bedömning; den kan ändras först om handläggaren begär komplettering "
                       "/ report submitted and awaiting assessment", submitted_at=report.submitted_at.isoformat())
    ensure_period_started(report, today)
    ensure_within_agreement(session, report)
    rows = indicators.check_values(session, report, data.indicator_values)  # everything checked before anything is written
    indicators.store_values(session, report, rows)
    completed = report.submitted_at is not None  # sent again after the officer asked for completion
    report.content = data.model_dump(mode="json", exclude={"indicator_values"})
    report.submitted_at = utcnow()
    report.submitted_by_id = user.id
    report.assessment = None
    deadlines.close(session, case.id, DeadlineStatus.MET, followup_report_id=report.id)
    session.flush()
    diarium.register_followup_report(session, case, report, completed=completed)
    # Figures as they are; the organisation's own words (which may name people) by field name and digest only.
    record(session, actor=user, action="followup.submitted", case_id=case.id,
           after={"report_id": report.id, "participants_reached": data.participants_reached, "money_used_sek": data.money_used_sek,
                  "indicator_values": {str(r.indicator_id): r.value for r in rows},
                  **text_summary(activities_done=data.activities_done, deviations=data.deviations)})
    emit(session, "followup.submitted", {"report_id": report.id, "user_id": user.id}, case_id=case.id)  # the officer assesses it
    return report


def assess(session: Session, user: User, case: Case, report_id: int, data: AssessmentIn) -> FollowUpReport:
    """The case officer approves a report or asks for completion."""
    ensure_case_officer(user, case)
    ensure_stage(case, Stage.FOLLOW_UP)
    report = get_report(session, case, report_id)
    if report.submitted_at is None:
        raise Conflict("Rapporten är inte inlämnad / report not submitted")
    if data.assessment == Assessment.APPROVED:
        ensure_period_started(report)
    if data.assessment == Assessment.NEEDS_COMPLETION and not data.comment.strip():
        raise ValidationFailed(errors=[{"field": "comment", "message": "Beskriv vad som ska kompletteras / say what to complete"}])
    indicators.rate(session, report, data.assessment, data.indicators)
    report.assessment = data.assessment
    report.assessment_comment = data.comment
    report.assessed_by_id = user.id
    report.assessed_at = utcnow()
    session.flush()
    diarium.register_followup_assessment(session, case, report, data.assessment)
    record(session, actor=user, action=f"followup.{data.assessment}", case_id=case.id,
           after={"report_id": report.id, "comment_sha256": digest(data.comment),
                  "indicator_ratings": {str(r.indicator_id): r.rating for r in data.indicators}})
    return report
