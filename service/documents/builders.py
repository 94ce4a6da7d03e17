"""Build render contexts from the database (the templates never see ORM objects)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement, Signature
from service.agreements.schemas import AgreementTerms
from service.cases.models import Case
from service.dialogue.models import DialogueMeeting
from service.documents import contexts as ctx
from service.documents.models import DocumentKind
from service.errors import Conflict
from service.followup.models import FollowUpReport
from service.reviews.models import Review, ReviewStatus

DECISION_OUTCOME = {ReviewStatus.APPROVED: "approve", ReviewStatus.REJECTED: "reject", ReviewStatus.CHANGES_REQUESTED: "changes_requested"}


def _authority(case: Case) -> ctx.Authority:
    return ctx.Authority(municipality=case.department.municipality, department=case.department.name)


def _case_ref(case: Case) -> ctx.CaseRef:
    if not case.diarienummer:
        raise Conflict("Ärendet har inget diarienummer ännu / case not registered yet")
    return ctx.CaseRef(diarienummer=case.diarienummer, title=case.title)


def _organisation(case: Case) -> ctx.Organisation:
    org = case.organisation
    address = ", ".join(p for p in (org.street_address, f"{org.postal_code} {org.city}".strip()) if p)
    return ctx.Organisation(name=org.name, orgnr=org.orgnr, address=address or None)


def _officer(case: Case) -> ctx.Contact | None:
    o = case.officer
    return ctx.Contact(name=o.full_name, title=o.title, email=o.email) if o else None


def agreement(session: Session, case: Case, today: date) -> ctx.AgreementContext:
    """The IOP agreement from the stored, validated terms."""
    row = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    if row is None:
        raise Conflict("Avtalsvillkoren saknas / agreement terms missing", errors=[{"field": "agreement", "message": "missing"}])
    t = AgreementTerms.model_validate(row.terms)
    signed = {s.party: s for s in session.scalars(select(Signature).where(Signature.case_id == case.id))}

    def party(p, key: str) -> ctx.Party:  # noqa: ANN001
        sig = signed.get(key)
        return ctx.Party(name=p.name, orgnr=p.orgnr, signatory=ctx.Signatory(name=p.signatory_name, role=p.signatory_role,
                                                                             signed_on=sig.signed_on if sig else None))

    names = {"public": t.public_party.name, "organisation": t.organisation_party.name}
    return ctx.AgreementContext(
        authority=_authority(case), case=_case_ref(case), document_date=today,
        public_party=party(t.public_party, "public"), organisation=party(t.organisation_party, "organisation"),
        background=t.background, purpose=t.purpose, goals=list(t.goals), target_group=t.target_group, activities=t.activities,
        contributions=[ctx.Contribution(party=names[c.party], kind="Ekonomiskt bidrag" if c.kind == "money" else "Insats i natura",
                                        description=c.description, amount=c.amount_sek, extent=c.extent or None) for c in t.contributions],
        funding_amount=t.funding_amount_sek,
        instalments=[ctx.Instalment(due_date=i.due_on, amount=i.amount_sek) for i in t.instalments],
        period_start=t.period_start, period_end=t.period_end, extension_terms=t.extension_terms,
        notice_period_months=t.notice_period_months, steering_group=t.governance,
        reports=[ctx.ReportDue(due_date=r.due_on, description=r.description) for r in t.followup_schedule],
        changes_notes=t.changes_clause, termination_notes=f"{t.termination_clause}\n\n{t.disputes_clause}",
    )


def decision(session: Session, case: Case, today: date) -> ctx.DecisionContext:
    """The decision document for the case's latest decided review."""
    review = session.scalar(
        select(Review).where(Review.case_id == case.id, Review.status.in_(list(DECISION_OUTCOME))).order_by(Review.decided_at.desc(), Review.id.desc()).limit(1)
    )
    if review is None:
        raise Conflict("Inget beslut är fattat i ärendet / no decision made yet")
    from service.auth.models import User

    maker = session.get(User, review.decided_by_id)
    return ctx.DecisionContext(
        authority=_authority(case), case=_case_ref(case), document_date=today,
        decision_date=review.decided_at.date(),
        decision_maker=ctx.DecisionMaker(name=maker.full_name, title=maker.title or "Beslutsfattare",
                                         delegation_reference=f"Delegation upp till {maker.delegated_limit_sek or 0} kr"),
        organisation=_organisation(case), outcome=DECISION_OUTCOME[review.status],
        motivation=review.motivation or "Ärendet uppfyller villkoren för steget.",
        from_stage=review.from_stage, to_stage=review.to_stage, amount=case.requested_amount_sek or None,
        appeal_court=ctx.Court(name="Förvaltningsrätten", address="Se kommunens anslagstavla för adress"),
        officer=_officer(case),
    )


def dialogue_minutes(session: Session, case: Case, today: date) -> ctx.DialogueMinutesContext:
    """Minutes of the latest dialogue meeting."""
    m = session.scalar(select(DialogueMeeting).where(DialogueMeeting.case_id == case.id).order_by(DialogueMeeting.held_on.desc(), DialogueMeeting.id.desc()).limit(1))
    if m is None:
        raise Conflict("Inget dialogmöte är registrerat / no dialogue meeting recorded")
    return ctx.DialogueMinutesContext(
        authority=_authority(case), case=_case_ref(case), document_date=today, organisation=_organisation(case),
        meeting_date=m.held_on, place=m.place or "Ej angiven", participants=[ctx.Participant(**p) for p in m.participants],
        notes=m.notes or "Inga anteckningar.", next_steps=m.next_steps or [],
    )


def followup_request(session: Session, case: Case, today: date) -> ctx.FollowUpRequestContext:
    """Request for the next follow-up report not yet approved."""
    r = session.scalar(select(FollowUpReport).where(FollowUpReport.case_id == case.id, FollowUpReport.submitted_at.is_(None)).order_by(FollowUpReport.due_on).limit(1))
    if r is None:
        raise Conflict("Ingen uppföljningsrapport väntar / no follow-up report pending")
    return ctx.FollowUpRequestContext(
        authority=_authority(case), case=_case_ref(case), document_date=today, organisation=_organisation(case),
        period_start=r.period_start, period_end=r.period_end, due_date=r.due_on, is_final=r.is_final, officer=_officer(case),
    )


BUILDERS = {
    DocumentKind.AGREEMENT: agreement,
    DocumentKind.DECISION: decision,
    DocumentKind.DIALOGUE_MINUTES: dialogue_minutes,
    DocumentKind.FOLLOWUP_REQUEST: followup_request,
}
FILENAMES = {
    DocumentKind.AGREEMENT: "iop-avtal",
    DocumentKind.DECISION: "beslut",
    DocumentKind.DIALOGUE_MINUTES: "dialogmote-protokoll",
    DocumentKind.FOLLOWUP_REQUEST: "begaran-uppfoljning",
}
