"""Case timeline endpoint."""

from __future__ import annotations

from fastapi import APIRouter

from service.cases.access import get_visible_case
from service.deps import CurrentUser, DbSession
from service.schemas import Id
from service.timeline import service
from service.timeline.schemas import TimelineItem

router = APIRouter(tags=["timeline"])


@router.get("/cases/{case_id}/timeline", response_model=list[TimelineItem])
def case_timeline(case_id: Id, session: DbSession, user: CurrentUser) -> list[TimelineItem]:
    """Everything that happened in the case, oldest first (internal notes and documents hidden from the organisation)."""
    return service.build(session, user, get_visible_case(session, user, case_id))
