"""All page routes of the web interface."""

from __future__ import annotations

from fastapi import APIRouter

from service.web.routes import admin, auth, cases, deadlines, officer, organisation

router = APIRouter(include_in_schema=False)
for _module in (auth, organisation, cases, officer, deadlines, admin):
    router.include_router(_module.router)
