"""Follow-up reports: scheduled, submitted by the organisation, assessed by the officer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select, update

from service.audit.service import record
from service.auth.models import Role
from service.cases.access import ensure_case_officer, ensure_stage, get_visible_case
from service.cases.stages import Stage
from service.db import utcnow
from service.deadlines import service as deadlines
from service.deadlines.models import DeadlineStatus
from service.deps import CurrentUser, DbSession
from service.errors import Conflict, Forbidden, NotFound, ValidationFailed
from service.followup.models import Assessment, FollowUpReport
from service.schemas import MAX_ID, Id, LongText, NoControlChars, ORMModel, Sek

router = APIRouter(tags=["follow-up"])


class ReportScheduleIn(BaseModel):
    """A report the organisation is to submit."""

    period_start: date
    period_end: date
    due_on: date
    is_final: bool = False

    @model_validator(mode="after")
    def _order(self) -> "ReportScheduleIn":
        if self.period_end < self.period_start:
            raise ValueError("period_end måste vara efter period_start / period_end before period_start")
        return self


class ReportContent(BaseModel):
    """What the organisation reports."""

    activities_done: Annotated[str, Field(min_length=1, max_length=20_000), NoControlChars]
    participants_reached: Annotated[int, Field(ge=0, le=10_000_000)]
    money_used_sek: Sek
    deviations: LongText = ""


class AssessmentIn(BaseModel):
    """The officer's assessment."""

    assessment: Assessment
    comment: LongText = ""


class ReportOut(ORMModel):
    """A follow-up report."""

    id: int
    case_id: int
    period_start: date
    period_end: date
    due_on: date
    is_final: bool
    content: dict | None
    submitted_at: datetime | None
    assessment: Assessment | None
    assessment_comment: str | None
    assessed_at: datetime | None


def _report(session: DbSession, case_id: int, report_id: int) -> FollowUpReport:
    # The web pages call this with unbounded ids: beyond the column range no report exists (and the driver would fail).
    report = session.get(FollowUpReport, report_id) if 0 < report_id <= MAX_ID else None
    if report is None or report.case_id != case_id:
        raise NotFound("Rapporten finns inte / report not found")
    return report


@router.post("/cases/{case_id}/followup-reports", response_model=ReportOut, status_code=201)
def schedule_report(case_id: Id, data: ReportScheduleIn, session: DbSession, user: CurrentUser) -> FollowUpReport:
    """The officer schedules a report (the agreement's schedule creates them automatically later)."""
    case = get_visible_case(session, user, case_id)
    ensure_case_officer(user, case)
    ensure_stage(case, Stage.AGREEMENT, Stage.FOLLOW_UP)
    report = FollowUpReport(case_id=case.id, **data.model_dump())
    session.add(report)
    session.flush()
    record(session, actor=user, action="followup.scheduled", case_id=case.id, after={"report_id": report.id, **data.model_dump(mode="json")})
    return report


@router.get("/cases/{case_id}/followup-reports", response_model=list[ReportOut])
def list_reports(case_id: Id, session: DbSession, user: CurrentUser) -> list[FollowUpReport]:
    """Reports of a case by due date."""
    case = get_visible_case(session, user, case_id)
    return list(session.scalars(select(FollowUpReport).where(FollowUpReport.case_id == case.id).order_by(FollowUpReport.due_on, FollowUpReport.id)))


@router.post("/cases/{case_id}/followup-reports/{report_id}/submit", response_model=ReportOut)
def submit_report(case_id: Id, report_id: Id, data: ReportContent, session: DbSession, user: CurrentUser) -> FollowUpReport:
    """The organisation submits (or completes) a report."""
    case = get_visible_case(session, user, case_id)
    if user.role != Role.ORG_MEMBER:
        raise Forbidden("Endast organisationen lämnar rapporten / only the organisation submits reports")
    ensure_stage(case, Stage.FOLLOW_UP)
    report = _report(session, case.id, report_id)
    if report.assessment == Assessment.APPROVED:
        raise Conflict("Rapporten är redan godkänd / report already approved")
    report.content = data.model_dump(mode="json")
    report.submitted_at = utcnow()
    report.submitted_by_id = user.id
    report.assessment = None
    deadlines.close(session, case.id, DeadlineStatus.MET, followup_report_id=report.id)
    session.flush()
    record(session, actor=user, action="followup.submitted", case_id=case.id, after={"report_id": report.id, **report.content})
    return report


@router.post("/cases/{case_id}/followup-reports/{report_id}/assessment", response_model=ReportOut)
def assess_report(case_id: Id, report_id: Id, data: AssessmentIn, session: DbSession, user: CurrentUser) -> FollowUpReport:
    """The officer approves a report or asks for completion."""
    case = get_visible_case(session, user, case_id)
    ensure_case_officer(user, case)
    ensure_stage(case, Stage.FOLLOW_UP)
    report = _report(session, case.id, report_id)
    if report.submitted_at is None:
        raise Conflict("Rapporten är inte inlämnad / report not submitted")
    if data.assessment == Assessment.NEEDS_COMPLETION and not data.comment.strip():
        raise ValidationFailed(errors=[{"field": "comment", "message": "Beskriv vad som ska kompletteras / say what to complete"}])
    report.assessment = data.assessment
    report.assessment_comment = data.comment
    report.assessed_by_id = user.id
    report.assessed_at = utcnow()
    session.flush()
    record(session, actor=user, action=f"followup.{data.assessment}", case_id=case.id, after={"report_id": report.id, "comment": data.comment})
    return report


__all__ = ["router", "update"]
