"""The registrar's e-archive page: request an export of closed cases (by diarienummer or a closure period), follow the
jobs and download the finished packages (archive.service, the same functions as the API)."""

from __future__ import annotations


from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.archive import service as archive
from service.archive.sip import CaseNotClosed
from service.cases.models import Case
from service.deps import AppSettings, DbSession
from service.documents.service import content_disposition
from service.errors import ValidationFailed
from service.schemas import Id
from service.web.deps import CsrfForm, WebUser, web_router
from service.web.forms import FormState
from service.web.rendering import redirect, render
from service.web.routes.cases import Store

router = web_router()
LABELS = {"arenden": "Diarienummer", "fran": "Avslutade från och med", "till": "Avslutade till och med"}
STATUS = {"requested": "Beställt", "running": "Pågår", "done": "Klart", "failed": "Misslyckades", "pending": "Väntar"}


def _page(request: Request, session: Session, user, form: FormState | None = None, status_code: int = 200) -> Response:  # noqa: ANN001
    exports = archive.list_exports(session, user)
    return render(request, "earkiv.html", {
        "title": "E-arkiv", "form": form or FormState(prefix="earkiv", labels=LABELS), "status": STATUS,
        "exports": [(e, archive.items(session, e)) for e in exports],
    }, status_code=status_code)


@router.get("/e-arkiv")
def earkiv_page(request: Request, user: WebUser, session: DbSession) -> Response:
    """The export form and the jobs with their packages."""
    archive.ensure_registrar(user)
    return _page(request, session, user)


@router.post("/e-arkiv")
def request_export(request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Order an export: diarienummer (one per line or comma-separated), or every case closed in a period."""
    archive.ensure_registrar(user)
    raw = {k: str(form.get(k) or "").strip()[:5000 if k == "arenden" else 20] for k in LABELS}
    state = FormState(prefix="earkiv", labels=LABELS)
    state.values = raw
    numbers = [n.strip() for n in raw["arenden"].replace(",", "\n").splitlines() if n.strip()]
    closed_from, closed_to = state.parse_date("fran", raw["fran"]), state.parse_date("till", raw["till"])
    if numbers and (raw["fran"] or raw["till"]):
        state.add("arenden", "Ange antingen diarienummer eller en period, inte båda.")
    elif not numbers and not (raw["fran"] or raw["till"]):
        state.add("arenden", "Ange diarienummer eller en period.")
    case_ids = None
    if numbers and not state.has_errors:
        found = {c.diarienummer: c.id for c in session.scalars(select(Case).where(Case.diarienummer.in_(numbers)))}
        unknown = [n for n in numbers if n not in found]
        if unknown:
            state.add("arenden", f"Okända diarienummer: {', '.join(unknown[:10])}.")
        case_ids = [found[n] for n in numbers if n in found]
    if state.has_errors:
        return _page(request, session, user, state, status_code=422)
    try:
        archive.request_export(session, user, case_ids=case_ids, closed_from=closed_from, closed_to=closed_to, settings=settings)
    except CaseNotClosed as exc:
        open_ones = ", ".join(e["message"] for e in exc.errors[:10])
        state.add("arenden", f"Bara avslutade ärenden kan lämnas till e-arkivet. Inte avslutade: {open_ones}.")
        return _page(request, session, user, state, status_code=409)
    except ValidationFailed as exc:
        for e in exc.errors:
            field = {"closed_from": "fran", "closed_to": "till"}.get(e.get("field"), "arenden")
            state.add(field, e["message"].split(" / ")[0] + ".")
        return _page(request, session, user, state, status_code=422)
    return redirect("/e-arkiv", flash="earkiv-bestallt")


@router.get("/e-arkiv/{export_id}/paket/{package_id}")
def download(export_id: Id, package_id: Id, user: WebUser, session: DbSession, store: Store) -> StreamingResponse:
    """A finished package (zip), checked against its recorded sha256."""
    export = archive.get_export(session, user, export_id)
    item = archive.get_item(session, export, package_id)
    body = archive.open_package(store, item)
    return StreamingResponse(body, media_type=archive.ZIP, headers={
        "Content-Disposition": content_disposition(f"{item.objid}.zip"), "Content-Length": str(item.size)})
