"""Follow-up reports: scheduled, submitted by the organisation, assessed by the officer."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from sqlalchemy import select

from service.cases.access import get_visible_case
from service.deps import CurrentUser, DbSession
from service.followup import indicators, service
from service.followup.models import FollowUpReport
from service.followup.schemas import AssessmentIn, IndicatorsOut, ReportContent, ReportOut, ReportScheduleIn
from service.schemas import Id
from service.idempotency import IdempotencyKey

router = APIRouter(tags=["follow-up"])


@router.post("/cases/{case_id}/followup-reports", response_model=ReportOut, status_code=201)
def schedule_report(case_id: Id, data: ReportScheduleIn, session: DbSession, user: CurrentUser, idem: IdempotencyKey) -> object:
    """The officer schedules a report (the agreement's schedule creates them automatically later)."""
    case = get_visible_case(session, user, case_id)
    return idem.run(session, user.id, data, ReportOut, lambda: service.schedule(session, user, case, data))


@router.get("/cases/{case_id}/followup-reports", response_model=list[ReportOut])
def list_reports(case_id: Id, session: DbSession, user: CurrentUser) -> list[FollowUpReport]:
    """Reports of a case by due date."""
    case = get_visible_case(session, user, case_id)
    return list(session.scalars(select(FollowUpReport).where(FollowUpReport.case_id == case.id).order_by(FollowUpReport.due_on, FollowUpReport.id)))


@router.get("/cases/{case_id}/indicators", response_model=IndicatorsOut)
def case_indicators(case_id: Id, session: DbSession, user: CurrentUser) -> IndicatorsOut:
    """Each indicator of the agreement, target vs achieved per report, and money used vs planned instalments."""
    case = get_visible_case(session, user, case_id)
    return IndicatorsOut.model_validate({"indicators": [asdict(s) for s in indicators.series(session, case.id)],
                                         "money": [asdict(m) for m in indicators.money(session, case.id)]})


@router.post("/cases/{case_id}/followup-reports/{report_id}/submit", response_model=ReportOut)
def submit_report(case_id: Id, report_id: Id, data: ReportContent, session: DbSession, user: CurrentUser) -> FollowUpReport:
    """The organisation submits (or completes) a report."""
    return service.submit(session, user, get_visible_case(session, user, case_id), report_id, data)


@router.post("/cases/{case_id}/followup-reports/{report_id}/assessment", response_model=ReportOut)
def assess_report(case_id: Id, report_id: Id, data: AssessmentIn, session: DbSession, user: CurrentUser) -> FollowUpReport:
    """The officer approves a report or asks for completion."""
    return service.assess(session, user, get_visible_case(session, user, case_id), report_id, data)


__all__ = ["AssessmentIn", "ReportContent", "ReportOut", "ReportScheduleIn", "router"]
