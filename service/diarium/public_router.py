"""Public register endpoints (no login): the diarium and the active partnerships as JSON pages and CSV, rate-limited
per client address (what is shown: service.diarium.public)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from service.auth.ratelimit import AttemptLimiter, client_address, get_public_limiter
from service.deps import AppSettings, DbSession
from service.diarium import public
from service.diarium.public import PublicDiaryEntry, PublicPartnership
from service.schemas import Page

router = APIRouter(tags=["diarium"])

Cursor = Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page")]
From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]
Limit = Annotated[int, Query(ge=1, le=public.PAGE_MAX)]
CsvLimit = Annotated[int, Query(ge=1, le=public.CSV_MAX)]
CSV_RESPONSE = {200: {"description": "CSV (semikolon, UTF-8 med BOM) / CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}}


def limited(request: Request, settings: AppSettings, limiter: Annotated[AttemptLimiter, Depends(get_public_limiter)]) -> None:
    """Count the request against the client address's budget (429 with Retry-After when spent)."""
    limiter.hit(client_address(request, settings))


Limited = Depends(limited)


def _csv(content: bytes, name: str, next_cursor: str | None) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if next_cursor:  # more rows than one file holds: the next file starts here
        headers["X-Next-Cursor"] = next_cursor
    return Response(content, media_type=public.CSV_TYPE, headers=headers)


@router.get("/public/diary", response_model=Page[PublicDiaryEntry], dependencies=[Limited])
def public_diary(session: DbSession, date_from: From = None, date_to: To = None, cursor: Cursor = None,
                 limit: Limit = public.PAGE_DEFAULT) -> Page[PublicDiaryEntry]:
    """The public diarium, newest first: confidential entries show only reference, date and the OSL marker (no login)."""
    items, after = public.diary_page(session, date_from=date_from, date_to=date_to, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=after)


@router.get("/public/diary.csv", response_class=Response, responses=CSV_RESPONSE, dependencies=[Limited])
def public_diary_csv(session: DbSession, date_from: From = None, date_to: To = None, cursor: Cursor = None,
                     limit: CsvLimit = public.CSV_MAX) -> Response:
    """The public diarium as CSV (at most 1000 rows; `X-Next-Cursor` names where the next file starts)."""
    items, after = public.diary_page(session, date_from=date_from, date_to=date_to, cursor=cursor, limit=limit)
    return _csv(public.diary_csv(items), "offentligt-diarium.csv", after)


@router.get("/public/partnerships", response_model=Page[PublicPartnership], dependencies=[Limited])
def public_partnerships(session: DbSession, cursor: Cursor = None, limit: Limit = public.PAGE_DEFAULT) -> Page[PublicPartnership]:
    """The active partnerships (agreement in force): organisation, title, period, amount, department (no login)."""
    items, after = public.partnerships_page(session, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=after)


@router.get("/public/partnerships.csv", response_class=Response, responses=CSV_RESPONSE, dependencies=[Limited])
def public_partnerships_csv(session: DbSession, cursor: Cursor = None, limit: CsvLimit = public.CSV_MAX) -> Response:
    """The active partnerships as CSV (at most 1000 rows; `X-Next-Cursor` names where the next file starts)."""
    items, after = public.partnerships_page(session, cursor=cursor, limit=limit)
    return _csv(public.partnerships_csv(items), "aktiva-partnerskap.csv", after)
