"""Case use cases: create, edit, submit, withdraw, assign, terminate, ask for completion."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.agreements import amounts
from service.audit.service import digest, record, text_summary
from service.auth.models import Role, User
from service.cases.diarie import next_diarienummer
from service.cases.models import Case, CompletionRequest, StageChange
from service.cases.schemas import CaseCreate, CasePatch
from service.cases.stages import TERMINAL, Action, Stage, ensure_transition
from service.config import Settings, get_settings
from service.db import utcnow
from service.deadlines import rules as deadlines
from service.deadlines.models import DeadlineKind, DeadlineStatus
from service.departments.models import Department
from service.diarium import service as diarium
from service.errors import Conflict, Forbidden, GateFailed, StaleVersion, ValidationFailed
from service.outbox.service import emit
from service.reviews.models import Review, ReviewStatus
from service.schemas import MAX_ID

CONTENT_FIELDS = (
    "title", "need", "target_group", "planned_activities", "own_contribution_sek", "own_contribution_in_kind",
    "volunteer_hours", "requested_amount_sek", "period_start", "period_end",
)
# Free text written by the organisation: audited by name and digest only (see audit.service.text_summary).
TEXT_FIELDS = ("title", "need", "target_group", "planned_activities", "own_contribution_in_kind")
# Stages in which the officer refines the case content together with the organisation.
OFFICER_EDIT_STAGES = frozenset({Stage.IDENTIFY_NEED, Stage.DIALOGUE, Stage.AGREEMENT})


def audited(values: dict[str, Any]) -> dict[str, Any]:
    """Case values as the audit chain may keep them: structured values as they are, free text as names and a digest."""
    out = {k: v for k, v in values.items() if k not in TEXT_FIELDS}
    texts = {k: v for k, v in values.items() if k in TEXT_FIELDS}
    return {**out, **text_summary(**texts)} if texts else out


def snapshot(case: Case) -> dict[str, Any]:
    """The audited view of a case (no free text: the chain cannot be erased)."""
    return audited({
        "stage": case.stage,
        "diarienummer": case.diarienummer,
        "officer_id": case.officer_id,
        "open_for_changes": case.open_for_changes,
        **{f: getattr(case, f) for f in CONTENT_FIELDS},
    })


def check_version(case: Case, expected: int | None) -> None:
    """409 when the client's If-Match version is stale."""
    if expected is not None and expected != case.version:
        raise StaleVersion(
            f"Ärendet har version {case.version}, du skickade {expected} / case is at version {case.version}",
            current_version=case.version,
        )


def has_pending_review(session: Session, case_id: int) -> bool:
    """True while a review waits for a decision."""
    return session.scalar(select(Review.id).where(Review.case_id == case_id, Review.status == ReviewStatus.PENDING)) is not None


def move(session: Session, case: Case, target: Stage, *, actor: User | None, action: Action,
         review_id: int | None = None, reason: str | None = None) -> None:
    """Change stage through the guard and keep the stage history."""
    ensure_transition(case.stage, target, action)
    before = case.stage
    now = utcnow()
    case.stage = target
    case.stage_entered_at = now
    case.open_for_changes = False
    session.add(StageChange(case_id=case.id, from_stage=before, to_stage=target, actor_id=actor.id if actor else None,
                            review_id=review_id, reason=reason, at=now))
    deadlines.on_stage_entered(session, case, before, target, get_settings())
    if target in TERMINAL:
        # A case that leaves the process has nothing left to decide.
        session.execute(
            update(Review).where(Review.case_id == case.id, Review.status == ReviewStatus.PENDING)
            .values(status=ReviewStatus.CANCELLED, decided_at=now)
        )


def create(session: Session, user: User, data: CaseCreate) -> Case:
    """An organisation member starts a draft."""
    if user.role != Role.ORG_MEMBER or user.organisation_id is None:
        raise Forbidden("Endast medlemmar i en registrerad organisation kan skapa ärenden / only organisation members create cases")
    if session.get(Department, data.department_id) is None:
        raise ValidationFailed(errors=[{"field": "department_id", "message": "Okänd förvaltning / unknown department"}])
    case = Case(organisation_id=user.organisation_id, created_by_id=user.id, stage=Stage.DRAFT, **data.model_dump())
    session.add(case)
    session.flush()
    record(session, actor=user, action="case.created", case_id=case.id, after=snapshot(case))
    return case


