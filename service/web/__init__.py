"""Server-rendered Swedish web interface (Jinja2 pages, cookie session, CSRF-protected forms)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def mount_web(app: FastAPI) -> None:
    """Add the web pages and their static files to the application."""
    from service.web.rendering import STATIC_DIR, STATIC_PREFIX
    from service.web.routes import router

    app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="web-static")
