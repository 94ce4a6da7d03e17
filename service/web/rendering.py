"""Jinja2 environment, page rendering and the route class that turns errors into pages."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from functools import lru_cache
from urllib.parse import quote, urlsplit

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from service.auth.models import Role, User
from service.config import Settings, get_settings
from service.db import get_sessionmaker
from service.dialogue.checklist import ITEMS
from service.errors import AppError, Conflict, NotFound, ServiceUnavailable
from service import labels as names
from service.web import labels
from service.web.session import (
    CSRF_COOKIE,
    CSRF_FIELD,
    FLASH_COOKIE,
    SESSION_COOKIE,
    LoginRequired,
    csrf_token,
    current_web_user,
    delete_cookie,
    set_cookie,
    start_session,
)

log = logging.getLogger("iop.web")
TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static/web"

templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
env = templates.env
env.trim_blocks = True
env.lstrip_blocks = True
env.filters.update(
    sek=labels.sek, datum=labels.datum, tidpunkt=labels.tidpunkt, number=labels.number, stage=labels.stage_label,
    sv=labels.swedish_part, belopp=labels.amounts_in_text,
)
env.globals.update(
    STATIC=STATIC_PREFIX, ROLE_LABELS=names.ROLES, LEGAL_FORMS=names.LEGAL_FORMS, DOCUMENT_KINDS=names.DOCUMENT_KINDS,
    REVIEW_STATUS=names.REVIEW_STATUS, DEADLINE_LABELS=names.DEADLINE_KINDS, checklist_size=len(ITEMS),
    DECISIONS=names.DECISIONS, STAGE_TONE=labels.STAGE_TONE, Role=Role, DIRECTIONS=names.DIARY_DIRECTIONS,
)

# The login page's buttons: the single sign-on providers as (name, label), in configured order.
env.globals["sso_providers"] = lambda: [(name, p.label) for name, p in get_settings().oidc_providers.items()]
# Whether members can invite people (an organisation provider is configured to let them in).
env.globals["sso_invitations"] = lambda: any(p.kind == "organisation" for p in get_settings().oidc_providers.values())

# The interface runs no inline script or style, so a strict policy costs nothing.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")



def page_csp(settings: Settings) -> str:
    """CSP, whose form-action also names the single sign-on providers: the login button's and the logout form's posts
    are redirected there, and browsers hold form-action to the redirect's target too."""
    return _page_csp(tuple(p.issuer for p in settings.oidc_providers.values()))


@lru_cache(maxsize=8)
def _page_csp(issuers: tuple[str, ...]) -> str:
    origins = sorted({f"{u.scheme}://{u.netloc}" for u in map(urlsplit, issuers) if u.scheme in ("http", "https") and u.netloc})
    return CSP.replace("form-action 'self'", " ".join(["form-action 'self'", *origins])) if origins else CSP


