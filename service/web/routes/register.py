"""The public register page (no login): the diarium and the active partnerships, as service.diarium.public shows them."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import Response

from service.auth.ratelimit import AttemptLimiter, client_address, get_public_limiter
from service.deps import AppSettings, DbSession
from service.diarium import public
from service.errors import ValidationFailed
from service.web.deps import MaybeUser, web_router
from service.web.forms import FormState
from service.web.rendering import render

router = web_router()

LABELS = {"fran": "Från och med", "till": "Till och med"}


@router.get("/offentligt")
def public_register(request: Request, user: MaybeUser, session: DbSession, settings: AppSettings,
                    limiter: Annotated[AttemptLimiter, Depends(get_public_limiter)]) -> Response:
    """Diarieförda handlingar (sekretessmarkerade bara som uppgift om att de finns) and active partnerships, newest first."""
    limiter.hit(client_address(request, settings))
    params = request.query_params
    raw = {k: (params.get(k) or "").strip()[:200] for k in ("fran", "till", "sida", "partnerskap")}
    form = FormState(prefix="register", labels=LABELS)
    form.values = raw
    date_from, date_to = form.parse_date("fran", raw["fran"]), form.parse_date("till", raw["till"])
    if date_from and date_to and date_from > date_to:
        form.add("till", "Slutdatumet kan inte vara före startdatumet.")
    context = {"title": "Offentligt register", "form": form, "entries": [], "partnerships": [], "next_query": None,
               "next_partnerships_query": None, "period_query": "", "api_query": ""}
    if form.has_errors:
        return render(request, "register/public.html", context, status_code=422)
    try:
        entries, after = public.diary_page(session, date_from=date_from, date_to=date_to, cursor=raw["sida"] or None)
        partnerships, p_after = public.partnerships_page(session, cursor=raw["partnerskap"] or None, limit=public.PAGE_MAX)
    except ValidationFailed:
        form.add("fran", "Sidan finns inte längre; börja om från första sidan.")
        return render(request, "register/public.html", context, status_code=422)
    period = {k: v for k, v in (("fran", raw["fran"]), ("till", raw["till"])) if v}
    return render(request, "register/public.html", {
        **context, "entries": entries, "partnerships": partnerships, "period_query": urlencode(period),
        "api_query": urlencode({{"fran": "from", "till": "to"}[k]: v for k, v in period.items()}),
        "next_query": urlencode({**period, "sida": after}) if after else None,
        "next_partnerships_query": urlencode({**period, "partnerskap": p_after}) if p_after else None,
        "paged": bool(raw["sida"] or raw["partnerskap"])})
