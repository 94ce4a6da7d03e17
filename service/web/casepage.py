"""Everything the case page shows, gathered once per request, and what the viewer may do there."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement, Signature
from service.auth.models import Role, User
from service.agreements import amounts, evidence
from service.agreements import completeness as agreements_completeness
from service.agreements.schemas import MissingItem, SectionProgress
from service.agreements.service import signing_parties
from service.cases import completion, gates
from service.cases.completion import CompletionAsk
from service.cases.access import deadlines_shown, documents_shown, sees_internal
from service.cases.models import Case, StageChange
from service.dashboard.overdue import is_overdue
from service.diarium import service as diarium
from service.diarium.models import DiaryEntry
from service.messages import service as messages
from service.messages.models import Message
from service.timeline import service as timeline
from service.timeline.schemas import ItemType, TimelineItem
from service.cases.service import OFFICER_EDIT_STAGES
from service.cases.stages import NEXT_BY_REVIEW, TERMINAL, Stage
from service.config import Settings
from service.deadlines.models import EXTENDABLE, Deadline
from service.documents.pdfa import pdfa_available
from service.dialogue.checklist import ITEMS
from service.dialogue.models import DialogueMeeting, SuitabilityAssessment
from service.documents.builders import BUILDERS
from service.documents.models import Document
from service.documents.service import SIGNED_AGREEMENT_STAGES
from service.followup.models import Assessment, FollowUpReport
from service.reviews.models import Review, ReviewStatus
from service.web import followupview
from service.web.forms import FormState
from service.labels import DOCUMENT_KINDS
from service.web.labels import MAIN_PATH, amounts_in_text, stage_label


@dataclass
class Event:
    """One line in the case's timeline."""

    at: datetime
    title: str
    actor: str | None = None
    detail: str | None = None
    tone: str = "neutral"


@dataclass
class Permissions:
    """What the viewer may do; the service layer still enforces every rule."""

    edit: bool = False
    submit: bool = False
    resubmit: bool = False
    withdraw: bool = False
    upload: bool = False
    report: bool = False
    assign: bool = False
    request_review: bool = False
    decide: bool = False
    dialogue: bool = False
    checklist: bool = False
    agreement: bool = False
    sign: bool = False
    generate: bool = False
    schedule_report: bool = False
    assess_report: bool = False
    post_message: bool = False
    internal_notes: bool = False
    suspend: bool = False
    resume: bool = False
    extend: bool = False
    pdfa: bool = False
    request_completion: bool = False
    change_signatures: bool = False
    upload_signed: bool = False  # the signed agreement, in the signing section
    signing_parties: tuple[str, ...] = ()  # agreements.service.signing_parties: whose signatures the viewer records


@dataclass
class CaseView:
    """The loaded case and its related rows."""

    case: Case
    users: dict[int, User]
    stage_changes: list[StageChange]
    reviews: list[Review]
    pending: Review | None
    documents: list[Document]
    meetings: list[DialogueMeeting]
    assessment: SuitabilityAssessment | None
    agreement: Agreement | None
    signatures: list[Signature]
    reports: list[FollowUpReport]
    deadlines: list[Deadline]
    thread: list[Message]
    overdue: bool
    history: list[TimelineItem]
    missing: list[dict[str, str]]
    next_stage: Stage | None
    can: Permissions
    officers: list[User] = field(default_factory=list)
    approvers: list[User] = field(default_factory=list)
    signed_copies: list[Document] = field(default_factory=list)  # evidence a signature may name (agreements.evidence)
    forms: dict[str, FormState] = field(default_factory=dict)
    completion: CompletionAsk | None = None  # the open request for completion, credited to whoever made it
    agreement_missing: list[MissingItem] = field(default_factory=list)  # completeness of the saved terms
    agreement_sections: list[SectionProgress] = field(default_factory=list)
    current_agreement: Document | None = None  # the version signatures are of (agreements.evidence)
    e_signed: set[int] = field(default_factory=set)  # signatures made in the agreement's PDF (evidence.e_signed_in_pdf): fixed
    followup: followupview.FollowUpView | None = None  # indicators over time, money used vs planned, each report's indicators due
    diary: list[tuple[DiaryEntry, str, Case]] = field(default_factory=list)  # the case's diarium for staff: (entry, reference, case)
    diary_types: list[tuple[str, str]] = field(default_factory=list)  # the handlingstyper a registrar's correction may choose

    extendable = EXTENDABLE

    def name(self, user_id: int | None) -> str:
        """A user's display name."""
        u = self.users.get(user_id or 0)
        return u.full_name if u else "–"

    def form(self, key: str) -> FormState:
        """The state of one of the page's forms (empty unless it was just posted with errors)."""
        return self.forms.get(key) or FormState(prefix=key)

    def diary_form(self, entry: DiaryEntry) -> FormState:
        """The correction form of one diary entry: as just refused, or filled in with what is registered."""
        key = f"diary{entry.id}"
        return self.forms.get(key) or FormState(prefix=key, values={
            "description": entry.description, "document_type": entry.document_type, "counterpart": entry.counterpart,
            "confidential": "ja" if entry.confidential else "", "osl_reference": entry.osl_reference or "", "version": str(entry.version)})

    def may_change(self, sig: Signature) -> bool:
        """Whether the viewer may correct or remove this signature (the service checks it again)."""
        return self.can.change_signatures and sig.party in self.can.signing_parties and sig.id not in self.e_signed

    def signature_form(self, sig: Signature) -> FormState:
        """The correction form of one signature: as just refused, or filled in with what is recorded."""
        key = f"sig{sig.id}"
        return self.forms.get(key) or FormState(prefix=key, values={
            "party": sig.party, "name": sig.name, "role": sig.role, "signed_on": sig.signed_on.isoformat(), "method": sig.method,
            "document_id": str(sig.document_id or "")})

    @property
    def steps(self) -> list[tuple[str, str]]:
        """(label, state) per main-path stage: done, current or todo."""
        stage = self.case.stage
        if stage in (Stage.REJECTED, Stage.WITHDRAWN):
            reached = {c.to_stage for c in self.stage_changes} | {Stage.DRAFT}
            return [(stage_label(s), "done" if s in reached else "todo") for s in MAIN_PATH]
        idx = MAIN_PATH.index(stage)
        return [(stage_label(s), "done" if i < idx else "current" if i == idx else "todo") for i, s in enumerate(MAIN_PATH)]

    def timeline(self) -> list[Event]:
        """The case's history as the API's timeline gives it to this viewer, with display names and tones."""
        return [Event(item.at, amounts_in_text(item.title), self.name(item.actor_id) if item.actor_id else None,
                      amounts_in_text(item.detail) or None, TIMELINE_TONE.get(item.type, "neutral")) for item in self.history]


