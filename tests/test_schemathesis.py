"""Property-based fuzzing of every API operation with schemathesis, as every role, on a real committed database.

Valid and invalid requests (schemathesis' positive and negative generation), path ids mostly real rows.
Checks: no 5xx, responses (errors included) match the documented schema, status code and content type.
Bounded and deterministic: a few examples per operation, a wall-clock budget per backend. Deeper, random run:
IOP_FUZZ_EXAMPLES=200 IOP_FUZZ_BUDGET=900 IOP_FUZZ_RANDOM=1 .venv/bin/pytest tests/test_schemathesis.py
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import schemathesis
from factories import World, auth, case
from gates_setup import add_document, terms_payload
from helpers import committing_sessions, drop_sessions, use_sessions
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance
from sqlalchemy.orm import sessionmaker

from service.agreements.models import Agreement
from service.agreements.schemas import AgreementTerms
from service.auth.ratelimit import LoginLimiter, get_login_limiter
from service.cases.stages import Stage
from service.reads import reader_for
from service.db import utcnow
from service.dialogue.models import DialogueMeeting
from service.documents import service as documents
from service.documents.models import DocumentKind
from service.followup.models import FollowUpReport
from service.messages.models import Message
from service.organisations.models import ContactPerson
from service.reviews.models import Review, ReviewStatus
from storage.filesystem import FilesystemStore

EXAMPLES = int(os.environ.get("IOP_FUZZ_EXAMPLES", "25"))
BUDGET_SECONDS = float(os.environ.get("IOP_FUZZ_BUDGET", "40"))  # per backend
MIN_REQUESTS = 3  # every operation gets at least this many real requests, whatever the budget
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
# Ids just past the INTEGER column range: they must give 4xx, never reach the driver.
OUT_OF_RANGE = [2**31, 2**63]
# The case each sub-resource of the fuzzing world belongs to (key into the world's ids).
OWNER = {"review_id": "dialogue_case", "doc_id": "dialogue_case", "message_id": "dialogue_case", "report_id": "follow_up_case"}


@pytest.fixture
def fuzz_world(app, fresh_engine, tmp_path) -> Iterator[dict]:  # noqa: ANN001
    """Committed data for every role and every path parameter; requests commit for real."""
    factory = sessionmaker(bind=fresh_engine, expire_on_commit=False)

    store = FilesystemStore(tmp_path / "objects")
    use_sessions(app, committing_sessions(factory), reader_for(fresh_engine))
    app.dependency_overrides[documents.get_store] = lambda: store
    # Generated logins fail by the hundred: count them apart from the process-wide limiter other tests use.
    limiter = LoginLimiter(5, 900)
    app.dependency_overrides[get_login_limiter] = lambda: limiter
    with factory() as s:
        w = World(s)
        other_dep_officer = World(s).officer
        by_stage = {st_: case(s, w.org, w.dep, stage=st_, officer_id=None if st_ == Stage.DRAFT else w.officer.id)
                    for st_ in (Stage.DRAFT, Stage.IDENTIFY_NEED, Stage.DIALOGUE, Stage.AGREEMENT, Stage.FOLLOW_UP, Stage.CLOSED)}
        foreign = case(s, w.other_org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
        dialogue, agreement, follow_up = by_stage[Stage.DIALOGUE], by_stage[Stage.AGREEMENT], by_stage[Stage.FOLLOW_UP]
        s.add(DialogueMeeting(case_id=dialogue.id, held_on=date(2026, 10, 1), participants=[{"name": "Anna"}]))
        terms = AgreementTerms.model_validate(terms_payload(w.org.name, w.org.orgnr))
        s.add(Agreement(case_id=agreement.id, terms=terms.model_dump(mode="json"), funding_amount_sek=terms.funding_amount_sek,
                        period_start=terms.period_start, period_end=terms.period_end))
        review = Review(case_id=dialogue.id, from_stage=Stage.DIALOGUE, to_stage=Stage.AGREEMENT, requested_by_id=w.officer.id,
                        requested_at=utcnow(), due_at=utcnow() + timedelta(days=14), status=ReviewStatus.PENDING)
        report = FollowUpReport(case_id=follow_up.id, period_start=date(2027, 1, 1), period_end=date(2027, 12, 31), due_on=date(2028, 1, 31))
        contact = ContactPerson(organisation_id=w.org.id, name="Olle Ordförande", email="olle@forening.example.se", role="Ordförande")
        message = Message(case_id=dialogue.id, author_id=w.member.id, body="Hej!")
        s.add_all([review, report, contact, message])
        s.flush()
        doc = documents.store_document(s, store, case=dialogue, kind=DocumentKind.ATTACHMENT, filename="bilaga.pdf",
                                       content=b"%PDF-1.4\n%%EOF\n", content_type="application/pdf", user=w.member)
        add_document(s, agreement, DocumentKind.AGREEMENT)
        s.commit()
        roles = {
            "anonymous": {},
            "org_member": auth(w.member),
            "org_member_other": auth(w.other_member),
            "officer": auth(w.officer),
            "officer_other_dep": auth(other_dep_officer),
            "approver": auth(w.approver),
            "registrar": auth(w.registrar),
            "admin": auth(w.admin),
        }
        ids = {
            "case_id": [c.id for c in by_stage.values()] + [foreign.id],
            "org_id": [w.org.id, w.other_org.id],
            "review_id": [review.id],
            "report_id": [report.id],
            "doc_id": [doc.id],
            "document_id": [doc.id],
            "contact_id": [contact.id],
            "message_id": [message.id],
            "dialogue_case": [dialogue.id],
            "follow_up_case": [follow_up.id],
        }
    yield {"roles": roles, "ids": ids}
    drop_sessions(app)
    app.dependency_overrides.pop(documents.get_store, None)
    app.dependency_overrides.pop(get_login_limiter, None)


def _origin(exc: BaseException) -> str:
    """Where an exception raised inside the app came from (schemathesis re-raises it without the app's frames)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/service/" in f.filename or "/storage/" in f.filename]
    return "".join(traceback.format_list(frames[-4:])) + "".join(traceback.format_exception_only(exc))


def test_api_fuzz_every_operation_every_role(app, fuzz_world) -> None:  # noqa: ANN001
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50, "schema lost its operations"
    roles, ids = fuzz_world["roles"], fuzz_world["ids"]
    slice_seconds = BUDGET_SECONDS / len(operations)
    failures: list[str] = []
    sent: dict[str, int] = {}
    statuses: dict[int, int] = {}

    def fuzz(operation, label: str, stop_at: float):  # noqa: ANN001, ANN202
        # Valid requests reach the handlers; invalid ones (wrong types, missing fields) exercise validation and errors.
        cases = st.one_of(operation.as_strategy(), operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

        @settings(max_examples=EXAMPLES, deadline=timedelta(seconds=5), database=None,
                  derandomize=os.environ.get("IOP_FUZZ_RANDOM") != "1", phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(generated=cases, role=st.sampled_from(sorted(roles)), data=st.data())
        def run(generated, role, data) -> None:  # noqa: ANN001
            params = generated.path_parameters or {}
            owners = [OWNER[name] for name in params if name in OWNER]
            for name, value in list(params.items()):
                if name in ids:
                    # Mostly real rows (a sub-resource with its own case) so handlers run past the lookups;
                    # sometimes the generated value or an id past the column range.
                    real = [ids[owners[0]]] * 4 if name == "case_id" and owners else ids[name] * 4
                    generated.path_parameters[name] = data.draw(st.sampled_from([*real, *ids[name], value, *OUT_OF_RANGE]), label=name)
            # After the draws, so a skipped example draws the same data as a sent one (Hypothesis checks that).
            if sent[label] >= MIN_REQUESTS and time.monotonic() > stop_at:
                return  # this operation's share of the budget is used up
            sent[label] += 1
            response = generated.call_and_validate(headers=roles[role], checks=CHECKS)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        return run

    for operation in operations:
        sent[operation.label] = 0
        try:
            fuzz(operation, operation.label, time.monotonic() + slice_seconds)()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every operation's failure, report them together
            failures.append(f"{operation.label}:\n{str(exc)[:1500]}\n{_origin(exc)[-2500:]}")

    print(f"\nschemathesis: {sum(sent.values())} requests over {len(sent)} operations, statuses {dict(sorted(statuses.items()))}")
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)
    assert all(n >= 1 for n in sent.values()), [k for k, n in sent.items() if n == 0]
    # The fuzzing must get past authorisation and validation, not only collect 401/403/404/422.
    assert sum(n for code, n in statuses.items() if code < 300) > len(operations)