def ensure_editable(session: Session, user: User, case: Case) -> None:
    """Whether this user may edit the case's content now (API PATCH, the web's form and its save): 403 or 409 saying why not."""
    if user.role not in (Role.ORG_MEMBER, Role.OFFICER):
        raise Forbidden()
    if case.stage in TERMINAL:
        raise Conflict("Ärendet är avslutat och kan inte ändras / case is closed", current_stage=case.stage)
    if has_pending_review(session, case.id):
        raise Conflict("Ärendet granskas och är låst tills beslut fattats / case is locked while under review")
    if user.role == Role.ORG_MEMBER:
        if not (case.stage == Stage.DRAFT or case.open_for_changes):
            raise Conflict("Organisationen kan bara ändra utkast eller när komplettering begärts / "
                           "only drafts or cases reopened for changes can be edited", current_stage=case.stage)
    elif case.stage not in OFFICER_EDIT_STAGES:
        raise Conflict("Ärendet kan inte ändras i detta skede / not editable in this stage", current_stage=case.stage)


def update_content(session: Session, user: User, case: Case, data: CasePatch, expected_version: int) -> Case:
    """Edit case content under the optimistic lock."""
    check_version(case, expected_version)
    ensure_editable(session, user, case)
    changes = data.model_dump(exclude_unset=True)
    merged_start = changes.get("period_start", case.period_start)
    merged_end = changes.get("period_end", case.period_end)
    if merged_start and merged_end and merged_end < merged_start:
        raise ValidationFailed(errors=[{"field": "period_end", "message": "måste vara efter period_start / must not be before period_start"}])
    before = {k: getattr(case, k) for k in changes}
    for k, v in changes.items():
        setattr(case, k, v)
    session.flush()
    record(session, actor=user, action="case.updated", case_id=case.id, before=audited(before),
           after={"fields": sorted(changes), **audited(changes)})
    return case


def submit(session: Session, user: User, case: Case, settings: Settings, expected_version: int | None = None) -> Case:
    """Submit a draft (assigns the diarienummer) or resubmit after requested changes."""
    check_version(case, expected_version)
    if user.role != Role.ORG_MEMBER:
        raise Forbidden("Endast organisationen skickar in / only the organisation submits")
    if case.organisation.verified_at is None:
        raise Conflict("Organisationen är ännu inte bekräftad av kommunen; förslaget kan skickas in när en handläggare har "
                       "bekräftat den / the organisation has not been verified by the municipality yet; the proposal can be "
                       "submitted once an officer has verified it")
    if case.stage != Stage.DRAFT and case.open_for_changes:
        case.open_for_changes = False
        session.flush()
        diarium.register_application(session, case, completed=True)
        record(session, actor=user, action="case.changes_submitted", case_id=case.id, after=snapshot(case))
        emit(session, "case.changes_submitted", {"case_id": case.id, "user_id": user.id}, case_id=case.id)  # officer and requester told
        return case
    ensure_transition(case.stage, Stage.IDENTIFY_NEED, Action.SUBMIT)
    missing = [{"field": f, "message": f"{label} saknas / {f} is missing"}
               for f, label in (("need", "Identifierat behov"),) if not getattr(case, f).strip()]
    if missing:
        raise GateFailed("Förslaget är inte komplett för att skickas in / proposal incomplete", errors=missing)
    before = snapshot(case)
    now = utcnow()
    case.diarienummer = next_diarienummer(session, case.department.diarie_prefix, now, settings.timezone)
    case.submitted_at = now
    move(session, case, Stage.IDENTIFY_NEED, actor=user, action=Action.SUBMIT)
    session.flush()
    diarium.register_application(session, case)
    record(session, actor=user, action="case.submitted", case_id=case.id, before=before, after=snapshot(case))
    emit(session, "case.submitted", {"case_id": case.id}, case_id=case.id)  # the receipt (kvittens) to the organisation
    return case


def withdraw(session: Session, user: User, case: Case, reason: str, expected_version: int | None = None) -> Case:
    """The organisation withdraws its case from any non-terminal stage."""
    check_version(case, expected_version)
    if user.role != Role.ORG_MEMBER:
        raise Forbidden("Endast organisationen kan återkalla / only the organisation withdraws")
    before = snapshot(case)
    move(session, case, Stage.WITHDRAWN, actor=user, action=Action.WITHDRAW, reason=reason or None)
    case.close_reason = reason or None
    session.flush()
    diarium.register_withdrawal(session, case)
    record(session, actor=user, action="case.withdrawn", case_id=case.id, before=before, after={**snapshot(case), "reason_sha256": digest(reason)})
    return case


