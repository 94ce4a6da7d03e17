"""The user's notifications page and marking them all read."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from service.deps import DbSession
from service.notifications import service as notices
from service.web.deps import CsrfForm, WebUser, web_router
from service.web.forms import FormState
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


CHANNELS = {"app": False, "app_email": True}
CHANNEL_LABELS = {"channels": "Hur vill du få notiser?"}


def _settings_page(request: Request, state: FormState, *, status_code: int = 200) -> Response:
    return render(request, "notification_settings.html", {"title": "Inställningar för notiser", "form": state}, status_code=status_code)


@router.get("/konto/notiser")
def settings_page(request: Request, user: WebUser, session: DbSession) -> Response:
    """The user's choice of channels: in-app only, or in-app and e-mail."""
    chosen = "app_email" if notices.wants_email(session, user) else "app"
    return _settings_page(request, FormState(values={"channels": chosen}, prefix="ns", labels=CHANNEL_LABELS))


@router.post("/konto/notiser")
def save_settings(request: Request, user: WebUser, form: CsrfForm, session: DbSession) -> Response:
    """Save the choice; anything but the two offered values is refused with the form again."""
    state = FormState.from_form(form, prefix="ns", labels=CHANNEL_LABELS)
    choice = state.values.get("channels")
    if choice not in CHANNELS:
        state.add("channels", "Välj hur du vill få notiser.")
        return _settings_page(request, state, status_code=422)
    notices.set_email(session, user, CHANNELS[choice])
    return redirect("/konto/notiser", flash="notiser-installningar")
