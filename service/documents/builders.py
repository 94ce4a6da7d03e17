"""Build render contexts from the database (the templates never see ORM objects)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements import amounts, completeness, goals
from service.agreements.models import Agreement
from service.agreements.schemas import AgreementTerms, PartyTerms
from service.audit.models import AuditEvent
from service.auth.models import User
from service.cases.models import Case
from service.cases.stages import Stage
from service.config import Settings, get_settings
from service.dialogue.models import DialogueMeeting
from service.documents import contexts as ctx
from service.documents.models import DocumentKind
from service.errors import Conflict
from service.followup import indicators
from service.followup.models import RATING_LABELS, Assessment, FollowUpReport
from service.reviews.models import Review, ReviewStatus

ASSESSMENT_LABELS = {Assessment.APPROVED: "Godkänd", Assessment.NEEDS_COMPLETION: "Komplettering begärd"}
DECISION_OUTCOME = {ReviewStatus.APPROVED: "approve", ReviewStatus.REJECTED: "reject", ReviewStatus.CHANGES_REQUESTED: "changes_requested"}


def _authority(case: Case) -> ctx.Authority:
    return ctx.Authority(municipality=case.department.municipality, department=case.department.name)


def _case_ref(case: Case) -> ctx.CaseRef:
    if not case.diarienummer:
        raise Conflict("Ärendet har inget diarienummer ännu / case not registered yet")
    return ctx.CaseRef(diarienummer=case.diarienummer, title=case.title)


def _organisation(case: Case) -> ctx.Organisation:
    org = case.organisation
    address = ", ".join(p for p in (org.street_address, " ".join(x for x in (org.postal_code, org.city) if x)) if p)
    return ctx.Organisation(name=org.name, orgnr=org.orgnr, address=address or None)


def _officer(case: Case) -> ctx.Contact | None:
    o = case.officer
    return ctx.Contact(name=o.full_name, title=o.title, email=o.email) if o else None


def _signatories(p: PartyTerms) -> list[ctx.Signatory]:
    # No signing dates: this is the document to be signed, and a printed date under an empty line reads as signed.
    people = [ctx.Signatory(name=p.signatory_name, role=p.signatory_role)]
    if p.second_signatory is not None:
        people.append(ctx.Signatory(name=p.second_signatory.name, role=p.second_signatory.role))
    return people


def _unless_default(terms: AgreementTerms, *fields: str) -> str | None:
    """The clauses the parties wrote themselves; the shipped defaults are already the template's standard text."""
    own = [getattr(terms, f) for f in fields if getattr(terms, f) != AgreementTerms.model_fields[f].default]
    return "\n\n".join(own) or None


def _indicator_lines(t: AgreementTerms, report_due: date | None = None) -> list[ctx.IndicatorLine]:
    """The goals' indicators as printed (those reported in the report due ``report_due``, or all)."""
    every = sorted(r.due_on for r in t.followup_schedule)
    lines = []
    for goal in t.goals:
        for ind in goal.indicators:
            periods = ind.periods or every
            if report_due is not None and report_due not in periods:
                continue
            lines.append(ctx.IndicatorLine(
                goal=goal.title, name=ind.name, unit=goals.UNIT_LABELS[ind.unit], baseline=goals.format_value(ind.unit, ind.baseline)
                if ind.baseline is not None else "", target=goals.format_value(ind.unit, ind.target), how_measured=ind.how_measured,
                periods="alla rapporter" if not ind.periods else ", ".join(d.isoformat() for d in periods)))
    return lines


