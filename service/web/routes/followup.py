"""Scheduling follow-up reports and assessing them."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError

from service.deps import AppSettings, DbSession
from service.errors import AppError
from service.cases.access import get_visible_case
from service.followup import indicators
from service.followup import service as followup
from service.followup.schemas import AssessmentIn as ReportAssessmentIn
from service.followup.schemas import ReportContent, ReportScheduleIn
from service.schemas import Id
from service.web import followupview
from service.web.deps import CsrfForm, WebUser, amount, attempt, optional, text, web_router
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


REPORT_FIELDS = ("activities_done", "participants_reached", "money_used_sek", "deviations")


@router.post("/arenden/{case_id}/uppfoljning/{report_id}/lamna")
def submit_report(case_id: Id, report_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession,
                  settings: AppSettings) -> Response:
    """The organisation submits (or completes) a follow-up report, with the achieved value of each indicator due in it."""
    case = get_visible_case(session, user, case_id)
    key = f"report-{report_id}"
    values: list[dict] = []
    fields: tuple[str, ...] = REPORT_FIELDS
    try:
        due = indicators.expected(session, followup.get_report(session, case, report_id))
        fields = (*REPORT_FIELDS, *(f"{p}-{ind.id}" for ind, _ in due for p in ("value", "comment")))
        values = followupview.report_values(form, due)
        content = ReportContent.model_validate({
            "activities_done": text(form, "activities_done"), "participants_reached": amount(form, "participants_reached"),
            "money_used_sek": amount(form, "money_used_sek"), "deviations": text(form, "deviations"), "indicator_values": values,
        })
        with attempt(session):
            followup.submit(session, user, case, report_id, content)
    except (ValidationError, AppError) as exc:
        if isinstance(exc, AppError):
            exc.errors = followupview.place_errors(exc.errors, values, "value")
        return refused(request, session, user, case, settings, key, form, exc, fields)
    return redirect(f"/arenden/{case.id}#uppfoljning", flash="rapport-inskickad")


@router.post("/arenden/{case_id}/uppfoljning/{report_id}/bedom")
def assess_report(case_id: Id, report_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession,
                  settings: AppSettings) -> Response:
    """Approve a follow-up report or ask for completion, rating each of its indicators (met / partly / not met)."""
    case = case_for_staff(session, user, case_id)
    ratings: list[dict] = []
    fields: tuple[str, ...] = ("assessment", "comment")
    try:
        report = followup.get_report(session, case, report_id)
        fields = ("assessment", "comment", *(f"{p}-{r.indicator_id}" for r in report.results for p in ("rating", "rating_comment")))
        ratings = followupview.ratings(form, report)
        data = ReportAssessmentIn.model_validate({"assessment": text(form, "assessment"), "comment": text(form, "comment"),
                                                  "indicators": ratings})
        with attempt(session):
            followup.assess(session, user, case, report_id, data)
    except (ValidationError, AppError) as exc:
        if isinstance(exc, AppError):
            exc.errors = followupview.place_errors(exc.errors, ratings, "rating")
        return refused(request, session, user, case, settings, f"assess-{report_id}", form, exc, fields)
    return redirect(f"/arenden/{case.id}#uppfoljning", flash="rapport-bedomd")
