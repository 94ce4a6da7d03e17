"""The user's in-app notifications: list, mark read; the user's channel setting (in-app only or in-app and e-mail)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StrictBool

from service.deps import CurrentUser, DbSession
from service.notifications import service
from service.notifications.models import Notification
from service.schemas import Id, ORMModel

# Documented with the deadlines, where these routes were first served.
router = APIRouter(tags=["deadlines"])


class NotificationOut(ORMModel):
    """An in-app notification."""

    id: int
    case_id: int | None
    kind: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


class NotificationSettingsIO(BaseModel):
    """Whether notifications also come by e-mail (they always come in-app)."""

    model_config = ConfigDict(extra="forbid")

    email: StrictBool


@router.get("/notifications/settings", response_model=NotificationSettingsIO)
def get_settings(session: DbSession, user: CurrentUser) -> NotificationSettingsIO:
    """The user's notification channels."""
    return NotificationSettingsIO(email=service.wants_email(session, user))


@router.put("/notifications/settings", response_model=NotificationSettingsIO)
def put_settings(data: NotificationSettingsIO, session: DbSession, user: CurrentUser) -> NotificationSettingsIO:
    """Choose in-app only (email false) or in-app and e-mail (email true)."""
    return NotificationSettingsIO(email=service.set_email(session, user, data.email).email)


@router.get("/notifications", response_model=list[NotificationOut])
def notifications(session: DbSession, user: CurrentUser, unread: bool = False) -> list[Notification]:
    """The user's in-app notifications, newest first."""
    return service.list_for(session, user, unread=unread)


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut)
def mark_read(notification_id: Id, session: DbSession, user: CurrentUser) -> Notification:
    """Mark one notification read."""
    return service.mark_read(session, user, notification_id)