# Short codes for post/redirect/get confirmations; only known codes are ever shown.
FLASH: dict[str, str] = {
    "inloggad": "Du är inloggad.",
    "utloggad": "Du är utloggad.",
    "org-registrerad": "Organisationen är registrerad.",
    "org-sparad": "Organisationens uppgifter är sparade.",
    "forslag-skapat": "Förslaget är sparat som utkast. Du kan fortsätta redigera det innan du skickar in.",
    "forslag-sparat": "Ändringarna är sparade.",
    "inskickat": "Förslaget är inskickat och har fått ett diarienummer.",
    "komplettering-inskickad": "Kompletteringen är inskickad till handläggaren.",
    "komplettering-begard": "Kompletteringen är begärd. Organisationen har fått en notis.",
    "aterkallat": "Ärendet är återkallat.",
    "tilldelat": "Handläggare är tilldelad.",
    "granskning-begard": "Begäran om beslut är skickad till beslutsfattare.",
    "omfordelad": "Granskningen är omfördelad; beslutsfattaren har fått besked.",
    "granskning-atertagen": "Begäran om beslut är återtagen.",
    "beslut-fattat": "Beslutet är registrerat.",
    "mote-sparat": "Dialogmötet är registrerat.",
    "lamplighet-sparad": "Lämplighetsbedömningen är sparad.",
    "avtal-sparat": "Avtalsvillkoren är sparade och kompletta. Nu kan avtalsdokumentet skapas.",
    "avtal-utkast-sparat": "Utkastet till avtalsvillkor är sparat. Du kan fortsätta fylla i det senare.",
    "dokument-skapat": "Dokumentet är skapat.",
    "bilaga-uppladdad": "Filen är uppladdad.",
    "undertecknat-uppladdat": "Det undertecknade avtalet är uppladdat. Det kan nu anges som bevis för underskrifterna.",
    "underskrift-sparad": "Underskriften är registrerad.",
    "underskrift-rattad": "Underskriften är rättad. Rättelsen syns i ärendets historik.",
    "underskrift-borttagen": "Underskriften är borttagen. Borttagningen syns i ärendets historik.",
    "diariepost-rattad": "Diarieposten är rättad. Rättelsen syns i ärendets historik.",
    "e-underskrift-skickad": "Avtalet är skickat för e-underskrift. Undertecknarna skriver under i tur och ordning när de loggar in.",
    "e-underskrift-klar": "Du har skrivit under avtalet elektroniskt.",
    "rapport-planerad": "Uppföljningsrapporten är planerad.",
    "rapport-inskickad": "Uppföljningsrapporten är inskickad.",
    "rapport-bedomd": "Bedömningen av rapporten är sparad.",
    "meddelande-skickat": "Meddelandet är skickat.",
    "pausat": "Ärendet är pausat. Fristerna står still tills det återupptas.",
    "aterupptaget": "Ärendet är återupptaget. Fristerna har flyttats med de pausade arbetsdagarna.",
    "frist-forlangd": "Fristen är förlängd.",
    "pdf-skapad": "En PDF/A-kopia är skapad och sparad som ny version.",
    "notiser-lasta": "Alla notiser är markerade som lästa.",
    "gallringslista": "De mogna handlingarna står på gallringslistan. Ingenting raderas förrän listan är godkänd.",
    "earkiv-bestallt": "Uttaget är beställt. Paketen skapas i bakgrunden; ladda om sidan för att se när de är klara.",
    "gallring-godkand": "Gallringen är godkänd. Handlingarna raderas nu; de som är under lås raderas när låset har gått ut.",
    "notiser-installningar": "Dina inställningar för notiser är sparade.",
    "konto-skapat": "Kontot är skapat. Lämna det tillfälliga lösenordet till personen på ett säkert sätt.",
    "frister-sparade": "Tidsfristerna är sparade. De gäller frister som skapas från och med nu; befintliga frister behåller sina datum.",
    "konto-sparrat": "Kontot är spärrat och kan inte längre användas.",
    "konto-aktiverat": "Kontot är aktiverat igen.",
}


def nav_items(user: User | None) -> list[tuple[str, str]]:
    """Main menu entries (href, label) for the user's role."""
    if user is None:
        return []
    if user.role == Role.ORG_MEMBER:
        items = [("/start", "Start")]
        if user.organisation_id:
            items += [("/forslag/nytt", "Nytt förslag"), ("/organisation", "Min organisation")]
        return [*items, ("/notiser", "Notiser")]
    # Self-registered organisations wait for an officer's, registrar's or administrator's confirmation.
    verify = [("/organisationer/att-bekrafta", "Nya organisationer")]
    if user.role in (Role.OFFICER, Role.APPROVER):
        return [("/arbetsko", "Arbetskö"), ("/arenden", "Alla ärenden"), ("/oversikt", "Översikt"), ("/statistik", "Statistik"),
                *([("/diarium", "Diarium")] if user.role == Role.OFFICER else []),
                *(verify if user.role == Role.OFFICER else []), ("/notiser", "Notiser")]
    if user.role == Role.REGISTRAR:
        return [("/arenden", "Alla ärenden"), ("/diarium", "Diarium"), ("/gallring", "Gallring"), ("/e-arkiv", "E-arkiv"), ("/oversikt", "Översikt"),
                ("/statistik", "Statistik"), *verify]
    return [("/admin", "Start"), ("/statistik", "Statistik"), *verify]


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200) -> HTMLResponse:
    """Render a page with the shared context: user, menu, CSRF token and a pending flash message."""
    settings = get_settings()
    user = getattr(request.state, "user", None)
    flash_code = request.cookies.get(FLASH_COOKIE)
    ctx: dict[str, Any] = {
        "request": request,
        "user": user,
        "nav": nav_items(user),
        "unread": getattr(request.state, "unread", 0),
        "current_path": request.url.path,
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request, settings),
        "flash": FLASH.get(flash_code or ""),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    if flash_code:
        delete_cookie(response, FLASH_COOKIE)
    return response


