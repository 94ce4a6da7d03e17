"""Follow-up use cases: schedule, submit, assess (shared by the API and the web pages)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.audit.service import digest, record, text_summary
from service.auth.models import Role, User
from service.cases.access import ensure_case_officer, ensure_stage
from service.cases.models import Case
from service.cases.stages import Stage
from service.db import utcnow
from service.deadlines import rules as deadlines
from service.deadlines.models import DeadlineStatus
from service.errors import Conflict, Forbidden, NotFound, ValidationFailed
from service.followup.models import Assessment, FollowUpReport
from service.followup.schemas import AssessmentIn, ReportContent, ReportScheduleIn
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
    report = FollowUpReport(case_id=case.id, **data.model_dump())
    session.add(report)
    session.flush()
    record(session, actor=user, action="followup.scheduled", case_id=case.id, after={"report_id": report.id, **data.model_dump(mode="json")})
    return report


def submit(session: Session, user: User, case: Case, report_id: int, data: ReportContent) -> FollowUpReport:
    """The organisation submits (or completes) a report."""
    if user.role != Role.ORG_MEMBER:
        raise Forbidden("Endast organisationen lämnar rapporten / only the organisation submits reports")
    ensure_stage(case, Stage.FOLLOW_UP)
    report = get_report(session, case, report_id)
    if report.assessment == Assessment.APPROVED:
        raise Conflict("Rapporten är redan godkänd / report already approved")
    report.content = data.model_dump(mode="json")
    report.submitted_at = utcnow()
    report.submitted_by_id = user.id
    report.assessment = None
    deadlines.close(session, case.id, DeadlineStatus.MET, followup_report_id=report.id)
    session.flush()
    # Figures as they are; the organisation's own words (which may name people) by field name and digest only.
    record(session, actor=user, action="followup.submitted", case_id=case.id,
           after={"report_id": report.id, "participants_reached": data.participants_reached, "money_used_sek": data.money_used_sek,
                  **text_summary(activities_done=data.activities_done, deviations=data.deviations)})
    return report


def assess(session: Session, user: User, case: Case, report_id: int, data: AssessmentIn) -> FollowUpReport:
    """The case officer approves a report or asks for completion."""
    ensure_case_officer(user, case)
    ensure_stage(case, Stage.FOLLOW_UP)
    report = get_report(session, case, report_id)
    if report.submitted_at is None:
        raise Conflict("Rapporten är inte inlämnad / report not submitted")
    if data.assessment == Assessment.NEEDS_COMPLETION and not data.comment.strip():
        raise ValidationFailed(errors=[{"field": "comment", "message": "Beskriv vad som ska kompletteras / say what to complete"}])
    report.assessment = data.assessment
    report.assessment_comment = data.comment
    report.assessed_by_id = user.id
    report.assessed_at = utcnow()
    session.flush()
    record(session, actor=user, action=f"followup.{data.assessment}", case_id=case.id,
           after={"report_id": report.id, "comment_sha256": digest(data.comment)})
    return report
