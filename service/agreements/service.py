"""Agreement use cases: save the terms (as a draft or complete), record, correct or remove a party's signature (shared by the API and the web pages)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements import completeness, evidence, goals
from service.agreements.models import Agreement, Party, Signature
from service.agreements.schemas import STANDARD_CLAUSES, AgreementDraft, AgreementTerms, SignatureIn
from service.audit.service import digest, record
from service.auth.models import Role, User
from service.cases.access import ensure_case_officer, ensure_stage
from service.cases.models import Case
from service.cases.service import has_pending_review
from service.cases.stages import Stage
from service.config import get_settings
from service.errors import Conflict, Forbidden, NotFound, StaleVersion, ValidationFailed
from service.schemas import MAX_ID


def _terms_audit(terms: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the chain keeps of the terms: amounts, dates and counts, and a digest of the whole.

    The terms name the parties' signatories and hold free text; the append-only chain must not (GDPR erasure).
    """
    if not terms:
        return None
    return {
        "funding_amount_sek": terms.get("funding_amount_sek"),
        "period_start": terms.get("period_start"),
        "period_end": terms.get("period_end"),
        "instalments": len(terms.get("instalments") or []),
        "contributions": len(terms.get("contributions") or []),
        "followup_reports": len(terms.get("followup_schedule") or []),
        "goals": len(terms.get("goals") or []),
        "indicators": sum(len(g.get("indicators") or []) for g in terms.get("goals") or [] if isinstance(g, dict)),
        "terms_sha256": digest(terms),
    }


def _ensure_case_organisation(case: Case, party: Mapping[str, Any] | None) -> None:
    """The organisation party is the case's organisation, as registered (its signatories may be anyone it names).

    Checked on what is filled in, so a draft without the organisation's name or number yet is not refused for it.
    """
    org = case.organisation
    party = party or {}
    errors = []
    if party.get("orgnr") and party["orgnr"] != org.orgnr:
        errors.append({"field": "organisation_party.orgnr",
                       "message": f"Organisationsnumret måste vara ärendets organisations ({org.orgnr}) / must be the case's organisation"})
    if party.get("name") and " ".join(str(party["name"]).split()).casefold() != " ".join(org.name.split()).casefold():
        errors.append({"field": "organisation_party.name",
                       "message": f"Namnet måste vara ärendets organisations ({org.name}) / must be the case's organisation"})
    if errors:
        raise ValidationFailed(errors=errors)


def ensure_fresh(current_version: int | None, expected: int | None, what: str = "Avtalsvillkoren / the agreement terms") -> None:
    """409 when the editor started from another version than is stored (0: from no saved version at all)."""
    if expected is not None and expected != (current_version or 0):
        raise StaleVersion(f"{what} har sparats av någon annan sedan du öppnade dem (version {current_version or 0}, du hade {expected}) "
                           f"/ saved by someone else meanwhile", current_version=current_version or 0)


def _editable_agreement(session: Session, user: User, case: Case, expected_version: int | None) -> Agreement | None:
    """The stored terms the case officer may still change (until a party has signed), checked against the version read."""
    ensure_case_officer(user, case)
    ensure_stage(case, Stage.DIALOGUE, Stage.AGREEMENT)
    if has_pending_review(session, case.id):
        raise Conflict("Ärendet granskas och är låst / case is locked while under review")
    if session.scalar(select(Signature.id).where(Signature.case_id == case.id)):
        raise Conflict("Avtalet är undertecknat; ändringar kräver ett tilläggsavtal / agreement already signed")
    agreement = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    ensure_fresh(agreement.version if agreement else None, expected_version)
    return agreement


