"""The notification settings page: each user chooses in-app only or in-app and e-mail; the notification page links to it."""

from __future__ import annotations

from factories import World
from sqlalchemy.orm import Session
from test_web_forms import Browserless, web  # noqa: F401

from service.notifications.service import wants_email


def test_each_user_chooses_in_app_only_or_email_too(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    db.commit()
    web.login(w.officer)
    assert 'href="/konto/notiser"' in web.get("/notiser").text
    page = web.get("/konto/notiser").text
    assert 'value="app_email" checked' in page and 'value="app" checked' not in page
    web.post("/konto/notiser", {"channels": "app"})
    db.expire_all()
    assert wants_email(db, w.officer) is False and wants_email(db, w.approver) is True
    assert 'value="app" checked' in web.get("/konto/notiser").text
    refused = web.post("/konto/notiser", {"channels": "sms"}, expect=422).text
    assert "Välj hur du vill få notiser" in refused and "error-summary" in refused
    db.expire_all()
    assert wants_email(db, w.officer) is False  # nothing changed by the refused choice
    web.login(w.member)
    web.post("/konto/notiser", {"channels": "app_email"})
    db.expire_all()
    assert wants_email(db, w.member) is True and wants_email(db, w.officer) is False
