"""Case endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from sqlalchemy import select

from service.cases import listing, repository, service
from service.cases.access import get_visible_case
from service.cases.models import Case, StageChange
from service.cases.schemas import AssignIn, CaseCreate, CompletionRequestIn, CaseOut, CasePatch, CaseSummary, StageChangeOut, TerminateIn, WithdrawIn
from service.cases.stages import Stage
from service.deps import AppSettings, Bearer, CurrentUser, DbSession, Principal, Reads
from service.errors import PreconditionRequired, ValidationFailed
from service.schemas import Id, NoControlChars, Page
from service.idempotency import IdempotencyKey

router = APIRouter(tags=["cases"])

IfMatch = Annotated[str | None, Header(alias="If-Match", description='Versionen från ETag, t.ex. "3"')]


def parse_if_match(value: str | None, *, required: bool) -> int | None:
    """Version number from an If-Match header ("3", W/"3" or 3)."""
    if value is None:
        if required:
            raise PreconditionRequired("Skicka If-Match med ärendets ETag / send If-Match with the case ETag")
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not (raw.isascii() and raw.isdigit()):  # isdigit() alone accepts "²", which int() refuses (a 500)
        raise ValidationFailed("Ogiltigt If-Match-värde / invalid If-Match", errors=[{"field": "If-Match", "message": "must be a version number"}])
    return int(raw)


def etag(version: int) -> str:
    """The ETag of a case version (If-Match sends it back)."""
    return f'"{version}"'


def with_etag(response: Response, case: Case) -> Case:
    """Expose the optimistic-lock version as ETag."""
    response.headers["ETag"] = etag(case.version)
    return case


@router.get("/cases", response_model=Page[CaseSummary])
async def list_cases(
    token: Bearer,
    reads: Reads,
    settings: AppSettings,
    stage: Annotated[list[Stage] | None, Query()] = None,
    department_id: Id | None = None,
    organisation_id: Id | None = None,
    officer_id: Id | None = None,
    overdue: bool | None = None,
    q: Annotated[str | None, Query(max_length=listing.TEXT_MAX, description="Del av titel eller diarienummer"), NoControlChars] = None,
    sort: Annotated[str, Query(description=f"{', '.join(listing.SORTS)}; prefix - for descending (ties broken by id)")] = listing.DEFAULT_SORT,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    organisation_q: Annotated[str | None, Query(max_length=listing.TEXT_MAX, description=(
        "Del av organisationens namn eller organisationsnummer (skiftlägesokänsligt, med eller utan bindestreck)")),
        NoControlChars] = None,
    mine: Annotated[bool | None, Query(description="true: ärenden där jag är handläggare; false: övriga")] = None,
    unassigned: Annotated[bool | None, Query(description="true: ingen handläggare utsedd; false: handläggare utsedd")] = None,
    submitted_year: Annotated[int | None, Query(ge=listing.YEAR_MIN, le=listing.YEAR_MAX, description="Året ärendet skickades in")] = None,
) -> Response:
    """Cases the user may see, filtered and paginated by cursor."""
    # A busy read: Core rows on the read path, no ORM session (service/reads.py, bench/).
    user = Principal.from_row(await reads.first(repository.READER_BY_ID, {"user_id": token.user_id}), token)
    f = listing.CaseFilter(stage=stage, department_id=department_id, organisation_id=organisation_id, officer_id=officer_id, overdue=overdue,
                           q=q, organisation_q=organisation_q, mine=mine, unassigned=unassigned, submitted_year=submitted_year)
    limit = min(limit, settings.page_size_max)
    stmt, field = repository.summaries_statement(user, f, sort=sort, cursor=cursor, limit=limit)
    return Response(repository.summaries_json(await reads.all(stmt), limit, field), media_type="application/json")


@router.post("/cases", response_model=CaseOut, status_code=201)
def create_case(data: CaseCreate, session: DbSession, user: CurrentUser, response: Response, idem: IdempotencyKey) -> object:
    """Start a draft proposal (send an Idempotency-Key to make a retry safe)."""
    created: list[Case] = []

    def create() -> Case:
        created.append(service.create(session, user, data))
        return created[0]

    result = idem.run(session, user.id, data, CaseOut, create)
    if created:
        response.headers["Location"] = f"/api/v1/cases/{created[0].id}"
        with_etag(response, created[0])
    return result


@router.get("/cases/{case_id}", response_model=CaseOut)
async def get_case(case_id: Id, token: Bearer, reads: Reads) -> Response:
    """One case (404 when missing or not visible)."""
    # The busiest read: one query for user and case, no ORM session or thread-pool hop (service/reads.py, bench/).
    case = repository.case_for_reader(await reads.first(repository.CASE_FOR_READER, {"case_id": case_id, "user_id": token.user_id}), token)
    return Response(case.model_dump_json(), media_type="application/json", headers={"ETag": etag(case.version)})


@router.patch("/cases/{case_id}", response_model=CaseOut)
def update_case(case_id: Id, data: CasePatch, session: DbSession, user: CurrentUser, response: Response, if_match: IfMatch = None) -> Case:
    """Edit content; requires If-Match (409 when stale)."""
    case = get_visible_case(session, user, case_id)
    version = parse_if_match(if_match, required=True)
    return with_etag(response, service.update_content(session, user, case, data, version))


@router.post("/cases/{case_id}/submit", response_model=CaseOut)
def submit_case(case_id: Id, session: DbSession, user: CurrentUser, settings: AppSettings, response: Response, if_match: IfMatch = None) -> Case:
    """Submit the draft (assigns diarienummer) or resubmit after requested changes."""
    case = get_visible_case(session, user, case_id)
    return with_etag(response, service.submit(session, user, case, settings, parse_if_match(if_match, required=False)))


@router.post("/cases/{case_id}/withdraw", response_model=CaseOut)
def withdraw_case(case_id: Id, data: WithdrawIn, session: DbSession, user: CurrentUser, response: Response, if_match: IfMatch = None) -> Case:
    """The organisation withdraws the case."""
    case = get_visible_case(session, user, case_id)
    return with_etag(response, service.withdraw(session, user, case, data.reason, parse_if_match(if_match, required=False)))


@router.post("/cases/{case_id}/request-completion", response_model=CaseOut)
def request_completion(case_id: Id, data: CompletionRequestIn, session: DbSession, user: CurrentUser, response: Response,
                       if_match: IfMatch = None) -> Case:
    """The case's officer asks the organisation to complete the case (reopened for its changes; the organisation is told)."""
    case = get_visible_case(session, user, case_id)
    return with_etag(response, service.request_completion(session, user, case, data.message, parse_if_match(if_match, required=False)))


@router.post("/cases/{case_id}/assign", response_model=CaseOut)
def assign_case(case_id: Id, data: AssignIn, session: DbSession, user: CurrentUser, response: Response, if_match: IfMatch = None) -> Case:
    """Assign a handläggare."""
    case = get_visible_case(session, user, case_id)
    return with_etag(response, service.assign_officer(session, user, case, data.officer_id, parse_if_match(if_match, required=False)))


@router.post("/cases/{case_id}/terminate", response_model=CaseOut)
def terminate_case(case_id: Id, data: TerminateIn, session: DbSession, user: CurrentUser, response: Response, if_match: IfMatch = None) -> Case:
    """An approver ends a partnership in follow-up early, with a reason."""
    case = get_visible_case(session, user, case_id)
    return with_etag(response, service.terminate(session, user, case, data.reason, parse_if_match(if_match, required=False)))


@router.get("/cases/{case_id}/stages", response_model=list[StageChangeOut])
def stage_history(case_id: Id, session: DbSession, user: CurrentUser) -> list[StageChange]:
    """When the case entered each stage."""
    get_visible_case(session, user, case_id)
    return list(session.scalars(select(StageChange).where(StageChange.case_id == case_id).order_by(StageChange.at, StageChange.id)))