def _store(session: Session, user: User, case: Case, agreement: Agreement | None, terms: dict[str, Any]) -> Agreement:
    """Write the terms (complete or a draft) and their audit event."""
    before = dict(agreement.terms) if agreement else None
    if agreement is None:
        agreement = Agreement(case_id=case.id)
        session.add(agreement)
    agreement.terms = terms
    agreement.funding_amount_sek = terms.get("funding_amount_sek") or 0
    agreement.period_start = date.fromisoformat(terms["period_start"]) if terms.get("period_start") else None
    agreement.period_end = date.fromisoformat(terms["period_end"]) if terms.get("period_end") else None
    agreement.updated_by_id = user.id
    session.flush()
    complete = completeness.is_complete(terms)
    goals.sync(session, case.id, terms, complete=complete)
    changed = sorted(k for k in {*agreement.terms, *(before or {})} if (before or {}).get(k) != agreement.terms.get(k))
    after = {"agreement_id": agreement.id, "changed": changed, "complete": complete, **(_terms_audit(agreement.terms) or {})}
    if before is not None and (before.get("funding_amount_sek") or 0) != (terms.get("funding_amount_sek") or 0):
        # Named on its own: the next decision, the delegation gate and de minimis all turn on this figure.
        after["funding_changed"] = {"from": before.get("funding_amount_sek"), "to": terms.get("funding_amount_sek"), "stage": case.stage}
    record(session, actor=user, action="agreement.terms_saved", case_id=case.id, before=_terms_audit(before), after=after)
    return agreement


def save_terms(session: Session, user: User, case: Case, terms: AgreementTerms, expected_version: int | None = None) -> Agreement:
    """The case officer writes the complete, validated agreement terms, replacing what is stored (until a party has signed)."""
    agreement = _editable_agreement(session, user, case, expected_version)
    _ensure_case_organisation(case, terms.organisation_party.model_dump())
    return _store(session, user, case, agreement, terms.model_dump(mode="json"))


def merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7396: objects merge field by field, null removes a field, anything else (lists too) replaces it."""
    out = dict(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_patch(out[key], value)
        elif isinstance(value, Mapping):
            out[key] = merge_patch({}, value)
        else:
            out[key] = value
    return out


def save_draft(session: Session, user: User, case: Case, changes: Mapping[str, Any], expected_version: int | None = None, *,
               ready: bool = False) -> Agreement:
    """Save the terms as far as they are filled in: `changes` (a merge patch, see AgreementDraft) onto the stored terms.

    Only the format of what is given is checked (a date is a date, the organisation is the case's). With `ready` the officer
    marks the terms complete: unless the result is complete (completeness), nothing is saved and every missing item is listed.
    New terms start from the standard clauses.
    """
    agreement = _editable_agreement(session, user, case, expected_version)
    merged = merge_patch(agreement.terms if agreement else STANDARD_CLAUSES, changes)
    try:
        draft = AgreementDraft.model_validate(merged)
    except PydanticValidationError as exc:
        raise ValidationFailed(errors=[{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]) from exc
    terms = draft.model_dump(mode="json", exclude_none=True)
    _ensure_case_organisation(case, terms.get("organisation_party"))
    if ready:
        completeness.ensure_complete(terms)
        terms = AgreementTerms.model_validate(terms).model_dump(mode="json")
    return _store(session, user, case, agreement, terms)


def signing_parties(user: User) -> tuple[Party, ...]:
    """The parties whose signatures this user records, corrects and removes: an organisation member its own, an officer both."""
    return (Party.ORGANISATION,) if user.role == Role.ORG_MEMBER else (Party.PUBLIC, Party.ORGANISATION)


def add_signature(session: Session, user: User, case: Case, data: SignatureIn, today: date | None = None) -> Signature:
    """Record a party's signature (the officer records both; the organisation may record its own)."""
    if user.role == Role.ORG_MEMBER:
        if data.party not in signing_parties(user):
            raise Forbidden("Organisationen registrerar bara sin egen underskrift / only your own party")
    else:
        ensure_case_officer(user, case)
    ensure_stage(case, Stage.AGREEMENT)
    if session.scalar(select(Agreement.id).where(Agreement.case_id == case.id)) is None:
        raise Conflict("Avtalsvillkoren saknas / agreement terms missing")
    today = today or datetime.now(ZoneInfo(get_settings().timezone)).date()
    evidence.ensure_evidence(session, case, document_id=data.document_id, method=data.method, signed_on=data.signed_on, today=today)
    if session.scalar(select(Signature.id).where(Signature.case_id == case.id, Signature.party == data.party)):
        raise Conflict("Parten har redan skrivit under / party already signed")
    sig = Signature(case_id=case.id, recorded_by_id=user.id, **data.model_dump())
    session.add(sig)
    session.flush()
    # The signatory's name and role stay in the signature row (a public record); the chain gets ids and dates only.
    record(session, actor=user, action="agreement.signed", case_id=case.id,
           after={"signature_id": sig.id, "party": data.party, "signed_on": data.signed_on, "method": data.method,
                  "document_id": data.document_id})
    return sig


def _signature_audit(sig: Signature) -> dict[str, Any]:
    """What the chain keeps of a signature: ids, party, date and method (the signatory's name stays in the row)."""
    return {"signature_id": sig.id, "party": sig.party, "signed_on": sig.signed_on, "method": sig.method, "document_id": sig.document_id}


def _changeable_signature(session: Session, user: User, case: Case, signature_id: int) -> Signature:
    """A signature this user may still correct or remove: before the agreement enters into force, not while a decision is pending."""
    sig = session.get(Signature, signature_id) if 0 < signature_id <= MAX_ID else None
    if sig is None or sig.case_id != case.id:
        raise NotFound("Underskriften finns inte / signature not found")
    if user.role == Role.ORG_MEMBER:
        if sig.party not in signing_parties(user):
            raise Forbidden("Organisationen ändrar bara sin egen underskrift / only your own party's signature")
    else:
        ensure_case_officer(user, case)
    if evidence.e_signed_in_pdf(session, sig):
        raise Conflict("Underskriften är gjord elektroniskt i avtalets PDF och kan inte rättas eller tas bort "
                       "/ an electronic signature in the agreement's PDF cannot be corrected or removed", signature_id=sig.id)
    # In force from the approval into follow-up; the signatures are what that decision rested on.
    ensure_stage(case, Stage.AGREEMENT)
    if has_pending_review(session, case.id):
        raise Conflict("Ett beslut om avtalet väntar; underskrifterna kan inte ändras nu / a decision is pending; signatures are locked")
    return sig


def correct_signature(session: Session, user: User, case: Case, signature_id: int, data: SignatureIn, today: date | None = None) -> Signature:
    """Correct a recorded signature (name, role, date, method, evidence) under the same rules as recording it; audited."""
    sig = _changeable_signature(session, user, case, signature_id)
    if data.party != sig.party:
        raise ValidationFailed(errors=[{"field": "party", "message": "Parten kan inte ändras; ta bort underskriften och registrera den på nytt "
                                        "/ the party cannot change; remove the signature and record it again"}])
    today = today or datetime.now(ZoneInfo(get_settings().timezone)).date()
    evidence.ensure_evidence(session, case, document_id=data.document_id, method=data.method, signed_on=data.signed_on, today=today)
    before = _signature_audit(sig)
    names_changed = (data.name, data.role) != (sig.name, sig.role)
    for k, v in data.model_dump(exclude={"party"}).items():
        setattr(sig, k, v)
    sig.recorded_by_id = user.id
    session.flush()
    record(session, actor=user, action="agreement.signature_corrected", case_id=case.id, before=before,
           after={**_signature_audit(sig), "signatory_changed": names_changed})
    return sig


def remove_signature(session: Session, user: User, case: Case, signature_id: int) -> None:
    """Remove a recorded signature (wrong party, recorded by mistake); audited, the row goes."""
    sig = _changeable_signature(session, user, case, signature_id)
    before = _signature_audit(sig)
    session.delete(sig)
    session.flush()
    record(session, actor=user, action="agreement.signature_removed", case_id=case.id, before=before)
