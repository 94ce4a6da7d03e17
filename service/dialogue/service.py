"""Dialogue use cases: record a meeting, answer the suitability checklist (shared by the API and the web pages)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.service import ensure_fresh
from service.audit.service import record, text_summary
from service.auth.models import User
from service.cases.access import ensure_case_officer, ensure_stage
from service.cases.models import Case
from service.cases.stages import Stage
from service.dialogue.checklist import BY_KEY
from service.dialogue.models import DialogueMeeting, SuitabilityAssessment
from service.dialogue.schemas import AssessmentIn, MeetingIn
from service.errors import ValidationFailed


def add_meeting(session: Session, user: User, case: Case, data: MeetingIn) -> DialogueMeeting:
    """The case officer records a dialogue meeting."""
    ensure_case_officer(user, case)
    ensure_stage(case, Stage.IDENTIFY_NEED, Stage.DIALOGUE, Stage.AGREEMENT)
    meeting = DialogueMeeting(case_id=case.id, created_by_id=user.id, **data.model_dump(mode="json"))
    meeting.held_on = data.held_on
    session.add(meeting)
    session.flush()
    # Participants are people and the notes quote them: the chain gets the date, a head count and a digest,
    # so an erased contact leaves no trace in it (the meeting row is redacted instead).
    record(session, actor=user, action="dialogue.meeting_recorded", case_id=case.id,
           after={"meeting_id": meeting.id, "held_on": data.held_on, "participants": len(data.participants),
                  **text_summary(place=data.place, notes=data.notes, next_steps=data.next_steps)})
    return meeting


def _assessment_audit(items: dict[str, Any] | None, other_basis: str | None) -> dict[str, Any] | None:
    """Answers as they are; comments and the stated legal basis as field names and a digest."""
    if items is None:
        return None
    comments = {f"{k}.comment": (v or {}).get("comment") for k, v in items.items()}
    return {"answers": {k: (v or {}).get("answer") for k, v in items.items()},
            **text_summary(**comments, state_aid_other_basis=other_basis)}


def save_assessment(session: Session, user: User, case: Case, data: AssessmentIn, expected_version: int | None = None) -> SuitabilityAssessment:
    """The case officer answers the checklist (partial answers may be saved; unknown items are refused)."""
    ensure_case_officer(user, case)
    ensure_stage(case, Stage.IDENTIFY_NEED, Stage.DIALOGUE)
    unknown = sorted(set(data.items) - set(BY_KEY))
    if unknown:
        raise ValidationFailed(errors=[{"field": f"items.{k}", "message": "okänd punkt / unknown checklist item"} for k in unknown])
    a = session.scalar(select(SuitabilityAssessment).where(SuitabilityAssessment.case_id == case.id))
    ensure_fresh(a.version if a else None, expected_version, "Lämplighetsbedömningen / the suitability checklist")
    before = _assessment_audit(dict(a.items), a.state_aid_other_basis) if a else None
    if a is None:
        a = SuitabilityAssessment(case_id=case.id)
        session.add(a)
    a.items = {k: v.model_dump(mode="json") for k, v in data.items.items()}
    a.state_aid_other_basis = data.state_aid_other_basis
    a.assessed_by_id = user.id
    session.flush()
    record(session, actor=user, action="dialogue.suitability_assessed", case_id=case.id, before=before,
           after=_assessment_audit(a.items, a.state_aid_other_basis))
    return a
