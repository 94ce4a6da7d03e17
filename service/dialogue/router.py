"""Dialogue meetings, suitability checklist and the de minimis computation."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from fastapi import APIRouter, Response
from sqlalchemy import select

from service.cases.access import get_visible_case
from service.cases.router import IfMatch, etag, parse_if_match
from service.deps import AppSettings, CurrentUser, DbSession
from service.dialogue import deminimis, service
from service.dialogue.checklist import ITEMS, missing_items
from service.dialogue.models import DialogueMeeting, SuitabilityAssessment
from service.dialogue.schemas import AssessmentIn, AssessmentOut, ChecklistItemOut, DeMinimisOut, MeetingIn, MeetingOut
from service.schemas import Id
from service.idempotency import IdempotencyKey

router = APIRouter(tags=["dialogue"])


@router.post("/cases/{case_id}/meetings", response_model=MeetingOut, status_code=201)
def add_meeting(case_id: Id, data: MeetingIn, session: DbSession, user: CurrentUser, idem: IdempotencyKey) -> object:
    """The officer records a dialogue meeting."""
    case = get_visible_case(session, user, case_id)
    return idem.run(session, user.id, data, MeetingOut, lambda: service.add_meeting(session, user, case, data))


@router.get("/cases/{case_id}/meetings", response_model=list[MeetingOut])
def list_meetings(case_id: Id, session: DbSession, user: CurrentUser) -> list[DialogueMeeting]:
    """Meetings of a case."""
    case = get_visible_case(session, user, case_id)
    return list(session.scalars(select(DialogueMeeting).where(DialogueMeeting.case_id == case.id).order_by(DialogueMeeting.held_on, DialogueMeeting.id)))


def _assessment_out(a: SuitabilityAssessment | None) -> AssessmentOut:
    items = a.items if a else {}
    missing = missing_items(items)
    return AssessmentOut(
        items=[ChecklistItemOut(key=i.key, question=i.question, mandatory=i.mandatory,
                                answer=(items.get(i.key) or {}).get("answer"), comment=(items.get(i.key) or {}).get("comment", ""))
               for i in ITEMS],
        state_aid_other_basis=a.state_aid_other_basis if a else None,
        complete=not missing,
        missing=missing,
        version=a.version if a else 0,
    )


@router.get("/cases/{case_id}/suitability", response_model=AssessmentOut)
def get_assessment(case_id: Id, session: DbSession, user: CurrentUser, response: Response) -> AssessmentOut:
    """The checklist with its answers, its version as ETag ("0" before the first save)."""
    case = get_visible_case(session, user, case_id)
    out = _assessment_out(session.scalar(select(SuitabilityAssessment).where(SuitabilityAssessment.case_id == case.id)))
    response.headers["ETag"] = etag(out.version)
    return out


@router.put("/cases/{case_id}/suitability", response_model=AssessmentOut)
def put_assessment(case_id: Id, data: AssessmentIn, session: DbSession, user: CurrentUser, response: Response,
                   if_match: IfMatch = None) -> AssessmentOut:
    """The officer answers the checklist (partial answers may be saved; If-Match from the ETag, 409 when stale)."""
    saved = service.save_assessment(session, user, get_visible_case(session, user, case_id), data, parse_if_match(if_match, required=False))
    out = _assessment_out(saved)
    response.headers["ETag"] = etag(out.version)
    return out


@router.get("/cases/{case_id}/de-minimis", response_model=DeMinimisOut)
def de_minimis(case_id: Id, session: DbSession, user: CurrentUser, settings: AppSettings) -> DeMinimisOut:
    """The organisation's support over a rolling three years, shown line by line."""
    case = get_visible_case(session, user, case_id)
    r = deminimis.compute(session, case, sek_per_eur=settings.sek_per_eur, ceiling_eur=settings.de_minimis_eur, today=date.today())
    return DeMinimisOut(window_start=r.window_start, window_end=r.window_end, sek_per_eur=r.sek_per_eur, ceiling_eur=r.ceiling_eur,
                        total_sek=r.total_sek, total_eur=r.total_eur, passes=r.passes, lines=[asdict(line) for line in r.lines])
