"""What the civil servants' pages share: who they are for, and the case as one of them may act on it."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from service.auth.models import Role, User
from service.cases.access import get_visible_case
from service.cases.models import Case
from service.web.deps import require_role, whole

CIVIL = (Role.OFFICER, Role.APPROVER)
LISTERS = (Role.OFFICER, Role.APPROVER, Role.REGISTRAR)


def case_for_staff(session: Session, user: User, case_id: int) -> Case:
    """The case for a civil servant's action: 403 for other roles, 404 when it is not visible."""
    case = get_visible_case(session, user, case_id)  # first: an invisible case is a 404 for every role, as in the API
    require_role(user, *CIVIL)
    return case


def form_version(form: FormData) -> int | None:
    """The case version the form was rendered with (optimistic lock), if it sent one."""
    return whole(form, "version")
