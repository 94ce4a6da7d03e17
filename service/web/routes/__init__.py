"""All page routes of the web interface."""

from __future__ import annotations

from fastapi import APIRouter

from service.web.routes import auth, cases, officer, organisation

router = APIRouter(include_in_schema=False)
for _module in (auth, organisation, cases, officer):
    router.include_router(_module.router)
