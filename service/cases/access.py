"""Who sees which case, and which of its content: the one visibility rule used by every query, API and web."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from sqlalchemy import ColumnElement, and_, false, true
from sqlalchemy.orm import Session

from service.auth.models import Role, User
from service.cases.models import Case
from service.cases.stages import Stage
from service.deadlines.models import Deadline
from service.deadlines.policy import ORG_DEADLINES
from service.documents.models import Document
from service.messages.models import Message
from service.reviews.models import Review
from service.errors import NotFound
from service.schemas import MAX_ID

if TYPE_CHECKING:
    from service.deps import Principal


def visible(user: User | Principal) -> ColumnElement[bool]:
    """SQL condition for the cases a user may see."""
    if user.role == Role.ORG_MEMBER:
        return Case.organisation_id == user.organisation_id if user.organisation_id else false()
    if user.role in (Role.OFFICER, Role.APPROVER):
        # Drafts belong to the organisation until submitted.
        return and_(Case.department_id == user.department_id, Case.stage != Stage.DRAFT)
    if user.role == Role.REGISTRAR:
        return true()
    return false()  # admins run the system, not the cases


def can_see(user: User | Principal, case: Case | CaseKeys) -> bool:
    """Python twin of visible() for an already loaded case."""
    if user.role == Role.ORG_MEMBER:
        return user.organisation_id is not None and case.organisation_id == user.organisation_id
    if user.role in (Role.OFFICER, Role.APPROVER):
        return case.department_id == user.department_id and case.stage != Stage.DRAFT
    return user.role == Role.REGISTRAR


def sees_internal(user: User | Principal) -> bool:
    """Internal documents and notes, and the administration's own deadlines, are for civil servants and registrars."""
    return user.role in (Role.OFFICER, Role.APPROVER, Role.REGISTRAR)


def review_comment_shown(user: User | Principal, review: Review) -> bool:
    """A review request's comment, unless marked internal (then for those who see internal notes)."""
    return not review.comment_internal or sees_internal(user)


def documents_shown(user: User | Principal) -> ColumnElement[bool]:
    """SQL condition for the documents of a visible case that the user sees (internal ones stay with the administration)."""
    return true() if sees_internal(user) else Document.internal.is_(False)


def messages_shown(user: User | Principal) -> ColumnElement[bool]:
    """SQL condition for the messages of a visible case that the user sees (internal notes, even their existence)."""
    return true() if sees_internal(user) else Message.internal.is_(False)


def deadlines_shown(user: User | Principal) -> ColumnElement[bool]:
    """SQL condition for the deadlines of a visible case that the user sees (the organisation: those it meets itself)."""
    return true() if sees_internal(user) else Deadline.kind.in_(ORG_DEADLINES)


class CaseKeys(Protocol):
    """What can_see() reads of a case (an ORM Case, or the keys of a read row)."""

    organisation_id: int
    department_id: int
    stage: str


def get_visible_case(session: Session, user: User, case_id: int) -> Case:
    """Load a case or raise 404 when it is missing or invisible (no existence leak)."""
    # Ids beyond the column's range name no case; passed on, they fail in the driver (500) for routes without Id.
    case = session.get(Case, case_id) if 0 < case_id <= MAX_ID else None
    if case is None or not can_see(user, case):
        raise NotFound("Ärendet finns inte / Case not found")
    return case


def ensure_case_officer(user: User, case: Case) -> None:
    """Stage content is recorded by the department's officers."""
    from service.errors import Forbidden

    if user.role != Role.OFFICER or user.department_id != case.department_id:
        raise Forbidden("Endast handläggare i ärendets förvaltning / only the case department's officers")


def ensure_stage(case: Case, *stages: Stage) -> None:
    """409 unless the case is in one of the stages."""
    from service.errors import Conflict

    if case.stage not in stages:
        raise Conflict(
            f"Inte möjligt i skedet '{case.stage}' / not possible in stage {case.stage}",
            current_stage=case.stage, allowed_stages=[s.value for s in stages],
        )
