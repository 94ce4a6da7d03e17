"""All page routes of the web interface."""

from __future__ import annotations

from fastapi import APIRouter

from service.web.routes import (
    admin,
    agreement,
    auth,
    casedocuments,
    caselist,
    casesheet,
    cases,
    deadlines,
    diarium,
    dialogue,
    earkiv,
    esigning,
    followup,
    gallring,
    notifications,
    organisation,
    queue,
    register,
    review,
    signup,
    sso,
    statistics,
)

router = APIRouter(include_in_schema=False)
for _module in (auth, sso, signup, organisation, cases, caselist, casesheet, queue, review, dialogue, agreement, esigning, casedocuments, followup, deadlines, notifications, statistics, diarium, gallring, earkiv, register, admin):
    router.include_router(_module.router)