def agreement(session: Session, case: Case, today: date, settings: Settings | None = None) -> ctx.AgreementContext:
    """The IOP agreement from the stored, validated terms; the organisation party is the case's organisation."""
    row = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    if row is None:
        raise Conflict("Avtalsvillkoren saknas / agreement terms missing", errors=[{"field": "agreement", "message": "missing"}])
    completeness.ensure_complete(row.terms, stored=True)  # a draft is not yet an agreement anyone can sign
    t = AgreementTerms.model_validate(row.terms)
    org = _organisation(case)
    public = ctx.Party(name=t.public_party.name, orgnr=t.public_party.orgnr, signatories=_signatories(t.public_party))
    organisation = ctx.Party(name=org.name, orgnr=org.orgnr, address=org.address, signatories=_signatories(t.organisation_party))
    names = {"public": public.name, "organisation": organisation.name}
    return ctx.AgreementContext(
        authority=_authority(case), case=_case_ref(case), document_date=today,
        public_party=public, organisation=organisation,
        background=t.background, purpose=t.purpose, goals=[g.title for g in t.goals], indicators=_indicator_lines(t),
        target_group=t.target_group, activities=t.activities,
        contributions=[ctx.Contribution(party=names[c.party], kind="Ekonomiskt bidrag" if c.kind == "money" else "Insats i natura",
                                        description=c.description, amount=c.amount_sek, extent=c.extent or None) for c in t.contributions],
        funding_amount=t.funding_amount_sek,
        instalments=[ctx.Instalment(due_date=i.due_on, amount=i.amount_sek) for i in t.instalments],
        period_start=t.period_start, period_end=t.period_end, extension_terms=t.extension_terms,
        notice_period_months=t.notice_period_months, steering_group=t.governance,
        reports=[ctx.ReportDue(due_date=r.due_on, description=r.description) for r in t.followup_schedule],
        # The local överenskommelse (a municipality's own text on the principles), printed under §10.
        values_notes=_unless_default(t, "principles"), joined_local_agreement_on=case.organisation.joined_overenskommelse_on,
        changes_notes=_unless_default(t, "changes_clause"),
        termination_notes=_unless_default(t, "termination_clause", "disputes_clause"),
        state_aid_basis=_state_aid_basis(session, case, today, settings),
    )


def _state_aid_basis(session: Session, case: Case, today: date, settings: Settings | None) -> str:
    """The statsstöd clause: the other legal basis the officer recorded, or de minimis with the sum it was checked on."""
    from service.config import get_settings
    from service.dialogue import deminimis
    from service.dialogue.models import SuitabilityAssessment

    other = session.scalar(select(SuitabilityAssessment.state_aid_other_basis).where(SuitabilityAssessment.case_id == case.id))
    if other and other.strip():
        return other.strip()
    s = settings or get_settings()
    result = deminimis.compute(session, case, sek_per_eur=s.sek_per_eur, ceiling_eur=s.de_minimis_eur, today=today)
    total = f"{result.total_eur:,.0f}".replace(",", " ")
    ceiling = f"{result.ceiling_eur:,}".replace(",", " ")
    return (f"Stödet lämnas som stöd av mindre betydelse (de minimis) enligt kommissionens förordning (EU) 2023/2831. "
            f"Organisationens sammanlagda stöd av mindre betydelse under de senaste tre åren, detta stöd inräknat, uppgår till "
            f"{total} euro (tak {ceiling} euro), beräknat {result.window_start.isoformat()} – {result.window_end.isoformat()}.")


# Laglighetsprövning (13 kap. kommunallagen) is open against a final decision. Approving the steps into dialogue and
# into the agreement stage only prepares the matter (13 kap. 2 §: beredande), as does an återremiss; the approval that
# puts the agreement and its funding into force, a rejection and a termination are final. One table, read here only.
APPEALABLE_APPROVALS = frozenset({Stage.FOLLOW_UP})


def appealable(outcome: str, to_stage: str) -> bool:
    """Whether a decision can be appealed (gets the appeal page)."""
    if outcome == "approve":
        return to_stage in APPEALABLE_APPROVALS
    return outcome in ("reject", "terminate")


def _decided_amount(session: Session, case: Case) -> tuple[int | None, str]:
    """What the decision is about: the amount the delegation check used (agreements.amounts), and what it is."""
    agreement = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    amount = amounts.amount_of(case, agreement)
    label = "Överenskommen finansiering" if agreement is not None and agreement.funding_amount_sek else "Ansökt belopp"
    return (amount or None), label


