"""Agreement terms and signatures."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import select

from service.agreements import completeness, service
from service.agreements.models import Agreement, Signature
from service.agreements.schemas import AgreementDraft, AgreementOut, AgreementTerms, SignatureIn, SignatureOut
from service.cases.access import get_visible_case
from service.cases.router import IfMatch, etag, parse_if_match
from service.deps import CurrentUser, DbSession
from service.errors import NotFound
from service.schemas import Id
from service.idempotency import IdempotencyKey

router = APIRouter(tags=["agreements"])


@router.put("/cases/{case_id}/agreement", response_model=AgreementOut)
def put_terms(case_id: Id, terms: AgreementTerms, session: DbSession, user: CurrentUser, response: Response,
              if_match: IfMatch = None) -> AgreementOut:
    """The officer writes the complete, validated agreement terms (If-Match: the ETag read, "0" for none yet; 409 when stale).

    Half-filled terms are saved with PATCH as a draft."""
    agreement = service.save_terms(session, user, get_visible_case(session, user, case_id), terms, parse_if_match(if_match, required=False))
    response.headers["ETag"] = etag(agreement.version)
    return completeness.report(agreement)


@router.patch("/cases/{case_id}/agreement", response_model=AgreementOut)
def patch_terms(case_id: Id, draft: AgreementDraft, session: DbSession, user: CurrentUser, response: Response,
                if_match: IfMatch = None, ready: bool = False) -> AgreementOut:
    """Save the terms as a draft: a JSON merge patch (left out: kept, null: emptied), only the format of what is given checked.

    The answer lists what is still `missing` (by Swedish label) and each section's progress. `ready=true` marks the terms
    complete: 422 listing every missing item unless they are, and then nothing is saved. If-Match as for PUT."""
    case = get_visible_case(session, user, case_id)
    agreement = service.save_draft(session, user, case, draft.model_dump(mode="json", exclude_unset=True),
                                   parse_if_match(if_match, required=False), ready=ready)
    response.headers["ETag"] = etag(agreement.version)
    return completeness.report(agreement)


@router.get("/cases/{case_id}/agreement", response_model=AgreementOut)
def get_terms(case_id: Id, session: DbSession, user: CurrentUser, response: Response) -> AgreementOut:
    """The agreement terms of a case, with their version as ETag."""
    case = get_visible_case(session, user, case_id)
    agreement = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    if agreement is None:
        raise NotFound("Inga avtalsvillkor ännu / no agreement terms yet")
    response.headers["ETag"] = etag(agreement.version)
    return completeness.report(agreement)


@router.post("/cases/{case_id}/signatures", response_model=SignatureOut, status_code=201)
def add_signature(case_id: Id, data: SignatureIn, session: DbSession, user: CurrentUser, idem: IdempotencyKey) -> object:
    """Record a party's signature (officer records both; the organisation may record its own)."""
    case = get_visible_case(session, user, case_id)
    return idem.run(session, user.id, data, SignatureOut, lambda: service.add_signature(session, user, case, data))


@router.put("/cases/{case_id}/signatures/{signature_id}", response_model=SignatureOut)
def correct_signature(case_id: Id, signature_id: Id, data: SignatureIn, session: DbSession, user: CurrentUser) -> Signature:
    """Correct a recorded signature before the agreement enters into force (same party; the date and evidence checked again)."""
    case = get_visible_case(session, user, case_id)
    return service.correct_signature(session, user, case, signature_id, data)


@router.delete("/cases/{case_id}/signatures/{signature_id}", status_code=204)
def remove_signature(case_id: Id, signature_id: Id, session: DbSession, user: CurrentUser) -> Response:
    """Remove a recorded signature before the agreement enters into force."""
    case = get_visible_case(session, user, case_id)
    service.remove_signature(session, user, case, signature_id)
    return Response(status_code=204)


@router.get("/cases/{case_id}/signatures", response_model=list[SignatureOut])
def list_signatures(case_id: Id, session: DbSession, user: CurrentUser) -> list[Signature]:
    """Recorded signatures."""
    case = get_visible_case(session, user, case_id)
    return list(session.scalars(select(Signature).where(Signature.case_id == case.id).order_by(Signature.id)))
