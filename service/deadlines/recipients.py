"""Who is reminded of a deadline, or told that it was missed.

Contract: the organisation's active members and the officer are reminded of what the organisation must do (follow-up
reports, signing the agreement); escalation goes to the deadline's escalation_target ("approvers", "manager", "officer+approver", else the
officer), falling back to the department's approvers when nobody else is found; a review without an approver is
reminded to the department's approvers except its requester. RecipientLookup fetches reviews, users and staff lists once per sweep, not once per deadline.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import Role, User
from service.cases.models import Case
from service.deadlines.models import Deadline, DeadlineKind
from service.reviews.models import Review


# Deadlines where the organisation has to act: its members are reminded too.
ORG_ACTS = frozenset({DeadlineKind.FOLLOWUP_REPORT, DeadlineKind.AGREEMENT_SIGNATURE})


def _dept_users(session: Session, case: Case, role: Role) -> list[User]:
    return list(session.scalars(select(User).where(User.department_id == case.department_id, User.role == role, User.is_active.is_(True))))


def _chunks(ids: list[int], size: int = 1000) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


class RecipientLookup:
    """Reviews, users and staff lists that recipients() needs, each fetched once per sweep (not once per deadline).

    Holding the objects also keeps them in the session's (weak) identity map, so a later get() does not query again.
    """

    def __init__(self, session: Session, deadlines: Iterable[Deadline] = ()) -> None:
        self.session = session
        self._reviews: dict[int, Review | None] = {}
        self._users: dict[int, User | None] = {}
        self._staff: dict[tuple[int, Role], list[User]] = {}
        self._members: dict[int, list[User]] = {}
        review_ids = sorted({d.review_id for d in deadlines if d.review_id})
        for chunk in _chunks(review_ids):
            self._reviews.update((r.id, r) for r in session.scalars(select(Review).where(Review.id.in_(chunk))))
        self._reviews.update((i, None) for i in review_ids if i not in self._reviews)
        self.preload_users({r.approver_id for r in self._reviews.values() if r is not None and r.approver_id})

    def preload_users(self, ids: Iterable[int]) -> None:
        """Fetch users by id in one query per chunk."""
        missing = sorted(set(ids) - set(self._users))
        for chunk in _chunks(missing):
            self._users.update((u.id, u) for u in self.session.scalars(select(User).where(User.id.in_(chunk))))
        self._users.update((i, None) for i in missing if i not in self._users)

    def preload_members(self, organisation_ids: Iterable[int]) -> None:
        """Fetch the active members of many organisations in one query per chunk."""
        missing = sorted(set(organisation_ids) - set(self._members))
        for chunk in _chunks(missing):
            for org_id in chunk:
                self._members[org_id] = []
            for u in self.session.scalars(select(User).where(User.organisation_id.in_(chunk), User.role == Role.ORG_MEMBER,
                                                             User.is_active.is_(True)).order_by(User.id)):
                self._members[u.organisation_id].append(u)

    def wants_email(self, user_ids: Iterable[int]) -> set[int]:
        """Of these users, the ones who get notifications by e-mail too (no setting: yes), in one query per chunk."""
        from service.notifications.models import NotificationSetting

        ids = sorted(set(user_ids))
        in_app_only: set[int] = set()
        for chunk in _chunks(ids):
            in_app_only.update(self.session.scalars(select(NotificationSetting.user_id).where(
                NotificationSetting.user_id.in_(chunk), NotificationSetting.email.is_(False))))
        return set(ids) - in_app_only

    def review(self, review_id: int) -> Review | None:
        """session.get(Review, id), cached."""
        if review_id not in self._reviews:
            self._reviews[review_id] = self.session.get(Review, review_id)
        return self._reviews[review_id]

    def user(self, user_id: int) -> User | None:
        """session.get(User, id), cached."""
        if user_id not in self._users:
            self._users[user_id] = self.session.get(User, user_id)
        return self._users[user_id]

    def staff(self, case: Case, role: Role) -> list[User]:
        """Active users of the case's department in a role, cached per department and role."""
        key = (case.department_id, role)
        if key not in self._staff:
            self._staff[key] = _dept_users(self.session, case, role)
        return list(self._staff[key])

    def members(self, case: Case) -> list[User]:
        """Active members of the case's organisation, cached per organisation."""
        if case.organisation_id not in self._members:
            self.preload_members([case.organisation_id])
        return list(self._members[case.organisation_id])


def recipients(session: Session, d: Deadline, case: Case, *, escalation: bool = False, lookup: RecipientLookup | None = None) -> list[User]:
    """Who is reminded of (or told about a missed) deadline (`lookup` shares fetched rows across many deadlines)."""
    lk = lookup or RecipientLookup(session)
    officer = [case.officer] if case.officer else []
    if escalation:
        target = d.escalation_target or "officer"
        if target == "approvers":
            return lk.staff(case, Role.APPROVER)
        if target == "manager":
            review = lk.review(d.review_id) if d.review_id else None
            approvers = [lk.user(review.approver_id)] if review and review.approver_id else lk.staff(case, Role.APPROVER)
            managers = {a.manager_id for a in approvers if a and a.manager_id}
            found = [u for u in (lk.user(m) for m in managers) if u]
            return found or lk.staff(case, Role.APPROVER)
        if target == "officer+approver":
            return officer + lk.staff(case, Role.APPROVER)
        return officer or lk.staff(case, Role.APPROVER)
    if d.kind == DeadlineKind.TRIAGE:
        return lk.staff(case, Role.OFFICER)
    if d.kind == DeadlineKind.REVIEW:
        review = lk.review(d.review_id) if d.review_id else None
        if review and review.approver_id:
            return [lk.user(review.approver_id)]
        return [u for u in lk.staff(case, Role.APPROVER) if not review or u.id != review.requested_by_id]
    if d.kind in ORG_ACTS:
        # The organisation has to act (report, sign): its members are reminded, and the officer who follows it up.
        return lk.members(case) + officer
    return officer or lk.staff(case, Role.OFFICER)