def redirect(url: str, flash: str | None = None) -> RedirectResponse:
    """303 See Other after a successful POST, optionally with a confirmation for the next page."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        set_cookie(response, FLASH_COOKIE, flash, max_age=60)
    return response


def error_page(request: Request, exc: AppError) -> HTMLResponse:
    """An HTML page for a problem that no form can show inline."""
    headings = {
        401: "Du behöver logga in",
        403: "Du har inte behörighet",
        404: "Sidan finns inte",
        409: "Det gick inte att genomföra",
        413: "Filen är för stor",
        415: "Filtypen är inte tillåten",
        429: "För många försök",
        503: "Tjänsten är tillfälligt otillgänglig",
    }
    heading = headings.get(exc.status_code, "Något gick fel")
    response = render(request, "error.html", {"title": heading, "heading": heading, "detail": labels.swedish_part(exc.detail),
                                               "errors": [labels.swedish_part(str(e.get("message", ""))) for e in exc.errors]},
                      status_code=exc.status_code)
    for k, v in exc.headers.items():
        if k.lower() == "retry-after":
            response.headers[k] = v
    return response


def page_for_browser(request: Request, exc: AppError) -> Response | None:
    """The Swedish error page for a browser that asked for a page outside the API (a mistyped address); None otherwise."""
    if request.url.path.startswith(("/api/", STATIC_PREFIX)) or "text/html" not in request.headers.get("accept", ""):
        return None
    if getattr(request.state, "user", None) is not None or not request.cookies.get(SESSION_COOKIE):
        return _finish(request, error_page(request, exc))
    # No route ran, so no dependency read the session: without this a logged-in person sees a logged-out page.
    session = get_sessionmaker()()
    try:
        try:
            current_web_user(request, session, get_settings())
        except SQLAlchemyError:
            log.warning("database unavailable while reading the session for an error page", exc_info=True)
        return _finish(request, error_page(request, exc))
    finally:
        session.close()


def _finish(request: Request, response: Response) -> Response:
    """Set cookies the request created, renew the session past half-life, add page headers."""
    new_csrf = getattr(request.state, "new_csrf", None)
    if new_csrf and not request.cookies.get(CSRF_COOKIE):
        set_cookie(response, CSRF_COOKIE, new_csrf)
    user = getattr(request.state, "user", None)
    if user is not None and getattr(request.state, "renew_session", False) and not getattr(request.state, "logged_out", False):
        start_session(response, user, get_settings(), getattr(request.state, "sso_session", None))
    if response.media_type is None or response.media_type.startswith("text/html"):
        response.headers.setdefault("Content-Security-Policy", page_csp(get_settings()))
    # Pages show personal and case data: never store them in shared caches or the back/forward cache.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


class WebRoute(APIRoute):
    """Route class for pages: login redirects and HTML error pages instead of problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler so every failure ends as a page a person can read."""
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except LoginRequired as exc:
                response = RedirectResponse(f"/logga-in?nasta={quote(exc.next_url, safe='/')}", status_code=303)
            except AppError as exc:
                response = error_page(request, exc)
            except RequestValidationError:
                response = error_page(request, NotFound("Adressen är felaktig / malformed address"))
            except StaleDataError:
                response = error_page(request, Conflict("Någon annan ändrade samtidigt. Ladda om sidan och försök igen."))
            except IntegrityError:
                response = error_page(request, Conflict("Uppgiften krockar med befintliga data. Ladda om sidan och försök igen."))
            except OperationalError:
                log.warning("database unavailable for a page", exc_info=True)
                response = error_page(request, ServiceUnavailable("Databasen svarar inte just nu. Försök igen om en stund.", retry_after=5))
            return _finish(request, response)

        return handler
