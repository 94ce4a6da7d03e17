"""A case's history: every audited event of the case, in time order, as the user may see it.

Contract: each audit event of the case appears once. Actions with a richer record of their own (stage changes, reviews,
meetings, documents, messages, reports: REPRESENTED) are told from that record; every other action is told from the
audit event itself, titled from labels.AUDIT_ACTIONS (an unknown action still appears, by its code), with details
built only from what the chain holds (ids, dates, field names, counts), never free text or names it keeps as digests.
The organisation does not see the administration's internal events (ORG_HIDDEN), internal documents or notes, or
deadlines. Deadlines, which are rows rather than events, are added for the administration.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.models import AuditEvent
from service.cases.access import documents_shown, messages_shown, review_comment_shown, sees_internal
from service.auth.models import Role, User
from service.cases.models import Case, StageChange
from service.cases.stages import Stage
from service.deadlines.models import Deadline, DeadlineStatus
from service.dialogue.models import DialogueMeeting
from service.documents.models import Document
from service.followup.models import Assessment, FollowUpReport
from service.labels import AUDIT_ACTIONS, CASE_FIELDS, DEADLINE_KINDS, DEADLINE_STATUS, DOCUMENT_KINDS, PARTIES, REVIEW_DECIDED, STAGES, label
from service.messages.models import Message
from service.reviews.models import Review, ReviewStatus
from service.timeline.schemas import ItemType, TimelineItem

# Message text is shown in full in the thread; the timeline gives a glimpse.
EXCERPT = 280

# Same instant: the cause before its effects (a decision before the stage change it made, …).
ORDER = {t: i for i, t in enumerate((
    ItemType.REVIEW_REQUESTED, ItemType.REVIEW_DECIDED, ItemType.STAGE_CHANGED, ItemType.CASE_EVENT, ItemType.MEETING_RECORDED,
    ItemType.SIGNATURE_RECORDED, ItemType.DOCUMENT_STORED, ItemType.FOLLOWUP_SCHEDULED, ItemType.FOLLOWUP_SUBMITTED,
    ItemType.FOLLOWUP_ASSESSED, ItemType.MESSAGE_POSTED, ItemType.DEADLINE,
))}

# Told from their own records (richer than the chain, which keeps free text as digests).
REPRESENTED = frozenset({
    "case.submitted", "case.withdrawn", "case.terminated", "review.requested", "review.approved", "review.rejected",
    "review.changes_requested", "dialogue.meeting_recorded", "document.stored", "message.posted", "followup.scheduled",
    "followup.submitted", "followup.approved", "followup.needs_completion",
})
# The administration's own work on the case: not shown to the organisation.
ORG_HIDDEN = frozenset({
    "deadline.extended", "deadline.missed", "reminder.resend", "dialogue.suitability_assessed", "review.reassigned",
    "message.redacted", "dialogue.meeting_redacted",
})


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def _stage_title(change: StageChange) -> str:
    if change.to_stage == Stage.IDENTIFY_NEED and change.from_stage in (None, Stage.DRAFT):
        return "Ärendet skickades in"
    if change.to_stage == Stage.WITHDRAWN:
        return "Ärendet återkallades"
    if change.to_stage == Stage.REJECTED:
        return "Ärendet avslogs"
    if change.to_stage == Stage.CLOSED and change.review_id is None:
        return "Partnerskapet avslutades i förtid"
    return f"Ärendet gick till skedet {STAGES[Stage(change.to_stage)]}"


def _stage_changes(session: Session, case: Case) -> Iterator[TimelineItem]:
    for c in session.scalars(select(StageChange).where(StageChange.case_id == case.id)):
        refs = {"stage_change_id": c.id, **({"review_id": c.review_id} if c.review_id else {})}
        # A review's motivation is already the decision's detail; withdrawal and termination carry their own reason.
        detail = "" if c.review_id else c.reason or ""
        if c.to_stage == Stage.IDENTIFY_NEED and c.from_stage in (None, Stage.DRAFT) and case.diarienummer:
            detail = f"Inskickat och registrerat med diarienummer {case.diarienummer}"
        yield TimelineItem(at=c.at, type=ItemType.STAGE_CHANGED, title=_stage_title(c), detail=detail, actor_id=c.actor_id, refs=refs)


def _reviews(session: Session, user: User, case: Case) -> Iterator[TimelineItem]:
    for r in session.scalars(select(Review).where(Review.case_id == case.id)):
        route = f"{STAGES[Stage(r.from_stage)]} → {STAGES[Stage(r.to_stage)]}"
        yield TimelineItem(at=r.requested_at, type=ItemType.REVIEW_REQUESTED, title=f"Beslut begärt: {route}",
                           detail=(r.comment or "") if review_comment_shown(user, r) else "",
                           actor_id=r.requested_by_id, refs={"review_id": r.id})
        if r.status != ReviewStatus.PENDING and r.decided_at is not None:
            yield TimelineItem(at=r.decided_at, type=ItemType.REVIEW_DECIDED, title=f"{REVIEW_DECIDED[ReviewStatus(r.status)]} ({route})",
                               detail=r.motivation or "", actor_id=r.decided_by_id, refs={"review_id": r.id})


def _meetings(session: Session, case: Case) -> Iterator[TimelineItem]:
    for m in session.scalars(select(DialogueMeeting).where(DialogueMeeting.case_id == case.id)):
        # Place and head count only: participants are people, and their names stay in the meeting record.
        parts = [f"Hölls {m.held_on.isoformat()}", m.place, f"{len(m.participants or [])} deltagare"]
        yield TimelineItem(at=m.created_at, type=ItemType.MEETING_RECORDED, title="Dialogmöte registrerat",
                           detail=", ".join(p for p in parts if p), actor_id=m.created_by_id, refs={"meeting_id": m.id})


def _documents(session: Session, user: User, case: Case) -> Iterator[TimelineItem]:
    stmt = select(Document).where(Document.case_id == case.id, documents_shown(user))
    for d in session.scalars(stmt):
        yield TimelineItem(at=d.created_at, type=ItemType.DOCUMENT_STORED, title=f"{label(DOCUMENT_KINDS, d.kind)}, version {d.version}", detail=d.filename,
                           internal=d.internal, actor_id=d.created_by_id, refs={"document_id": d.id})


def _messages(session: Session, user: User, case: Case) -> Iterator[TimelineItem]:
    stmt = select(Message).where(Message.case_id == case.id, messages_shown(user))
    for m in session.scalars(stmt):
        yield TimelineItem(at=m.created_at, type=ItemType.MESSAGE_POSTED, title="Intern anteckning" if m.internal else "Meddelande",
                           detail=_excerpt(m.body), internal=m.internal, actor_id=m.author_id, refs={"message_id": m.id})


def _day(value: object) -> str:
    return str(value)[:10] if value else "–"


def _kr(value: object) -> str:
    return f"{int(value):,}".replace(",", "\u00a0") + "\u00a0kr" if isinstance(value, int | float) else "–"


def _audit_text(e: AuditEvent) -> tuple[str, str]:
    """Title and detail of one audited action, from the event alone."""
    after, before = e.after or {}, e.before or {}
    title = AUDIT_ACTIONS.get(e.action, f"Händelse: {e.action}")
    detail = ""
    if e.action == "agreement.signed":
        # The signatory's name is left out on purpose; the signature record carries it.
        title = f"Underskrift registrerad för {label(PARTIES, after.get('party'))}"
        detail = f"Undertecknat {_day(after.get('signed_on'))}"
    elif e.action == "agreement.e_signed":
        title = f"Elektronisk underskrift för {label(PARTIES, after.get('party'))}"
        detail = "Överenskommelsen är undertecknad av alla parter" if after.get("completed") else f"Underskrift {after.get('position')} i tur"
    elif e.action == "agreement.signature_corrected":
        title = f"Underskrift rättad för {label(PARTIES, after.get('party') or before.get('party'))}"
        detail = f"Undertecknat {_day(after.get('signed_on'))} (tidigare {_day(before.get('signed_on'))})"
    elif e.action == "agreement.signature_removed":
        title = f"Underskrift borttagen för {label(PARTIES, before.get('party'))}"
        detail = f"Den borttagna underskriften var daterad {_day(before.get('signed_on'))}"
    elif e.action == "case.updated":
        fields = [CASE_FIELDS.get(f, f) for f in after.get("fields", [])]
        detail = f"Ändrat: {', '.join(fields)}" if fields else ""
    elif e.action == "case.suspended":
        detail = f"{after.get('deadlines_paused', 0)} tidsfrister står still tills ärendet återupptas"
    elif e.action == "case.resumed":
        detail = f"Fristerna flyttades fram {after.get('working_days', 0)} arbetsdagar"
    elif e.action == "deadline.extended":
        detail = f"Ny förfallodag {_day(after.get('to'))} (var {_day(after.get('from'))})"
    elif e.action == "agreement.terms_saved" and isinstance(after.get("funding_changed"), dict):
        change = after["funding_changed"]
        detail = f"Bidraget ändrades från {_kr(change.get('from'))} till {_kr(change.get('to'))}"
    return title, detail


def _audited(session: Session, user: User, case: Case) -> Iterator[TimelineItem]:
    stmt = select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.action.not_in(REPRESENTED))
    if not sees_internal(user):
        stmt = stmt.where(AuditEvent.action.not_in(ORG_HIDDEN))
    for e in session.scalars(stmt):
        title, detail = _audit_text(e)
        after = e.after or {}
        refs = {"audit_event_id": e.id, **{k: v for k, v in after.items() if k.endswith("_id") and isinstance(v, int) and not isinstance(v, bool)}}
        kind = ItemType.SIGNATURE_RECORDED if e.action in ("agreement.signed", "agreement.e_signed") else ItemType.CASE_EVENT
        yield TimelineItem(at=e.at, type=kind, title=title, detail=detail, internal=e.action in ORG_HIDDEN, actor_id=e.actor_id,
                           action=e.action, refs=refs)


def _reports(session: Session, case: Case) -> Iterator[TimelineItem]:
    for r in session.scalars(select(FollowUpReport).where(FollowUpReport.case_id == case.id)):
        what = "Slutrapport" if r.is_final else "Uppföljningsrapport"
        refs = {"followup_report_id": r.id}
        yield TimelineItem(at=r.created_at, type=ItemType.FOLLOWUP_SCHEDULED, title=f"{what} planerad",
                           detail=f"Period {r.period_start.isoformat()}–{r.period_end.isoformat()}, ska lämnas senast {r.due_on.isoformat()}",
                           refs=refs)
        if r.submitted_at is not None:
            yield TimelineItem(at=r.submitted_at, type=ItemType.FOLLOWUP_SUBMITTED, title=f"{what} inlämnad",
                               actor_id=r.submitted_by_id, refs=refs)
        if r.assessed_at is not None and r.assessment is not None:
            verdict = "godkänd" if r.assessment == Assessment.APPROVED else "behöver kompletteras"
            yield TimelineItem(at=r.assessed_at, type=ItemType.FOLLOWUP_ASSESSED, title=f"{what} {verdict}",
                               detail=r.assessment_comment or "", actor_id=r.assessed_by_id, refs=refs)


def _deadlines(session: Session, case: Case) -> Iterator[TimelineItem]:
    for d in session.scalars(select(Deadline).where(Deadline.case_id == case.id)):
        # A settled deadline sits where it was settled; an open one where it falls due (ahead of "now").
        at = d.met_at if d.status == DeadlineStatus.MET and d.met_at else d.missed_at if d.status == DeadlineStatus.MISSED and d.missed_at else d.due_at
        detail = f"{label(DEADLINE_STATUS, d.status).capitalize()}; förfallodag {d.due_at.date().isoformat()}"
        if d.due_at != d.original_due_at:
            detail += f" (ursprungligen {d.original_due_at.date().isoformat()})"
        if d.extension_reason:
            detail += "; förlängd"  # the reason is free text, kept on the deadline and as a digest in the chain
        refs = {"deadline_id": d.id, **({"review_id": d.review_id} if d.review_id else {}),
                **({"followup_report_id": d.followup_report_id} if d.followup_report_id else {})}
        yield TimelineItem(at=at, type=ItemType.DEADLINE, title=f"Tidsfrist: {d.label or label(DEADLINE_KINDS, d.kind)}",
                           detail=detail, internal=True, refs=refs)


def build(session: Session, user: User, case: Case) -> list[TimelineItem]:
    """The case's history in time order, as this user may see it (the caller has checked visibility)."""
    org_view = user.role == Role.ORG_MEMBER
    items = [
        *_stage_changes(session, case), *_reviews(session, user, case), *_meetings(session, case),
        *_documents(session, user, case), *_messages(session, user, case), *_audited(session, user, case),
        *_reports(session, case),
    ]
    if not org_view:
        # Deadlines steer the administration's work (triage, escalation); the organisation follows its reports instead.
        items.extend(_deadlines(session, case))
    items.sort(key=lambda i: (i.at, ORDER[i.type], min(i.refs.values(), default=0)))
    return items
