"""The amount every decision on a case is about, and who may decide it.

Contract:
- `decided_amount` is the agreement's funding once terms with a funding exist, else the case's requested amount.
  Every decision on a case (each review, a termination), the delegation gate and de minimis use it, so raising the
  funding after an approval raises what the next decision and the de minimis sum see.
- `within_delegation` holds for an active approver whose delegated limit covers the amount; `eligible_approvers` are
  the department's approvers who may decide a review requested by `requester` (never the requester: four-eyes).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.auth.models import Role, User
from service.cases.models import Case
from service.errors import Forbidden


def amount_of(case: Case, agreement: Agreement | None) -> int:
    """The agreement's funding when it has one, else what the organisation asked for (SEK)."""
    return agreement.funding_amount_sek if agreement is not None and agreement.funding_amount_sek else case.requested_amount_sek


def decided_amount(session: Session, case: Case) -> int:
    """The amount a decision on this case decides (SEK)."""
    return amount_of(case, session.scalar(select(Agreement).where(Agreement.case_id == case.id)))


def within_delegation(user: User, amount: int) -> bool:
    """An active approver whose delegated limit covers the amount."""
    return user.role == Role.APPROVER and user.is_active and (user.delegated_limit_sek or 0) >= amount


def ensure_within_delegation(user: User, amount: int) -> None:
    """403 naming both figures unless the user may decide this amount."""
    if not within_delegation(user, amount):
        raise Forbidden(
            f"Beloppet {amount:,} kr överstiger din delegation ({user.delegated_limit_sek or 0:,} kr) / exceeds your delegated limit".replace(",", " "),
            amount_sek=amount, delegated_limit_sek=user.delegated_limit_sek or 0,
        )


def eligible_approvers(session: Session, case: Case, amount: int, requester_id: int) -> list[User]:
    """The department's active approvers who may decide this amount, the requester excepted (four-eyes)."""
    approvers = session.scalars(
        select(User).where(User.department_id == case.department_id, User.role == Role.APPROVER, User.is_active.is_(True))
        .order_by(User.id)
    )
    return [u for u in approvers if u.id != requester_id and within_delegation(u, amount)]