def permissions(user: User, case: Case, *, pending: Review | None, agreement: Agreement | None, has_signatures: bool,
                reports: list[FollowUpReport]) -> Permissions:
    """Which actions to offer (the same rules the services enforce, so no button leads to a refusal)."""
    can = Permissions()
    open_case = case.stage not in TERMINAL
    locked = pending is not None
    can.signing_parties = tuple(p.value for p in signing_parties(user))
    if user.role == Role.ORG_MEMBER:
        can.edit = open_case and not locked and (case.stage == Stage.DRAFT or case.open_for_changes)
        can.submit = case.stage == Stage.DRAFT
        can.resubmit = case.stage != Stage.DRAFT and case.open_for_changes and open_case
        can.withdraw = open_case
        can.upload = open_case
        can.upload_signed = can.upload and case.stage in SIGNED_AGREEMENT_STAGES
        can.report = case.stage == Stage.FOLLOW_UP and any(r.assessment != Assessment.APPROVED for r in reports)
        can.post_message = open_case
        # The organisation records, corrects and removes its own signature, as the API lets it.
        can.sign = case.stage == Stage.AGREEMENT and agreement is not None
        can.change_signatures = can.sign and not locked
        return can
    in_department = user.department_id == case.department_id and user.role in (Role.OFFICER, Role.APPROVER)
    officer = in_department and user.role == Role.OFFICER
    can.assign = in_department and open_case
    can.request_review = in_department and case.stage in NEXT_BY_REVIEW and not locked and not case.open_for_changes
    can.decide = (user.role == Role.APPROVER and in_department and pending is not None and pending.requested_by_id != user.id
                  and pending.approver_id in (None, user.id))
    can.edit = officer and case.stage in OFFICER_EDIT_STAGES and not locked
    can.request_completion = can.edit and not case.open_for_changes
    can.dialogue = officer and case.stage in (Stage.IDENTIFY_NEED, Stage.DIALOGUE, Stage.AGREEMENT)
    can.checklist = officer and case.stage in (Stage.IDENTIFY_NEED, Stage.DIALOGUE)
    can.agreement = officer and case.stage in (Stage.DIALOGUE, Stage.AGREEMENT) and not locked and not has_signatures
    can.sign = officer and case.stage == Stage.AGREEMENT and agreement is not None
    can.change_signatures = can.sign and not locked  # agreements.service.correct_signature / remove_signature
    can.generate = officer
    can.pdfa = officer and pdfa_available()  # optional: no button where LibreOffice is not installed
    can.upload = officer and open_case
    can.upload_signed = can.upload and case.stage in SIGNED_AGREEMENT_STAGES
    can.schedule_report = officer and case.stage in (Stage.AGREEMENT, Stage.FOLLOW_UP)
    can.assess_report = officer and case.stage == Stage.FOLLOW_UP
    can.post_message = in_department and open_case
    can.internal_notes = in_department
    can.suspend = in_department and open_case and not case.suspended and case.stage != Stage.DRAFT
    can.resume = in_department and case.suspended
    can.extend = in_department and open_case
    return can