def _court(case: Case, settings: Settings) -> ctx.Court:
    conf = settings.appeal_courts.get(case.department.municipality)
    if conf is None:
        raise Conflict(f"Ingen förvaltningsrätt är konfigurerad för {case.department.municipality} (IOP_APPEAL_COURTS) / "
                       "no administrative court configured for the municipality",
                       errors=[{"field": "appeal_courts", "message": case.department.municipality}])
    return ctx.Court(name=conf.court, address=conf.address, email=conf.email)


def latest_review(session: Session, case: Case) -> Review | None:
    """The case's most recently decided review."""
    return session.scalar(select(Review).where(Review.case_id == case.id, Review.status.in_(list(DECISION_OUTCOME)))
                          .order_by(Review.decided_at.desc(), Review.id.desc()).limit(1))


def termination_event(session: Session, case: Case) -> AuditEvent | None:
    """The audit event of the case's termination (who and when), if it was terminated."""
    return session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.action == "case.terminated")
                          .order_by(AuditEvent.id.desc()).limit(1))


def decision(session: Session, case: Case, today: date, settings: Settings | None = None, review: Review | None = None) -> ctx.DecisionContext:
    """The decision document of ``review`` (default: the case's latest decision, a termination included)."""
    settings = settings or get_settings()
    if review is None and case.terminated and (event := termination_event(session, case)) is not None:
        maker, decided_at, outcome = session.get(User, event.actor_id), event.at, "terminate"
        from_stage, to_stage, motivation = Stage.FOLLOW_UP, Stage.CLOSED, case.close_reason
    else:
        review = review or latest_review(session, case)
        if review is None or review.status not in DECISION_OUTCOME:
            raise Conflict("Inget beslut är fattat i ärendet / no decision made yet")
        maker, decided_at, outcome = session.get(User, review.decided_by_id), review.decided_at, DECISION_OUTCOME[review.status]
        from_stage, to_stage, motivation = review.from_stage, review.to_stage, review.motivation
    can_appeal = appealable(outcome, to_stage)
    amount, amount_label = _decided_amount(session, case)
    court = settings.appeal_courts.get(case.department.municipality)
    return ctx.DecisionContext(
        authority=_authority(case), case=_case_ref(case), document_date=today,
        decision_date=decided_at.astimezone(ZoneInfo(settings.timezone)).date(),
        decision_maker=ctx.DecisionMaker(name=maker.full_name, title=maker.title or "Beslutsfattare",
                                         delegation_reference=maker.delegation_reference, delegated_limit=maker.delegated_limit_sek),
        organisation=_organisation(case), outcome=outcome,
        motivation=motivation or "Ärendet uppfyller villkoren för steget.",
        from_stage=from_stage, to_stage=to_stage, amount=amount, amount_label=amount_label,
        # Every decision here is an approver's, under delegation from the nämnd.
        appealable=can_appeal, delegated=True, appeal_court=_court(case, settings) if can_appeal else None,
        notice_board_url=court.notice_board_url if court else None,
        officer=_officer(case),
    )


def dialogue_minutes(session: Session, case: Case, today: date, settings: Settings | None = None) -> ctx.DialogueMinutesContext:
    """Minutes of the latest dialogue meeting."""
    m = session.scalar(select(DialogueMeeting).where(DialogueMeeting.case_id == case.id).order_by(DialogueMeeting.held_on.desc(), DialogueMeeting.id.desc()).limit(1))
    if m is None:
        raise Conflict("Inget dialogmöte är registrerat / no dialogue meeting recorded")
    return ctx.DialogueMinutesContext(
        authority=_authority(case), case=_case_ref(case), document_date=today, organisation=_organisation(case),
        meeting_date=m.held_on, place=m.place or "Ej angiven", participants=[ctx.Participant(**p) for p in m.participants],
        notes=m.notes or "Inga anteckningar.", next_steps=m.next_steps or [], recorder=m.recorder or None, adjuster=m.adjuster or None,
    )


