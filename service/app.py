"""create_app(): routers, problem+json error handling, health and readiness."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.config import get_settings
from service.db import get_engine
from service.bodylimit import BodyLimit
from service.errors import PROBLEM_JSON, AppError, Conflict, NotFound, ServiceUnavailable, StaleVersion, ValidationFailed
from service.openapi import install_docs, install_openapi
from service.probes import INFO_PROBES, READY_PROBES
from service.reads import close_readers

log = logging.getLogger("iop")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # The API answers JSON and files only; pages that need more (web UI, /docs) set their own policy.
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    # No feature of the browser is used by the service; deny the powerful ones to any embedded content too.
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
}


def problem_response(request: Request, error: AppError) -> JSONResponse:
    """Render an AppError as application/problem+json."""
    return JSONResponse(
        error.to_problem(instance=request.url.path),
        status_code=error.status_code,
        media_type=PROBLEM_JSON,
        headers=error.headers,
    )


def _error_field(loc: tuple | list) -> str:
    """Where the error is, as a form maps it to an input.

    Body fields are named as the client sent them, dotted with list positions (`instalments.2.amount_sek`,
    `organisation.contacts.0.name`); only the leading "body" is dropped, so a field that is itself called
    "body" (a message) keeps its name. Path, query and header parameters keep their location as a prefix
    (`path.case_id`, `query.limit`): they are not inputs of the submitted form. An error about the body as a
    whole (missing, not an object, not JSON) is named "body".
    """
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_errors(exc: RequestValidationError) -> list[dict]:
    out = []
    for err in exc.errors():
        loc, message = tuple(err.get("loc", ())), err.get("msg", "")
        if err.get("type") == "json_invalid":
            # pydantic puts the character position where a field name would be; it belongs in the message.
            position = loc[1] if len(loc) > 1 else None
            reason = (err.get("ctx") or {}).get("error")
            message = f"Ogiltig JSON / {message}" + (f": {reason}" if reason else "") + (f" (position {position})" if position is not None else "")
            loc = ("body",)
        out.append({"field": _error_field(loc), "message": message, "type": err.get("type", "")})
    return out


def install_error_handlers(app: FastAPI) -> None:
    """One handler per error family; all answer with problem+json (a browser's mistyped page address: the Swedish error page)."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
        return problem_response(request, ValidationFailed(f"Kontrollera fälten: {fields} / Check the fields: {fields}", errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        err = AppError(str(exc.detail), headers=dict(exc.headers or {}))
        err.status_code = exc.status_code
        err.code = f"http-{exc.status_code}"
        err.title = {404: "Hittades inte / Not found", 405: "Metoden stöds inte / Method not allowed"}.get(
            exc.status_code, "Fel / Error"
        )
        if exc.status_code == 404:
            from service.web.rendering import page_for_browser  # a person typed the address: a page, not JSON

            # in a worker thread: it may read the session's user from the database
            page = await run_in_threadpool(page_for_browser, request, NotFound("Sidan finns inte. Kontrollera adressen. / Not found"))
            if page is not None:
                return page
        return problem_response(request, err)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return problem_response(request, StaleVersion("Någon annan ändrade samtidigt; läs om och försök igen / Concurrent change, reload and retry"))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity conflict: %s", exc.orig)
        return problem_response(request, Conflict("Uppgiften krockar med befintliga data (samtidig ändring eller dubblett) / Conflicts with existing data"))

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.orig)
        return problem_response(request, ServiceUnavailable("Databasen svarar inte / Database unavailable", retry_after=5))

    @app.exception_handler(PendingRollbackError)
    async def _db_lost(request: Request, exc: PendingRollbackError) -> JSONResponse:
        # The session's connection failed earlier in this request (a hung server's statement cut by service.hangs):
        # nothing was written, and the request may be retried.
        log.warning("database connection lost during the request: %s", exc)
        return problem_response(request, ServiceUnavailable("Databasen svarar inte / Database unavailable", retry_after=5))

    @app.exception_handler(PoolTimeout)
    async def _db_busy(request: Request, exc: PoolTimeout) -> JSONResponse:
        # Every pooled connection is taken (by requests waiting on a hung server, or a burst): say when to retry.
        log.warning("no database connection within the pool timeout: %s", exc)
        return problem_response(request, ServiceUnavailable("Databasen svarar inte / Database unavailable", retry_after=5))


def create_app() -> FastAPI:
    """Build the FastAPI application."""
    from service.agreements.router import router as agreements_router
    from service.audit.router import router as audit_router
    from service.auth.oidc.router import router as sso_router
    from service.auth.router import router as auth_router
    from service.cases.router import router as cases_router
    from service.dashboard.router import router as dashboard_router
    from service.deadlines.router import router as deadlines_router
    from service.departments.router import router as departments_router
    from service.dialogue.router import router as dialogue_router
    from service.doctemplates.router import router as doctemplates_router
    from service.documents.router import router as documents_router
    from service.followup.router import router as followup_router
    from service.organisations.router import router as organisations_router
    from service.reviews.router import router as reviews_router
    from service.signing.router import router as signing_router
    from service.statistics.router import router as statistics_router
    from service.messages.router import router as messages_router
    from service.diarium.router import router as diarium_router
    from service.diarium.public_router import router as public_register_router
    from service.retention.router import router as retention_router
    from service.archive.router import router as archive_router
    from service.notifications.router import router as notifications_router
    from service.timeline.router import router as timeline_router

    settings = get_settings()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await close_readers()

    app = FastAPI(
        lifespan=lifespan,
        title="IOP Partnerskap",
        version="0.1.0",
        description="Ärendehantering för idéburet offentligt partnerskap / Case management for IOP.",
        docs_url=None,  # served by install_docs() from local assets
        redoc_url=None,  # ReDoc would load its script and fonts from third-party hosts
        openapi_url="/openapi.json",
        # The documentation keeps its reading order (sign-in first) whatever order the routes are matched in.
        openapi_tags=[{"name": name} for name in API_TAGS],
    )
    install_error_handlers(app)
    install_openapi(app)
    # HSTS only when configured: sent over plain HTTP in development it would pin browsers to https://localhost.
    security_headers = dict(SECURITY_HEADERS)
    if settings.hsts_seconds > 0:
        security_headers["Strict-Transport-Security"] = f"max-age={settings.hsts_seconds}; includeSubDomains"

    # Inside the security headers (its 413/408 carry them too), outside everything that reads a body.
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders, headers=security_headers)

    # Cases first: routes are matched in order, and GET /cases/{id} and GET /cases are the busiest (bench/README.md).
    # No path of the routers placed after it is one of its patterns (they all start /cases/{case_id}/…).
    for r in (
        cases_router,
        auth_router,
        sso_router,
        departments_router,
        organisations_router,
        reviews_router,
        dialogue_router,
        deadlines_router,
        notifications_router,
        dashboard_router,
        statistics_router,
        documents_router,
        doctemplates_router,
        agreements_router,
        signing_router,
        followup_router,
        audit_router,
        messages_router,
        diarium_router,
        public_register_router,
        retention_router,
        archive_router,
        timeline_router,
    ):
        app.include_router(r, prefix="/api/v1")

    from service.web import mount_web

    from service.outbox.health import outbox_backlog, prefect_status

    INFO_PROBES.setdefault("outbox", outbox_backlog)
    INFO_PROBES.setdefault("prefect", prefect_status)
    from service.deadlines.sweep import health as reminders_health

    INFO_PROBES.setdefault("reminders", reminders_health)
    mount_web(app)  # server-rendered Swedish pages and their static files
    install_docs(app)

    @app.get("/health", tags=["drift"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", tags=["drift"], response_model=Readiness,
             responses={503: {"model": Readiness, "description": "Ett beroende svarar inte / a dependency is down"}})
    def ready() -> JSONResponse:
        """Readiness: the database answers (storage and Prefect are added by their modules)."""
        checks: dict[str, str] = {}
        try:
            with get_engine().connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["database"] = f"error: {type(exc).__name__}"
        for name, probe in READY_PROBES.items():
            try:
                probe()
                checks[name] = "ok"
            except Exception as exc:  # noqa: BLE001
                checks[name] = f"error: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        # Flows being down does not make the API unready: events wait in the outbox, shown here. Most of it is read
        # from the database: with the database gone it is skipped, so /ready answers within one timeout.
        info = {name: probe() for name, probe in INFO_PROBES.items()} if checks["database"] == "ok" else {}
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks, "info": info}, status_code=200 if ok else 503)

    app.state.settings = settings
    return app


class SecurityHeaders:
    """Add the security headers a response does not set itself.

    Plain ASGI rather than @app.middleware("http"): that wraps every response in a streaming
    body and task group, which cost more CPU per request than a small endpoint itself (bench/).
    """

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *((k, v) for k, v in self.headers if k not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Readiness(BaseModel):
    """Readiness and what each dependency answered (503 when any is down)."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, str]
    info: dict[str, Any] = {}


# Tags in the order /docs shows them.
API_TAGS = ("auth", "departments", "organisations", "cases", "reviews", "dialogue", "deadlines", "documents", "agreements", "signing",
            "follow-up", "statistics", "audit", "messages", "diarium", "retention", "archive",
            "timeline", "drift")
