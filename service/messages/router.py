"""Message thread endpoints under a case."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from service.cases.access import get_visible_case
from service.deps import AppSettings, CurrentUser, DbSession
from service.messages import service
from service.messages.schemas import MessageIn, MessageOut
from service.schemas import Id, Page
from service.idempotency import IdempotencyKey

router = APIRouter(tags=["messages"])


@router.post("/cases/{case_id}/messages", response_model=MessageOut, status_code=201)
def post_message(case_id: Id, data: MessageIn, session: DbSession, user: CurrentUser, response: Response,
                 idem: IdempotencyKey) -> object:
    """Write in the case thread; department staff may mark the message as an internal note."""
    case = get_visible_case(session, user, case_id)

    def create() -> MessageOut:
        message = service.post_message(session, user, case, data.body, data.internal)
        response.headers["Location"] = f"/api/v1/cases/{case.id}/messages/{message.id}"
        return service.to_out(session, [message])[0]

    return idem.run(session, user.id, data, MessageOut, create)


@router.get("/cases/{case_id}/messages", response_model=Page[MessageOut])
def list_messages(
    case_id: Id, session: DbSession, user: CurrentUser, settings: AppSettings,
    cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Page[MessageOut]:
    """The thread, oldest first, paginated by cursor (internal notes hidden from the organisation)."""
    case = get_visible_case(session, user, case_id)
    rows, next_cursor = service.list_messages(session, user, case, cursor=cursor, limit=min(limit, settings.page_size_max))
    return Page[MessageOut](items=service.to_out(session, rows), next_cursor=next_cursor)


@router.get("/cases/{case_id}/messages/{message_id}", response_model=MessageOut)
def get_message(case_id: Id, message_id: Id, session: DbSession, user: CurrentUser) -> MessageOut:
    """One message (404 when it is an internal note and the reader belongs to the organisation)."""
    case = get_visible_case(session, user, case_id)
    return service.to_out(session, [service.get_message(session, user, case, message_id)])[0]
