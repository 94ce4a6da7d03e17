"""The user's notifications page and marking them all read."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from service.deps import DbSession
from service.notifications import service as notices
from service.web.deps import CsrfForm, WebUser, web_router
from service.web.rendering import redirect, render

router = web_router()


@router.get("/notiser")
def notifications(request: Request, user: WebUser, session: DbSession) -> Response:
    """The user's notifications, newest first."""
    return render(request, "notifications.html", {"title": "Notiser", "items": notices.list_for(session, user)})


@router.post("/notiser/lasta")
def mark_all_read(user: WebUser, form: CsrfForm, session: DbSession) -> Response:
    """Mark every notification of the user read."""
    notices.mark_all_read(session, user)
    return redirect("/notiser", flash="notiser-lasta")
