"""The civil-servant side: work queue, lists, overview, CSV, and the stage actions on a case."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from service.agreements import service as agreements
from service.agreements.models import Agreement
from service.agreements.schemas import AgreementTerms, SignatureIn
from service.auth.models import Role, User
from service.cases import gates, repository
from service.cases import service as cases
from service.cases.access import ensure_case_officer, get_visible_case, visible
from service.cases.models import Case
from service.dashboard.overdue import overdue_case_ids
from service.cases.stages import TERMINAL, Stage
from service.config import Settings
from service.db import utcnow
from service.deadlines.models import Deadline, DeadlineStatus
from service.departments.models import Department
from service.deps import AppSettings, DbSession
from service.dialogue import service as dialogue
from service.dialogue.checklist import ITEMS
from service.dialogue.schemas import AssessmentIn, MeetingIn
from service.documents import service as documents
from service.documents.builders import BUILDERS
from service.documents.models import DocumentKind
from service.errors import AppError, ValidationFailed
from service.followup import service as followup
from service.followup.schemas import AssessmentIn as ReportAssessmentIn
from service.followup.schemas import ReportScheduleIn
from service.reviews import service as reviews
from service.reviews.models import Decision, Review, ReviewStatus
from service.schemas import Id
from service import labels as names
from service.web import casepage, labels
from service.web.deps import CsrfForm, WebUser, amount, attempt, digits, optional, require_role, text, web_router, whole
from service.web.forms import FormState
from service.web.rendering import redirect, render
from service.web.routes.cases import Store, refused

router = web_router()
CIVIL = (Role.OFFICER, Role.APPROVER)
LISTERS = (Role.OFFICER, Role.APPROVER, Role.REGISTRAR)


# ---------------------------------------------------------------- queue, list, overview, export


@dataclass
class QueueRow:
    """A case in the work queue with its nearest due time."""

    case: Case
    due: datetime | None
    overdue: bool
    note: str
    review: Review | None = None


def _due_times(session: Session, case_ids: list[int]) -> dict[int, datetime]:
    """Earliest open or missed deadline or pending review per case (what the queue sorts by)."""
    if not case_ids:
        return {}
    out: dict[int, datetime] = {}
    rows = session.execute(select(Deadline.case_id, func.min(Deadline.due_at)).where(
        Deadline.case_id.in_(case_ids), Deadline.status.in_([DeadlineStatus.OPEN, DeadlineStatus.MISSED])).group_by(Deadline.case_id)).all()
    rows += session.execute(select(Review.case_id, func.min(Review.due_at)).where(
        Review.case_id.in_(case_ids), Review.status == ReviewStatus.PENDING).group_by(Review.case_id)).all()
    for case_id, due in rows:
        if due is None:
            continue
        due = _aware(due)
        if case_id not in out or due < out[case_id]:
            out[case_id] = due
    return out


def _aware(value: datetime) -> datetime:
    """Aggregates may bypass the UTC column type on SQLite; make them aware again."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _queue(rows: list[QueueRow]) -> list[QueueRow]:
    """Overdue first, then the nearest due time, then oldest."""
    far = datetime.max.replace(tzinfo=utcnow().tzinfo)
    return sorted(rows, key=lambda r: (not r.overdue, r.due or far, r.case.id))


@router.get("/arbetsko")
def work_queue(request: Request, user: WebUser, session: DbSession) -> Response:
    """My cases, unassigned cases and (for approvers) reviews awaiting my decision; overdue first."""
    require_role(user, *CIVIL)
    overdue = overdue_case_ids(session, user)
    awaiting: list[QueueRow] = []
    if user.role == Role.APPROVER:
        pending = session.scalars(
            select(Review).join(Case, Case.id == Review.case_id)
            .where(visible(user), Review.status == ReviewStatus.PENDING,
                   or_(Review.approver_id.is_(None), Review.approver_id == user.id), Review.requested_by_id != user.id)
        ).all()
        for r in pending:
            c = session.get(Case, r.case_id)
            assert c is not None
            awaiting.append(QueueRow(c, r.due_at, c.id in overdue,
                                     f"{labels.stage_label(r.from_stage)} → {labels.stage_label(r.to_stage)}", r))
    base = select(Case).where(visible(user), Case.stage.not_in(list(TERMINAL)))
    mine = list(session.scalars(base.where(Case.officer_id == user.id))) if user.role == Role.OFFICER else []
    unassigned = list(session.scalars(base.where(Case.officer_id.is_(None)).order_by(Case.submitted_at)))
    due = _due_times(session, [c.id for c in mine + unassigned])
    pending_ids = set(session.scalars(
        select(Review.case_id).where(Review.case_id.in_([c.id for c in mine]), Review.status == ReviewStatus.PENDING))) if mine else set()

    def row(c: Case) -> QueueRow:
        note = "Väntar på beslut" if c.id in pending_ids else "Komplettering begärd" if c.open_for_changes else ""
        return QueueRow(c, due.get(c.id), c.id in overdue, note)

    return render(request, "officer/queue.html", {
        "title": "Arbetskö", "awaiting": _queue(awaiting), "mine": _queue([row(c) for c in mine]),
        "unassigned": _queue([row(c) for c in unassigned]),
    })


