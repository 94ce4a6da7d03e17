"""Scheduling follow-up reports and assessing them."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError

from service.deps import AppSettings, DbSession
from service.errors import AppError
from service.followup import service as followup
from service.followup.schemas import AssessmentIn as ReportAssessmentIn
from service.followup.schemas import ReportScheduleIn
from service.schemas import Id
from service.web.deps import CsrfForm, WebUser, attempt, optional, text, web_router
from service.web.rendering import redirect
from service.web.routes.cases import refused
from service.web.routes.staff import case_for_staff

router = web_router()


@router.post("/arenden/{case_id}/uppfoljning/planera")
def schedule_report(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Schedule a follow-up report for the organisation."""
    case = case_for_staff(session, user, case_id)
    fields = ("period_start", "period_end", "due_on", "is_final")
    try:
        data = ReportScheduleIn.model_validate({"period_start": optional(form, "period_start"), "period_end": optional(form, "period_end"),
                                                         "due_on": optional(form, "due_on"), "is_final": text(form, "is_final") == "ja"})
        with attempt(session):
            followup.schedule(session, user, case, data)
    except (ValidationError, AppError) as exc:
        return refused(request, session, user, case, settings, "schedule", form, exc, fields)
    return redirect(f"/arenden/{case.id}#uppfoljning", flash="rapport-planerad")


@router.post("/arenden/{case_id}/uppfoljning/{report_id}/bedom")
def assess_report(case_id: Id, report_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession,
                  settings: AppSettings) -> Response:
    """Approve a follow-up report or ask for completion."""
    case = case_for_staff(session, user, case_id)
    try:
        data = ReportAssessmentIn.model_validate({"assessment": text(form, "assessment"), "comment": text(form, "comment")})
        with attempt(session):
            followup.assess(session, user, case, report_id, data)
    except (ValidationError, AppError) as exc:
        return refused(request, session, user, case, settings, f"assess-{report_id}", form, exc, ("assessment", "comment"))
    return redirect(f"/arenden/{case.id}#uppfoljning", flash="rapport-bedomd")
