"""Every decision gets its own beslut document, made by the outbox: the review's own outcome, amount, delegation and appeal text."""

from __future__ import annotations

import io
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from docx import Document as Docx
from factories import World, case
from gates_setup import satisfy_gate
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.cases import service as cases
from service.cases.stages import Stage
from service.config import AppealCourt, Settings
from service.documents import service as documents
from service.documents.models import Document, DocumentKind
from service.effects import HANDLERS
from service.errors import Conflict
from service.notifications.mailer import FileMailer
from service.outbox.service import Context, process
from service.reviews import service as reviews
from service.reviews.models import Decision
from storage.filesystem import FilesystemStore

COURT = AppealCourt(court="Förvaltningsrätten i Luleå", address="Box 849, 971 26 Luleå", email="forvaltningsrattenilulea@dom.se",
                    notice_board_url="https://anslagstavla.exempelstad.se")


@pytest.fixture
def outbox(fresh_engine, tmp_path: Path):  # noqa: ANN001, ANN201
    """A committing session factory and a run of the real outbox (files store, files mailer)."""
    store = FilesystemStore(tmp_path / "objects")
    factory = sessionmaker(fresh_engine, expire_on_commit=False)

    def run(settings: Settings) -> None:
        ctx = Context(settings=settings, mailer=FileMailer(tmp_path / "mail", settings.mail_from), store_factory=lambda: store,
                      handlers=HANDLERS)
        for _ in range(3):  # decisions emit e-mails, which the next run sends
            process(factory, ctx)

    run.factory, run.store, run.mail = factory, store, tmp_path / "mail"
    return run


def _settings(municipality: str) -> Settings:
    return Settings(appeal_courts={municipality: COURT})


def _text(store: FilesystemStore, doc: Document) -> str:
    d = Docx(io.BytesIO(b"".join(store.open(doc.storage_key, doc.storage_version_id))))
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def _decisions(s: Session, case_id: int) -> list[Document]:
    return list(s.scalars(select(Document).where(Document.case_id == case_id, Document.kind == DocumentKind.DECISION).order_by(Document.id)))


def test_two_decisions_before_the_outbox_runs_give_two_documents_each_of_its_own_review(outbox) -> None:  # noqa: ANN001
    with outbox.factory() as s, s.begin():
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
        settings = _settings(w.dep.municipality)
        first = reviews.request_review(s, w.officer, c, settings, to_stage=None, approver_id=None, comment="")
        reviews.decide(s, w.approver, c, first, Decision.CHANGES_REQUESTED, "Beskriv målgruppen tydligare.", settings)
        c.open_for_changes = False  # the organisation has resubmitted
        second = reviews.request_review(s, w.officer, c, settings, to_stage=None, approver_id=None, comment="")
        reviews.decide(s, w.approver2, c, second, Decision.APPROVE, "Behovet är styrkt.", settings)
        case_id, ids = c.id, (first.id, second.id)
    outbox(settings)
    outbox(settings)  # a second run makes nothing twice
    with outbox.factory() as s:
        docs = _decisions(s, case_id)
        assert [d.review_id for d in docs] == list(ids)
        returned, approved = (_text(outbox.store, d) for d in docs)
    assert "att återremittera" in returned and "Beskriv målgruppen tydligare." in returned
    assert "att godkänna" not in returned and "Behovet är styrkt." not in returned
    assert "att godkänna" in approved and "Behovet är styrkt." in approved and "återremittera" not in approved
    # Neither step is final: no appeal page, the reason it cannot be appealed instead.
    for text in (returned, approved):
        assert "Hur man överklagar" not in text and "kan inte överklagas" in text


def test_agreement_decision_states_the_agreement_funding_with_delegation_and_appeal(outbox) -> None:  # noqa: ANN001
    with outbox.factory() as s, s.begin():
        w = World(s)
        w.approver2.delegation_reference = "Socialnämndens delegationsordning, punkt 4.2"
        c = case(s, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id, requested_amount_sek=1_200_000)
        satisfy_gate(s, c, w)  # an agreement funding 1 200 000 kr
        c.requested_amount_sek = 800_000  # what was asked for once
        settings = _settings(w.dep.municipality)
        r = reviews.request_review(s, w.officer, c, settings, to_stage=None, approver_id=None, comment="")
        reviews.decide(s, w.approver2, c, r, Decision.APPROVE, "Överenskommelsen är klar.", settings)
        case_id = c.id
    outbox(settings)
    with outbox.factory() as s:
        (doc,) = _decisions(s, case_id)
        text = _text(outbox.store, doc)
    assert "Överenskommen finansiering\n1 200 000 kr" in text and "800 000 kr" not in text
    assert "Socialnämndens delegationsordning, punkt 4.2, beloppsgräns 5 000 000 kr" in text
    assert "Hur man överklagar" in text
    assert "Förvaltningsrätten i Luleå" in text and "Box 849, 971 26 Luleå" in text
    assert "där nämnden anmäldes om delegationsbeslutet har justerats" in text
    assert "https://anslagstavla.exempelstad.se" in text
    assert "Se kommunens anslagstavla för adress" not in text


def test_rejection_names_the_requested_amount_and_can_be_appealed(outbox) -> None:  # noqa: ANN001
    with outbox.factory() as s, s.begin():
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id, requested_amount_sek=400_000)
        settings = _settings(w.dep.municipality)
        r = reviews.request_review(s, w.officer, c, settings, to_stage=None, approver_id=None, comment="")
        reviews.decide(s, w.approver, c, r, Decision.REJECT, "Verksamheten ska upphandlas.", settings)
        case_id = c.id
    outbox(settings)
    with outbox.factory() as s:
        text = _text(outbox.store, _decisions(s, case_id)[0])
    assert "att avslå" in text and "Ansökt belopp\n400 000 kr" in text and "Hur man överklagar" in text


def test_termination_gets_its_own_decision_and_the_organisation_is_told(outbox) -> None:  # noqa: ANN001
    with outbox.factory() as s, s.begin():
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id, requested_amount_sek=600_000)
        satisfy_gate(s, c, w)
        c.stage = Stage.FOLLOW_UP
        s.flush()
        settings = _settings(w.dep.municipality)
        cases.terminate(s, w.approver2, c, "Verksamheten har upphört.")
        case_id, member = c.id, w.member.email
    outbox(settings)
    outbox(settings)
    with outbox.factory() as s:
        (doc,) = _decisions(s, case_id)
        assert doc.review_id is None
        text = _text(outbox.store, doc)
    assert "att avsluta partnerskapet i förtid" in text and "Verksamheten har upphört." in text
    assert "Överenskommen finansiering\n600 000 kr" in text and "Hur man överklagar" in text
    mails = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in outbox.mail.glob("*.eml")]
    told = [m for m in mails if m["To"] == member]
    assert len(told) == 1 and "avslutas i förtid" in told[0]["Subject"]
    assert "Verksamheten har upphört." in told[0].get_content()


def test_appealable_decision_without_a_configured_court_is_refused(db, tmp_path: Path) -> None:  # noqa: ANN001
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    settings = Settings(appeal_courts={})
    r = reviews.request_review(db, w.officer, c, settings, to_stage=None, approver_id=None, comment="")
    reviews.decide(db, w.approver, c, r, Decision.REJECT, "Avslag.", settings)
    with pytest.raises(Conflict, match="förvaltningsrätt"):
        documents.generate(db, FilesystemStore(tmp_path), None, c, DocumentKind.DECISION, settings=settings)