def _filter(user: User, skede: list[str] | None, q: str | None, forsenade: str | None, mina: str | None) -> repository.CaseFilter:
    stages = [Stage(s) for s in (skede or []) if s in Stage.__members__.values()]
    return repository.CaseFilter(stage=stages or None, officer_id=user.id if mina else None,
                                 overdue=True if forsenade else None, q=(q or "").strip() or None)


StageQuery = Annotated[list[str] | None, Query()]


@router.get("/arenden")
def case_list(request: Request, user: WebUser, session: DbSession, skede: StageQuery = None, q: str | None = None,
              forsenade: str | None = None, mina: str | None = None, sida: str | None = None) -> Response:
    """All visible cases, filtered, newest first, cursor-paginated."""
    require_role(user, *LISTERS)
    f = _filter(user, skede, q, forsenade, mina)
    items, next_cursor = repository.list_cases(session, user, f, sort="-created_at", cursor=sida, limit=25)
    overdue = overdue_case_ids(session, user)
    params = request.query_params
    export_query = "&".join(f"{k}={v}" for k, v in params.multi_items() if k != "sida")
    stages = [s for s in Stage if not (user.role in CIVIL and s == Stage.DRAFT)]
    return render(request, "officer/list.html", {
        "title": "Alla ärenden", "items": items, "next_cursor": next_cursor, "overdue": overdue, "stages": stages,
        "filters": {"skede": skede or [], "q": q or "", "forsenade": bool(forsenade), "mina": bool(mina)},
        "export_query": export_query, "query_without_page": export_query,
    })


