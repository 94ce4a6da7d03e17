"""Stage gates: what must be true before a review may move a case forward."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.agreements import amounts, completeness, evidence
from service.agreements.models import Agreement, Party, Signature
from service.auth.models import User
from service.cases.models import Case
from service.cases.stages import Stage
from service.config import Settings
from service.dialogue import deminimis
from service.dialogue.checklist import missing_items
from service.dialogue.models import DialogueMeeting, SuitabilityAssessment
from service.followup.models import Assessment, FollowUpReport

Missing = list[dict[str, str]]


def _item(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def case_complete(session: Session, case: Case, settings: Settings, approver: User | None) -> Missing:
    """identify_need -> dialogue: the proposal is complete and an officer is assigned."""
    out: Missing = []
    for field, label in (("need", "Identifierat behov"), ("target_group", "Målgrupp"), ("planned_activities", "Planerade aktiviteter")):
        if not getattr(case, field).strip():
            out.append(_item(field, f"{label} saknas / {field} is missing"))
    if not (case.own_contribution_sek > 0 or case.own_contribution_in_kind.strip() or case.volunteer_hours > 0):
        out.append(_item("own_contribution", "Organisationens egen insats saknas / own contribution is missing"))
    if case.requested_amount_sek <= 0:
        out.append(_item("requested_amount_sek", "Begärt offentligt bidrag saknas / requested public contribution is missing"))
    if case.period_start is None or case.period_end is None:
        out.append(_item("period", "Planerad period saknas / planned period is missing"))
    if case.officer_id is None:
        out.append(_item("officer_id", "Ingen handläggare utsedd / no officer assigned"))
    return out


def dialogue_done(session: Session, case: Case, settings: Settings, approver: User | None) -> Missing:
    """dialogue -> agreement: a meeting held, checklist all yes, de minimis within the ceiling."""
    out: Missing = []
    today = datetime.now(ZoneInfo(settings.timezone)).date()  # a meeting planned for later has not been held
    meetings = session.scalar(select(func.count()).select_from(DialogueMeeting).where(DialogueMeeting.case_id == case.id,
                                                                                      DialogueMeeting.held_on <= today))
    if not meetings:
        out.append(_item("dialogue_meetings", "Minst ett dialogmöte måste ha hållits; ett möte med ett datum i framtiden räknas inte "
                                              "/ at least one dialogue meeting must have been held"))
    assessment = session.scalar(select(SuitabilityAssessment).where(SuitabilityAssessment.case_id == case.id))
    if assessment is None:
        out.append(_item("suitability", "Lämplighetsbedömningen saknas / suitability assessment missing"))
    else:
        out.extend(missing_items(assessment.items))
    out.extend(state_aid(session, case, settings, assessment))
    return out


def state_aid(session: Session, case: Case, settings: Settings, assessment: SuitabilityAssessment | None = None) -> Missing:
    """De minimis with today's figures (the agreement's funding once it exists), unless aid rests on another basis."""
    if assessment is None:
        assessment = session.scalar(select(SuitabilityAssessment).where(SuitabilityAssessment.case_id == case.id))
    if assessment is not None and (assessment.state_aid_other_basis or "").strip():
        return []
    result = deminimis.compute(session, case, sek_per_eur=settings.sek_per_eur, ceiling_eur=settings.de_minimis_eur, today=date.today())
    if result.passes:
        return []
    return [_item(
        "de_minimis",
        f"De minimis överskrids: {result.total_eur:,.0f} euro > {result.ceiling_eur:,} euro under tre år "
        f"/ de minimis ceiling exceeded".replace(",", " "),
    )]


def agreement_ready(session: Session, case: Case, settings: Settings, approver: User | None) -> Missing:
    """agreement -> follow_up: complete terms, generated document, both signatures, within the approver's limit."""
    out: Missing = []
    agreement = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    if agreement is None:
        out.append(_item("agreement", "Avtalsvillkoren saknas / agreement terms missing"))
    else:
        # Saved as a draft: every item still missing, by the agreement form's labels (the rule is completeness').
        out.extend(_item(f"agreement.{m.field}", f"Avtalsvillkor, {m.label}: {m.message[:1].lower()}{m.message[1:]}")
                   for m in completeness.missing(agreement.terms))
    if evidence.current_agreement_document(session, case.id) is None:
        out.append(_item("agreement_document", "Inget avtalsdokument har skapats från de sparade villkoren / no agreement document generated from the current terms"))
    signatures = {s.party: s for s in session.scalars(select(Signature).where(Signature.case_id == case.id))}
    for party, label in ((Party.PUBLIC, "kommunen/regionen"), (Party.ORGANISATION, "organisationen")):
        if party not in signatures:
            out.append(_item(f"signatures.{party.value}", f"Underskrift saknas för {label} / signature missing"))
    needs_copy = any(s.method == "signed_copy" and s.document_id is None for s in signatures.values())
    if needs_copy and not evidence.signed_copies(session, case.id):
        out.append(_item("signed_copy", "Undertecknat exemplar är inte uppladdat / signed copy not uploaded"))
    # The funding may have risen since dialogue -> agreement was decided: the ceiling is checked again on today's figures.
    out.extend(state_aid(session, case, settings))
    return out


def followup_done(session: Session, case: Case, settings: Settings, approver: User | None) -> Missing:
    """follow_up -> closed: every follow-up report submitted and approved."""
    reports = session.scalars(select(FollowUpReport).where(FollowUpReport.case_id == case.id).order_by(FollowUpReport.due_on)).all()
    if not reports:
        return [_item("followup_reports", "Inga uppföljningsrapporter finns / no follow-up reports")]
    return [
        _item(f"followup_reports.{r.id}", f"Rapport med förfallodag {r.due_on} är inte godkänd / report due {r.due_on} not approved")
        for r in reports
        if r.assessment != Assessment.APPROVED
    ]


Gate = Callable[[Session, Case, Settings, User | None], Missing]

GATES: dict[tuple[Stage, Stage], Gate] = {
    (Stage.IDENTIFY_NEED, Stage.DIALOGUE): case_complete,
    (Stage.DIALOGUE, Stage.AGREEMENT): dialogue_done,
    (Stage.AGREEMENT, Stage.FOLLOW_UP): agreement_ready,
    (Stage.FOLLOW_UP, Stage.CLOSED): followup_done,
}


def delegation(session: Session, case: Case, approver: User | None) -> Missing:
    """Every decision: the amount it decides (amounts.decided_amount) within the named approver's delegated limit."""
    if approver is None:
        return []
    amount = amounts.decided_amount(session, case)
    if amounts.within_delegation(approver, amount):
        return []
    return [_item(
        "approver_id",
        f"Beloppet {amount:,} kr överstiger beslutsfattarens delegation ({approver.delegated_limit_sek or 0:,} kr) "
        f"/ the amount exceeds the approver's delegated limit".replace(",", " "),
    )]


def check(session: Session, case: Case, target: Stage, settings: Settings, approver: User | None = None) -> Missing:
    """Missing items for moving `case` to `target` (empty when the gate is open); the amount rule holds at every step."""
    gate = GATES.get((case.stage, target))
    return [*(gate(session, case, settings, approver) if gate else []), *delegation(session, case, approver)]