def followup_request(session: Session, case: Case, today: date, settings: Settings | None = None) -> ctx.FollowUpRequestContext:
    """Request for the next follow-up report not yet approved."""
    r = session.scalar(select(FollowUpReport).where(FollowUpReport.case_id == case.id, FollowUpReport.submitted_at.is_(None)).order_by(FollowUpReport.due_on).limit(1))
    if r is None:
        raise Conflict("Ingen uppföljningsrapport väntar / no follow-up report pending")
    row = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    lines = _indicator_lines(AgreementTerms.model_validate(row.terms), r.due_on) if row and completeness.is_complete(row.terms) else []
    return ctx.FollowUpRequestContext(
        authority=_authority(case), case=_case_ref(case), document_date=today, organisation=_organisation(case),
        period_start=r.period_start, period_end=r.period_end, due_date=r.due_on, is_final=r.is_final, officer=_officer(case),
        indicators=lines,
    )


def followup_summary(session: Session, case: Case, today: date, settings: Settings | None = None) -> ctx.FollowUpSummaryContext:
    """The latest submitted follow-up report: what it gave per indicator against the target, and the officer's assessment."""
    settings = settings or get_settings()
    r = session.scalar(select(FollowUpReport).where(FollowUpReport.case_id == case.id, FollowUpReport.submitted_at.is_not(None))
                       .order_by(FollowUpReport.due_on.desc(), FollowUpReport.id.desc()).limit(1))
    if r is None or not r.content:
        raise Conflict("Ingen uppföljningsrapport är inlämnad / no follow-up report submitted")
    results = []
    for s in indicators.series(session, case.id):
        point = next((p for p in s.points if p.report_id == r.id and p.achieved is not None), None)
        if point is None:
            continue
        results.append(ctx.IndicatorResultLine(goal=s.goal, name=s.name, target=s.show(s.target), achieved=s.show(point.achieved),
                                               comment=point.comment, rating=RATING_LABELS.get(point.rating, "") if point.rating else "",
                                               rating_comment=point.rating_comment or ""))
    tz = ZoneInfo(settings.timezone)
    content = r.content
    return ctx.FollowUpSummaryContext(
        authority=_authority(case), case=_case_ref(case), document_date=today, organisation=_organisation(case),
        period_start=r.period_start, period_end=r.period_end, due_date=r.due_on, is_final=r.is_final,
        submitted_on=r.submitted_at.replace(tzinfo=r.submitted_at.tzinfo or ZoneInfo("UTC")).astimezone(tz).date(),
        activities_done=content.get("activities_done") or "–", participants_reached=int(content.get("participants_reached") or 0),
        money_used=int(content.get("money_used_sek") or 0), deviations=content.get("deviations") or "", results=results,
        assessment=ASSESSMENT_LABELS.get(r.assessment, "") if r.assessment else "", assessment_comment=r.assessment_comment or "",
        assessed_on=r.assessed_at.replace(tzinfo=r.assessed_at.tzinfo or ZoneInfo("UTC")).astimezone(tz).date() if r.assessed_at else None,
        officer=_officer(case),
    )


BUILDERS = {
    DocumentKind.AGREEMENT: agreement,
    DocumentKind.DECISION: decision,
    DocumentKind.DIALOGUE_MINUTES: dialogue_minutes,
    DocumentKind.FOLLOWUP_REQUEST: followup_request,
    DocumentKind.FOLLOWUP_SUMMARY: followup_summary,
}
FILENAMES = {
    DocumentKind.AGREEMENT: "iop-avtal",
    DocumentKind.DECISION: "beslut",
    DocumentKind.DIALOGUE_MINUTES: "dialogmote-protokoll",
    DocumentKind.FOLLOWUP_REQUEST: "begaran-uppfoljning",
    DocumentKind.FOLLOWUP_SUMMARY: "uppfoljningsrapport",
}