def _csv_cell(value: Any) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in free text."""
    s = "" if value is None else str(value)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


@router.get("/export/arenden.csv")
def export_csv(user: WebUser, session: DbSession, skede: StageQuery = None, q: str | None = None, forsenade: str | None = None,
               mina: str | None = None) -> Response:
    """The filtered case list as CSV (semicolon-separated with BOM, as Swedish Excel expects)."""
    require_role(user, *LISTERS)
    f = _filter(user, skede, q, forsenade, mina)
    rows: list[Case] = []
    cursor: str | None = None
    while True:  # whole list, page by page, so memory per query stays bounded
        items, cursor = repository.list_cases(session, user, f, sort="-created_at", cursor=cursor, limit=500)
        rows.extend(items)
        if not cursor:
            break
    overdue = overdue_case_ids(session, user)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(["Diarienummer", "Titel", "Organisation", "Organisationsnummer", "Förvaltning", "Skede", "Handläggare",
                "Sökt belopp (kr)", "Försenat", "Inskickat", "Senast ändrat"])
    for c in rows:
        w.writerow([_csv_cell(c.diarienummer), _csv_cell(c.title), _csv_cell(c.organisation.name), c.organisation.orgnr,
                    _csv_cell(c.department.name), labels.stage_label(c.stage), _csv_cell(c.officer.full_name if c.officer else ""),
                    c.requested_amount_sek, "ja" if c.id in overdue else "nej", labels.tidpunkt(c.submitted_at) if c.submitted_at else "",
                    labels.tidpunkt(c.updated_at)])
    data = "\ufeff" + buf.getvalue()
    stamp = utcnow().astimezone(labels.STOCKHOLM).strftime("%Y%m%d-%H%M")
    return Response(data.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="iop-arenden-{stamp}.csv"'})


@router.get("/oversikt")
def overview(request: Request, user: WebUser, session: DbSession, forvaltning: Id | None = None) -> Response:
    """Counts, amounts and overdue cases per stage for the department (registrars choose one or all)."""
    require_role(user, *LISTERS)
    departments = list(session.scalars(select(Department).order_by(Department.name)))
    dep_id = user.department_id if user.role in CIVIL else forvaltning
    stmt = select(Case.stage, func.count(), func.coalesce(func.sum(Case.requested_amount_sek), 0)).where(visible(user))
    if dep_id:
        stmt = stmt.where(Case.department_id == dep_id)
    counts = {stage: (n, total) for stage, n, total in session.execute(stmt.group_by(Case.stage))}
    overdue_ids = overdue_case_ids(session, user)
    over_stmt = select(Case.stage, func.count()).where(Case.id.in_(overdue_ids))
    if dep_id:
        over_stmt = over_stmt.where(Case.department_id == dep_id)
    overdue = dict(session.execute(over_stmt.group_by(Case.stage)).all()) if overdue_ids else {}
    rows = [(s, *counts.get(s, (0, 0)), overdue.get(s, 0)) for s in Stage if not (user.role in CIVIL and s == Stage.DRAFT)]
    active = [r for r in rows if r[0] not in TERMINAL and r[0] != Stage.DRAFT]
    department = session.get(Department, dep_id) if dep_id else None
    return render(request, "officer/overview.html", {
        "title": "Översikt per skede", "rows": rows, "department": department, "departments": departments,
        "totals": {"count": sum(r[1] for r in rows), "active": sum(r[1] for r in active), "active_amount": sum(r[2] for r in active),
                   "overdue": sum(r[3] for r in rows)},
        "max_count": max([r[1] for r in rows] + [1]),
    })


# ---------------------------------------------------------------- stage actions on a case


def _case_for_staff(session: Session, user: User, case_id: int) -> Case:
    require_role(user, *CIVIL)
    return get_visible_case(session, user, case_id)


def _version(form: FormData) -> int | None:
    return whole(form, "version")


@router.post("/arenden/{case_id}/tilldela")
def assign(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Assign a handläggare (default: the logged-in officer)."""
    case = _case_for_staff(session, user, case_id)
    try:
        officer_id = whole(form, "officer_id")
        if officer_id is None:
            raise ValidationFailed(errors=[{"field": "officer_id", "message": "Välj en handläggare."}])
        with attempt(session):
            cases.assign_officer(session, user, case, officer_id, _version(form))
    except AppError as exc:
        return refused(request, session, user, case, settings, "assign", form, exc, ("officer_id",))
    return redirect(f"/arenden/{case.id}", flash="tilldelat")