def assign_officer(session: Session, user: User, case: Case, officer_id: int, expected_version: int | None = None) -> Case:
    """A civil servant of the department assigns a handläggare."""
    check_version(case, expected_version)
    if user.role not in (Role.OFFICER, Role.APPROVER):
        raise Forbidden()
    if case.stage in TERMINAL:
        raise Conflict("Ärendet är avslutat / case is closed", current_stage=case.stage)
    officer = session.get(User, officer_id) if 0 < officer_id <= MAX_ID else None  # web forms pass ids unchecked
    if officer is None or officer.role != Role.OFFICER or officer.department_id != case.department_id or not officer.is_active:
        raise ValidationFailed(errors=[{"field": "officer_id", "message": "Måste vara en handläggare i ärendets förvaltning / must be an officer of the case's department"}])
    before = {"officer_id": case.officer_id}
    case.officer_id = officer.id
    case.officer = officer
    deadlines.close(session, case.id, DeadlineStatus.MET, kinds=[DeadlineKind.TRIAGE])
    session.flush()
    record(session, actor=user, action="case.officer_assigned", case_id=case.id, before=before, after={"officer_id": officer.id})
    return case


def terminate(session: Session, user: User, case: Case, reason: str, expected_version: int | None = None) -> Case:
    """An approver terminates a partnership in follow-up, with a reason."""
    check_version(case, expected_version)
    if user.role != Role.APPROVER:
        raise Forbidden("Endast beslutsfattare kan avsluta i förtid / only approvers terminate")
    if user.department_id != case.department_id:
        raise Forbidden("Endast beslutsfattare i förvaltningen / only the department's approvers")
    # The same amount as every other decision on the case: the agreement's funding, not what was once asked for.
    amounts.ensure_within_delegation(user, amounts.decided_amount(session, case))
    before = snapshot(case)
    move(session, case, Stage.CLOSED, actor=user, action=Action.TERMINATE, reason=reason)
    case.terminated = True
    case.close_reason = reason
    session.flush()
    diarium.register_termination(session, case)
    record(session, actor=user, action="case.terminated", case_id=case.id, before=before,
           after={**snapshot(case), "reason_sha256": digest(reason)})
    emit(session, "case.terminated", {"case_id": case.id}, case_id=case.id)  # its decision document and the organisation's notice
    return case


def request_completion(session: Session, user: User, case: Case, message: str, expected_version: int | None = None) -> Case:
    """The case's department's officer asks the organisation to complete the case (reopens it for the organisation's changes)."""
    check_version(case, expected_version)
    if user.role != Role.OFFICER or user.department_id != case.department_id:
        raise Forbidden("Endast handläggare i ärendets förvaltning kan begära komplettering / only the department's officers ask for completion")
    if case.stage not in OFFICER_EDIT_STAGES:
        raise Conflict("Komplettering kan inte begäras i detta skede / completion cannot be requested in this stage", current_stage=case.stage)
    if has_pending_review(session, case.id):
        raise Conflict("Ärendet granskas; beslutsfattaren kan begära komplettering / the case is under review; the approver may ask for completion")
    if case.open_for_changes:
        raise Conflict("Komplettering är redan begärd och inte inskickad än / completion already requested and not yet submitted")
    if not message.strip():
        raise ValidationFailed(errors=[{"field": "message", "message": "Skriv vad organisationen ska komplettera / say what to complete"}])
    before = snapshot(case)
    ask = CompletionRequest(case_id=case.id, requested_by_id=user.id, message=message.strip())
    session.add(ask)
    case.open_for_changes = True  # the version moves too: an edit started before the request fails its optimistic lock
    session.flush()
    diarium.register_completion_request(session, case)
    record(session, actor=user, action="case.completion_requested", case_id=case.id, before=before,
           after={**snapshot(case), "completion_request_id": ask.id, "message_sha256": digest(message)})
    emit(session, "case.completion_requested", {"completion_request_id": ask.id}, case_id=case.id)  # the organisation is told
    return case