def load(session: Session, user: User, case: Case, settings: Settings, forms: dict[str, FormState] | None = None) -> CaseView:
    """Load what the case page needs for this viewer."""
    org_view = user.role == Role.ORG_MEMBER
    stage_changes = list(session.scalars(select(StageChange).where(StageChange.case_id == case.id).order_by(StageChange.at, StageChange.id)))
    reviews = list(session.scalars(select(Review).where(Review.case_id == case.id).order_by(Review.requested_at, Review.id)))
    pending = next((r for r in reviews if r.status == ReviewStatus.PENDING), None)
    documents = list(session.scalars(select(Document).where(Document.case_id == case.id, documents_shown(user))
                                     .order_by(Document.created_at, Document.id)))
    meetings = list(session.scalars(
        select(DialogueMeeting).where(DialogueMeeting.case_id == case.id).order_by(DialogueMeeting.held_on, DialogueMeeting.id)))
    assessment = session.scalar(select(SuitabilityAssessment).where(SuitabilityAssessment.case_id == case.id))
    agreement = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    signatures = list(session.scalars(select(Signature).where(Signature.case_id == case.id).order_by(Signature.id)))
    reports = list(session.scalars(
        select(FollowUpReport).where(FollowUpReport.case_id == case.id).order_by(FollowUpReport.due_on, FollowUpReport.id)))
    # Missed deadlines stay listed (overdue, and still extendable) until they are extended or the stage ends.
    deadlines = list(session.scalars(select(Deadline).where(
        Deadline.case_id == case.id, deadlines_shown(user), Deadline.status.in_(SHOWN_DEADLINES)).order_by(Deadline.due_at)))
    thread = messages.thread(session, user, case)
    can = permissions(user, case, pending=pending, agreement=agreement, has_signatures=bool(signatures), reports=reports)
    next_stage = NEXT_BY_REVIEW.get(case.stage)
    missing: list[dict[str, str]] = []
    if not org_view and next_stage and case.stage not in TERMINAL:
        # Shown before the officer asks for a decision, so the gate's refusal never comes as a surprise.
        missing = gates.check(session, case, next_stage, settings, None)
    ids = {case.created_by_id, case.officer_id, *(s.actor_id for s in stage_changes), *(r.requested_by_id for r in reviews),
           *(r.decided_by_id for r in reviews), *(r.approver_id for r in reviews), *(d.created_by_id for d in documents),
           *(m.created_by_id for m in meetings), *(r.submitted_by_id for r in reports), *(r.assessed_by_id for r in reports),
           *(m.author_id for m in thread)}
    history = timeline.build(session, user, case)
    ids |= {item.actor_id for item in history}
    ask = completion.latest(session, case) if case.open_for_changes and case.stage not in TERMINAL else None
    agreement_missing = agreements_completeness.missing(agreement.terms) if agreement is not None else []
    current_agreement = evidence.current_agreement_document(session, case.id) if agreement is not None else None
    copies = evidence.signed_copies(session, case.id) if case.stage == Stage.AGREEMENT else []
    if org_view:  # only what the organisation may see of the evidence (an internal upload stays internal)
        shown = {d.id for d in documents}
        copies = [d for d in copies if d.id in shown]
    if ask is not None:
        ids.add(ask.by_id)
    ids.discard(None)
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    officers: list[User] = []
    approvers: list[User] = []
    if not org_view and user.department_id == case.department_id:
        officers = list(session.scalars(select(User).where(User.department_id == case.department_id, User.role == Role.OFFICER,
                                                          User.is_active.is_(True)).order_by(User.full_name)))
        # Those who may decide (delegation covers the amount, four-eyes): for a new request, or the pending one.
        requester = pending.requested_by_id if pending else user.id
        approvers = sorted(amounts.eligible_approvers(session, case, amounts.decided_amount(session, case), requester), key=lambda u: u.full_name)
    return CaseView(case=case, users=users, stage_changes=stage_changes, reviews=reviews, pending=pending, documents=documents,
                    meetings=meetings, assessment=assessment, agreement=agreement, signatures=signatures, reports=reports,
                    deadlines=deadlines, thread=thread, overdue=is_overdue(session, case), history=history, missing=missing, next_stage=next_stage, can=can, officers=officers,
                    approvers=approvers, signed_copies=copies, forms=forms or {}, completion=ask,
                    agreement_missing=agreement_missing, current_agreement=current_agreement,
                    e_signed={s.id for s in signatures if evidence.e_signed_in_pdf(session, s)},
                    agreement_sections=agreements_completeness.sections(agreement.terms, agreement_missing) if agreement is not None else [],
                    followup=followupview.load(session, case.id, reports),
                    diary=[(e, diarium.reference(case, e), case) for e in diarium.list_for_case(session, user, case)] if sees_internal(user) else [],
                    diary_types=[(t, t) for t in diarium.document_types(settings)] if user.role == Role.REGISTRAR else [])


SHOWN_DEADLINES = EXTENDABLE  # what can still move is what the case page lists
TIMELINE_TONE = {
    ItemType.STAGE_CHANGED: "success", ItemType.REVIEW_REQUESTED: "info", ItemType.REVIEW_DECIDED: "warning",
    ItemType.SIGNATURE_RECORDED: "success", ItemType.FOLLOWUP_ASSESSED: "info", ItemType.DEADLINE: "neutral",
}
GENERATABLE = [(kind, DOCUMENT_KINDS[kind]) for kind in BUILDERS]
CHECKLIST = ITEMS
