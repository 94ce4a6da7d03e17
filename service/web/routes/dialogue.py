"""The dialogue stage: meetings and the IOP suitability checklist."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.cases.access import get_visible_case
from service.cases.models import Case
from service.config import Settings
from service.deps import AppSettings, DbSession
from service.dialogue import service as dialogue
from service.dialogue.checklist import ITEMS
from service.dialogue.schemas import AssessmentIn, MeetingIn
from service.errors import AppError, StaleVersion, ValidationFailed
from service.schemas import Id
from service.web import casepage
from service.web.deps import CsrfForm, WebUser, attempt, optional, text, web_router
from service.web.forms import FormState, expected_version
from service.web.rendering import redirect, render
from service.web.routes.staff import case_for_staff

router = web_router()




def _checklist_values(assessment: Any) -> dict[str, Any]:  # noqa: ANN401 - a SuitabilityAssessment or None
    values: dict[str, Any] = {"state_aid_other_basis": (assessment.state_aid_other_basis or "") if assessment else "",
                              "version": str(assessment.version if assessment else 0)}
    for item in ITEMS:
        entry = (assessment.items if assessment else {}).get(item.key) or {}
        values[f"answer-{item.key}"] = entry.get("answer", "")
        values[f"comment-{item.key}"] = entry.get("comment", "")
    return values


def _dialogue_page(request: Request, session: Session, user: User, case: Case, settings: Settings,
                   forms: dict[str, FormState] | None = None, status_code: int = 200) -> Response:
    from datetime import date

    from service.dialogue import deminimis

    view = casepage.load(session, user, case, settings, forms)
    assessment = view.assessment
    if "checklist" not in view.forms:
        view.forms["checklist"] = FormState(values=_checklist_values(assessment), prefix="checklist")
    dm = deminimis.compute(session, case, sek_per_eur=settings.sek_per_eur, ceiling_eur=settings.de_minimis_eur, today=date.today())
    return render(request, "officer/dialogue.html", {"title": f"Dialog: {case.title}", "v": view, "c": case, "items": ITEMS, "dm": dm},
                  status_code=status_code)


@router.get("/arenden/{case_id}/dialog")
def dialogue_page(case_id: Id, request: Request, user: WebUser, session: DbSession, settings: AppSettings) -> Response:
    """Dialogue meetings and the IOP suitability checklist."""
    return _dialogue_page(request, session, user, case_for_staff(session, user, case_id), settings)


def _participants(raw: str) -> list[dict[str, str]]:
    """One person per line: 'Namn, organisation, roll' (semicolons also accepted)."""
    out = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in (line.split(";") if ";" in line else line.split(","))]
        out.append({"name": parts[0], "organisation": parts[1] if len(parts) > 1 else "", "role": ", ".join(parts[2:])})
    return out


MEETING_FIELDS = ("held_on", "place", "participants", "notes", "next_steps")


@router.post("/arenden/{case_id}/dialog/mote")
def add_meeting(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Record a dialogue meeting."""
    case = case_for_staff(session, user, case_id)
    state = FormState.from_form(form, prefix="meeting")
    try:
        data = MeetingIn.model_validate({"held_on": optional(form, "held_on"), "place": text(form, "place"),
                                         "participants": _participants(text(form, "participants")),
                                         "notes": text(form, "notes"), "next_steps": text(form, "next_steps")})
        with attempt(session):
            dialogue.add_meeting(session, user, case, data)
    except ValidationError as exc:
        state.add_validation(exc, fields=MEETING_FIELDS, aliases={f"participants-{i}-name": "participants" for i in range(100)},
                             default_field="participants")
    except AppError as exc:
        state.add_app_error(exc, fields=MEETING_FIELDS)
    if state.has_errors:
        session.expire_all()
        return _dialogue_page(request, session, user, get_visible_case(session, user, case_id), settings, {"meeting": state}, state.status)
    return redirect(f"/arenden/{case.id}/dialog", flash="mote-sparat")


@router.post("/arenden/{case_id}/dialog/lamplighet")
def save_checklist(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Save the suitability checklist (partial answers allowed; the gate wants every mandatory item 'ja')."""
    case = case_for_staff(session, user, case_id)
    state = FormState.from_form(form, prefix="checklist")
    fields = [f"answer-{i.key}" for i in ITEMS] + [f"comment-{i.key}" for i in ITEMS] + ["state_aid_other_basis"]
    try:
        # A comment without an answer would be dropped (only answered items are stored): say so instead.
        orphans = [{"field": f"comment-{i.key}", "message": "Svara på frågan för att kommentaren ska sparas / answer the question to keep the comment"}
                   for i in ITEMS if text(form, f"comment-{i.key}") and not text(form, f"answer-{i.key}")]
        if orphans:
            raise ValidationFailed(errors=orphans)
        items = {i.key: {"answer": text(form, f"answer-{i.key}"), "comment": text(form, f"comment-{i.key}")}
                 for i in ITEMS if text(form, f"answer-{i.key}")}
        data = AssessmentIn.model_validate({"items": items, "state_aid_other_basis": optional(form, "state_aid_other_basis")})
        with attempt(session):
            dialogue.save_assessment(session, user, case, data, expected_version(form))
    except StaleVersion as exc:
        from service.dialogue.models import SuitabilityAssessment

        stored = session.scalar(select(SuitabilityAssessment).where(SuitabilityAssessment.case_id == case.id)
                                .execution_options(populate_existing=True))
        state.conflict(_checklist_values(stored), int(exc.extra.get("current_version") or 0))
    except ValidationError as exc:
        aliases = {f"items-{i.key}-answer": f"answer-{i.key}" for i in ITEMS} | {f"items-{i.key}-comment": f"comment-{i.key}" for i in ITEMS}
        state.add_validation(exc, fields=fields, aliases=aliases, default_field="state_aid_other_basis")
    except AppError as exc:
        state.add_app_error(exc, fields=fields)
    if state.has_errors:
        session.expire_all()
        return _dialogue_page(request, session, user, get_visible_case(session, user, case_id), settings, {"checklist": state}, state.status)
    return redirect(f"/arenden/{case.id}/dialog#lamplighet", flash="lamplighet-sparad")