@router.post("/arenden/{case_id}/begar-beslut")
def request_review(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Ask an approver to move the case to the next stage (the stage gate is checked now)."""
    case = _case_for_staff(session, user, case_id)
    try:
        comment = text(form, "comment")
        if len(comment) > 5000:
            raise ValidationFailed(errors=[{"field": "comment", "message": "Högst 5 000 tecken."}])
        with attempt(session):
            reviews.request_review(session, user, case, settings, to_stage=None, approver_id=whole(form, "approver_id"),
                                   comment=comment, expected_version=_version(form))
    except AppError as exc:
        return refused(request, session, user, case, settings, "review", form, exc, ("approver_id", "comment"))
    return redirect(f"/arenden/{case.id}", flash="granskning-begard")


@router.post("/arenden/{case_id}/granskning/{review_id}/aterta")
def cancel_review(case_id: Id, review_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession,
                  settings: AppSettings) -> Response:
    """The requester takes back a pending request."""
    case = _case_for_staff(session, user, case_id)
    try:
        with attempt(session):
            reviews.cancel(session, user, case, reviews.get_review(session, case, review_id))
    except AppError as exc:
        return refused(request, session, user, case, settings, "cancel", form, exc)
    return redirect(f"/arenden/{case.id}", flash="granskning-atertagen")


def _decision_page(request: Request, session: Session, user: User, case: Case, settings: Settings, state: FormState,
                   status_code: int = 200) -> Response:
    view = casepage.load(session, user, case, settings)
    missing: list[dict[str, str]] = []
    if view.pending is not None:
        # Re-check with this approver so a delegation limit shows before the decision is attempted.
        missing = gates.check(session, case, view.pending.to_stage, settings, user)
    return render(request, "officer/decision.html", {
        "title": f"Beslut: {case.diarienummer} {case.title}", "v": view, "c": case, "form": state, "gate_missing": missing,
        "decisions": [(d.value, names.DECISIONS[d]) for d in Decision],
    }, status_code=status_code)


@router.get("/arenden/{case_id}/beslut")
def decision_page(case_id: Id, request: Request, user: WebUser, session: DbSession, settings: AppSettings) -> Response:
    """The approver's decision page for the pending review."""
    case = _case_for_staff(session, user, case_id)
    return _decision_page(request, session, user, case, settings, FormState(prefix="decision"))


@router.post("/arenden/{case_id}/beslut")
def decide(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Approve, reject or request changes, with motivation (four-eyes and delegation checked by the service)."""
    case = _case_for_staff(session, user, case_id)
    state = FormState.from_form(form, prefix="decision")
    try:
        raw_decision = text(form, "decision")
        if raw_decision not in {d.value for d in Decision}:
            raise ValidationFailed(errors=[{"field": "decision", "message": "Välj ett beslut."}])
        if len(text(form, "motivation")) > 20_000:
            raise ValidationFailed(errors=[{"field": "motivation", "message": "Högst 20 000 tecken."}])
        review = reviews.get_review(session, case, whole(form, "review_id") or 0)
        with attempt(session):
            reviews.decide(session, user, case, review, Decision(raw_decision), text(form, "motivation"), settings)
    except AppError as exc:
        state.add_app_error(exc, fields=("decision", "motivation"))
        session.expire_all()
        return _decision_page(request, session, user, get_visible_case(session, user, case_id), settings, state, state.status)
    return redirect(f"/arenden/{case.id}", flash="beslut-fattat")


# ---------------------------------------------------------------- dialogue: meetings and checklist


def _dialogue_page(request: Request, session: Session, user: User, case: Case, settings: Settings,
                   forms: dict[str, FormState] | None = None, status_code: int = 200) -> Response:
    from datetime import date

    from service.dialogue import deminimis

    view = casepage.load(session, user, case, settings, forms)
    assessment = view.assessment
    if "checklist" not in view.forms:
        values: dict[str, Any] = {"state_aid_other_basis": (assessment.state_aid_other_basis or "") if assessment else ""}
        for item in ITEMS:
            entry = (assessment.items if assessment else {}).get(item.key) or {}
            values[f"answer-{item.key}"] = entry.get("answer", "")
            values[f"comment-{item.key}"] = entry.get("comment", "")
        view.forms["checklist"] = FormState(values=values, prefix="checklist")
    dm = deminimis.compute(session, case, sek_per_eur=settings.sek_per_eur, ceiling_eur=settings.de_minimis_eur, today=date.today())
    return render(request, "officer/dialogue.html", {"title": f"Dialog: {case.title}", "v": view, "c": case, "items": ITEMS, "dm": dm},
                  status_code=status_code)


@router.get("/arenden/{case_id}/dialog")
def dialogue_page(case_id: Id, request: Request, user: WebUser, session: DbSession, settings: AppSettings) -> Response:
    """Dialogue meetings and the IOP suitability checklist."""
    return _dialogue_page(request, session, user, _case_for_staff(session, user, case_id), settings)


def _participants(raw: str) -> list[dict[str, str]]:
    """One person per line: 'Namn, organisation, roll' (semicolons also accepted)."""
    out = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in (line.split(";") if ";" in line else line.split(","))]
        out.append({"name": parts[0], "organisation": parts[1] if len(parts) > 1 else "", "role": ", ".join(parts[2:])})
    return out


MEETING_FIELDS = ("held_on", "place", "participants", "notes", "next_steps")


@router.post("/arenden/{case_id}/dialog/mote")
def add_meeting(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Record a dialogue meeting."""
    case = _case_for_staff(session, user, case_id)
    state = FormState.from_form(form, prefix="meeting")
    try:
        data = MeetingIn.model_validate({"held_on": optional(form, "held_on"), "place": text(form, "place"),
                                         "participants": _participants(text(form, "participants")),
                                         "notes": text(form, "notes"), "next_steps": text(form, "next_steps")})
        with attempt(session):
            dialogue.add_meeting(session, user, case, data)
    except ValidationError as exc:
        state.add_validation(exc, fields=MEETING_FIELDS, aliases={f"participants-{i}-name": "participants" for i in range(100)},
                             default_field="participants")
    except AppError as exc:
        state.add_app_error(exc, fields=MEETING_FIELDS)
    if state.has_errors:
        session.expire_all()
        return _dialogue_page(request, session, user, get_visible_case(session, user, case_id), settings, {"meeting": state}, state.status)
    return redirect(f"/arenden/{case.id}/dialog", flash="mote-sparat")


@router.post("/arenden/{case_id}/dialog/lamplighet")
def save_checklist(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Save the suitability checklist (partial answers allowed; the gate wants every mandatory item 'ja')."""
    case = _case_for_staff(session, user, case_id)
    state = FormState.from_form(form, prefix="checklist")
    fields = [f"answer-{i.key}" for i in ITEMS] + [f"comment-{i.key}" for i in ITEMS] + ["state_aid_other_basis"]
    try:
        items = {i.key: {"answer": text(form, f"answer-{i.key}"), "comment": text(form, f"comment-{i.key}")}
                 for i in ITEMS if text(form, f"answer-{i.key}")}
        data = AssessmentIn.model_validate({"items": items, "state_aid_other_basis": optional(form, "state_aid_other_basis")})
        with attempt(session):
            dialogue.save_assessment(session, user, case, data)
    except ValidationError as exc:
        aliases = {f"items-{i.key}-answer": f"answer-{i.key}" for i in ITEMS} | {f"items-{i.key}-comment": f"comment-{i.key}" for i in ITEMS}
        state.add_validation(exc, fields=fields, aliases=aliases, default_field="state_aid_other_basis")
    except AppError as exc:
        state.add_app_error(exc, fields=fields)
    if state.has_errors:
        session.expire_all()
        return _dialogue_page(request, session, user, get_visible_case(session, user, case_id), settings, {"checklist": state}, state.status)
    return redirect(f"/arenden/{case.id}/dialog#lamplighet", flash="lamplighet-sparad")


# ---------------------------------------------------------------- agreement terms


ROWS = {"contributions": ("party", "kind", "description", "amount_sek", "extent"),
        "instalments": ("due_on", "amount_sek"),
        "followup_schedule": ("due_on", "description", "is_final")}
PARTY_FIELDS = ("name", "orgnr", "signatory_name", "signatory_role")
TEXT_FIELDS = ("background", "purpose", "target_group", "activities", "extension_terms", "governance", "principles",
               "changes_clause", "termination_clause", "disputes_clause")
SPARE_ROWS = 2
MAX_ROWS = 200  # more than any list of the terms allows (instalments: 120)


def _kronor(value: Any) -> str:
    """Whole kronor with space as thousands separator, as people type them (the parser accepts both)."""
    return f"{value:,}".replace(",", " ") if isinstance(value, int) else ("" if value is None else str(value))


def _terms_values(terms: dict[str, Any]) -> dict[str, Any]:
    """Flatten stored or default terms into form field values."""
    values: dict[str, Any] = {}
    for party in ("public_party", "organisation_party"):
        for f in PARTY_FIELDS:
            values[f"{party}-{f}"] = (terms.get(party) or {}).get(f, "")
    for f in (*TEXT_FIELDS, "funding_amount_sek", "period_start", "period_end", "notice_period_months"):
        v = terms.get(f)
        values[f] = "" if v is None else str(v)
    values["funding_amount_sek"] = _kronor(terms.get("funding_amount_sek"))
    values["goals"] = "\n".join(terms.get("goals") or [])
    for group, cols in ROWS.items():
        for i, row in enumerate(terms.get(group) or []):
            for col in cols:
                v = row.get(col)
                if col == "is_final":
                    values[f"{group}-{i}-{col}"] = "ja" if v else ""
                else:
                    values[f"{group}-{i}-{col}"] = _kronor(v) if col == "amount_sek" else ("" if v is None else str(v))
    return values


def _row_index(key: str) -> int | None:
    """The row number of a 'group-N-column' field; None beyond MAX_ROWS (a crafted 'instalments-99999999999-x'
    would otherwise make the page render billions of spare rows)."""
    part = key.split("-")[1] if key.count("-") >= 1 else ""
    return int(part) if digits(part) and len(part) <= 4 and int(part) < MAX_ROWS else None


def _row_count(values: dict[str, Any], group: str) -> int:
    used = {i for k in values if k.startswith(group + "-") and values[k] and (i := _row_index(k)) is not None}
    return (max(used) + 1 if used else 0) + SPARE_ROWS


def _terms_from_form(form: FormData) -> tuple[dict[str, Any], dict[str, str]]:
    """The AgreementTerms payload and aliases from payload positions back to form rows (blank rows are skipped)."""
    data: dict[str, Any] = {}
    for party in ("public_party", "organisation_party"):
        data[party] = {f: text(form, f"{party}-{f}") for f in PARTY_FIELDS}
    for f in TEXT_FIELDS:
        data[f] = text(form, f)
    data["goals"] = [g.strip() for g in text(form, "goals").splitlines() if g.strip()]
    data["funding_amount_sek"] = amount(form, "funding_amount_sek")
    data["notice_period_months"] = text(form, "notice_period_months") or None
    data["period_start"] = optional(form, "period_start")
    data["period_end"] = optional(form, "period_end")
    aliases: dict[str, str] = {f"goals-{i}": "goals" for i in range(60)}
    indices = {i for k in form.keys() if any(k.startswith(g + "-") for g in ROWS) and (i := _row_index(k)) is not None}
    for group, cols in ROWS.items():
        rows = []
        for i in sorted(indices):
            row: dict[str, Any] = {}
            for col in cols:
                key = f"{group}-{i}-{col}"
                if col == "is_final":
                    row[col] = text(form, key) == "ja"
                elif col == "amount_sek":
                    row[col] = amount(form, key) if text(form, key) else None
                else:
                    row[col] = text(form, key)
            if not any(v for k, v in row.items() if k not in ("is_final",)):
                continue  # an untouched spare row
            if group == "contributions" and not row.get("extent"):
                row["extent"] = ""
            for col in cols:
                aliases[f"{group}-{len(rows)}-{col}"] = f"{group}-{i}-{col}"
            aliases[f"{group}-{len(rows)}"] = group
            rows.append(row)
        data[group] = rows
    return data, aliases


def _agreement_fields(values: dict[str, Any]) -> list[str]:
    fields = [f"{p}-{f}" for p in ("public_party", "organisation_party") for f in PARTY_FIELDS]
    fields += [*TEXT_FIELDS, "goals", "funding_amount_sek", "period_start", "period_end", "notice_period_months", *ROWS]
    for group, cols in ROWS.items():
        fields += [f"{group}-{i}-{c}" for i in range(_row_count(values, group) + 50) for c in cols]
    return fields


def _default_terms(case: Case) -> dict[str, Any]:
    """A first draft of the terms from the case and its parties."""
    defaults = {name: f.default for name, f in AgreementTerms.model_fields.items() if isinstance(f.default, str)}
    return {
        **defaults,
        "public_party": {"name": case.department.municipality, "orgnr": case.department.municipality_orgnr or ""},
        "organisation_party": {"name": case.organisation.name, "orgnr": case.organisation.orgnr},
        "background": case.need, "target_group": case.target_group, "activities": case.planned_activities,
        "funding_amount_sek": case.requested_amount_sek or None, "period_start": case.period_start, "period_end": case.period_end,
        "contributions": [
            {"party": "public", "kind": "money", "description": "Verksamhetsbidrag", "amount_sek": case.requested_amount_sek or None},
            {"party": "organisation", "kind": "in_kind", "description": case.own_contribution_in_kind or "Ideellt arbete",
             "extent": f"{case.volunteer_hours} ideella timmar" if case.volunteer_hours else ""},
        ],
    }


def _agreement_page(request: Request, session: Session, user: User, case: Case, settings: Settings, state: FormState | None = None,
                    status_code: int = 200) -> Response:
    view = casepage.load(session, user, case, settings)
    if state is None:
        row = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
        state = FormState(values=_terms_values(row.terms if row else _default_terms(case)), prefix="avtal")
    counts = {g: _row_count(state.values, g) for g in ROWS}
    return render(request, "officer/agreement.html", {"title": f"Avtalsvillkor: {case.title}", "v": view, "c": case, "form": state,
                                                      "counts": counts}, status_code=status_code)


@router.get("/arenden/{case_id}/avtal")
def agreement_page(case_id: Id, request: Request, user: WebUser, session: DbSession, settings: AppSettings) -> Response:
    """The structured IOP agreement form."""
    return _agreement_page(request, session, user, _case_for_staff(session, user, case_id), settings)


@router.post("/arenden/{case_id}/avtal")
def save_agreement(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Validate and save the complete agreement terms."""
    case = _case_for_staff(session, user, case_id)
    state = FormState.from_form(form, prefix="avtal")
    data, aliases = _terms_from_form(form)
    fields = _agreement_fields(state.values)
    try:
        terms = AgreementTerms.model_validate(data)
        with attempt(session):
            agreements.save_terms(session, user, case, terms)
    except ValidationError as exc:
        state.add_validation(exc, fields=fields, aliases=aliases, default_field=None)
    except AppError as exc:
        state.add_app_error(exc, fields=fields)
    if state.has_errors:
        session.expire_all()
        return _agreement_page(request, session, user, get_visible_case(session, user, case_id), settings, state, state.status)
    return redirect(f"/arenden/{case.id}", flash="avtal-sparat")


@router.post("/arenden/{case_id}/underskrift")
def add_signature(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Record a party's signature of the agreement."""
    case = _case_for_staff(session, user, case_id)
    fields = ("party", "name", "role", "signed_on", "method")
    try:
        data = SignatureIn.model_validate({"party": text(form, "party"), "name": text(form, "name"), "role": text(form, "role"),
                                           "signed_on": optional(form, "signed_on"), "method": text(form, "method") or "signed_copy"})
        with attempt(session):
            agreements.add_signature(session, user, case, data)
    except (ValidationError, AppError) as exc:
        return refused(request, session, user, case, settings, "signature", form, exc, fields)
    return redirect(f"/arenden/{case.id}#avtal", flash="underskrift-sparad")


# ---------------------------------------------------------------- documents and follow-up


@router.post("/arenden/{case_id}/dokument/skapa")
def generate_document(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings,
                      store: Store) -> Response:
    """Generate a document (agreement, decision, minutes, follow-up request) from the case as a new version."""
    case = _case_for_staff(session, user, case_id)
    try:
        raw = text(form, "kind")
        kind = DocumentKind(raw) if raw in {k.value for k in BUILDERS} else None
        if kind is None:
            raise ValidationFailed(errors=[{"field": "kind", "message": "Välj vilket dokument som ska skapas."}])
        ensure_case_officer(user, case)
        with attempt(session):
            documents.generate(session, store, user, case, kind)
    except AppError as exc:
        return refused(request, session, user, case, settings, "generate", form, exc, ("kind",))
    return redirect(f"/arenden/{case.id}#dokument", flash="dokument-skapat")


@router.post("/arenden/{case_id}/dokument/{doc_id}/pdf")
def pdfa_copy(case_id: Id, doc_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings,
              store: Store) -> Response:
    """Store a PDF/A-2b copy of a generated document (LibreOffice, about a second)."""
    case = _case_for_staff(session, user, case_id)
    try:
        ensure_case_officer(user, case)
        source = documents.get_visible_document(session, user, case, doc_id)
        with attempt(session):
            documents.pdfa_copy(session, store, user, case, source)
    except AppError as exc:
        return refused(request, session, user, case, settings, "generate", form, exc)
    return redirect(f"/arenden/{case.id}#dokument", flash="pdf-skapad")


@router.post("/arenden/{case_id}/uppfoljning/planera")
def schedule_report(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Schedule a follow-up report for the organisation."""
    case = _case_for_staff(session, user, case_id)
    fields = ("period_start", "period_end", "due_on", "is_final")
    try:
        data = ReportScheduleIn.model_validate({"period_start": optional(form, "period_start"), "period_end": optional(form, "period_end"),
                                                         "due_on": optional(form, "due_on"), "is_final": text(form, "is_final") == "ja"})
        with attempt(session):
            followup.schedule(session, user, case, data)
    except (ValidationError, AppError) as exc:
        return refused(request, session, user, case, settings, "schedule", form, exc, fields)
    return redirect(f"/arenden/{case.id}#uppfoljning", flash="rapport-planerad")


@router.post("/arenden/{case_id}/uppfoljning/{report_id}/bedom")
def assess_report(case_id: Id, report_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession,
                  settings: AppSettings) -> Response:
    """Approve a follow-up report or ask for completion."""
    case = _case_for_staff(session, user, case_id)
    try:
        data = ReportAssessmentIn.model_validate({"assessment": text(form, "assessment"), "comment": text(form, "comment")})
        with attempt(session):
            followup.assess(session, user, case, report_id, data)
    except (ValidationError, AppError) as exc:
        return refused(request, session, user, case, settings, f"assess-{report_id}", form, exc, ("assessment", "comment"))
    return redirect(f"/arenden/{case.id}#uppfoljning", flash="rapport-bedomd")

