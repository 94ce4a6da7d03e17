"""The agreement's statsstöd clause (issue 19): the basis the aid rests on, printed, not an always-empty field."""

from __future__ import annotations

import io
from datetime import date

import docx as python_docx
from factories import World, case
from gates_setup import terms_payload

from service.agreements.models import Agreement
from service.agreements.schemas import AgreementTerms
from service.cases.stages import Stage
from service.dialogue.models import SuitabilityAssessment
from service.documents import builders
from service.documents.rendering import render


def _text(content: bytes) -> str:
    d = python_docx.Document(io.BytesIO(content))
    return "\n".join([p.text for p in d.paragraphs] + [p.text for t in d.tables for r in t.rows for c in r.cells for p in c.paragraphs])


def test_the_agreement_states_the_state_aid_basis(db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    t = AgreementTerms.model_validate(terms_payload(w.org.name, w.org.orgnr, 460_000))
    db.add(Agreement(case_id=c.id, terms=t.model_dump(mode="json"), funding_amount_sek=460_000, period_start=t.period_start, period_end=t.period_end))
    db.flush()
    text = _text(render(builders.agreement(db, c, date(2026, 12, 4))).content)
    assert "Statsstöd: Stödet lämnas som stöd av mindre betydelse (de minimis)" in text
    assert "40 000 euro" in text  # 460 000 kr at 11.5 kr/euro: the figure the gate checked
    db.add(SuitabilityAssessment(case_id=c.id, items={}, state_aid_other_basis="SGEI-beslut 2012/21/EU, kommunfullmäktige 2026-03-01"))
    db.flush()
    text = _text(render(builders.agreement(db, c, date(2026, 12, 4))).content)
    assert "Statsstöd: SGEI-beslut 2012/21/EU, kommunfullmäktige 2026-03-01" in text and "de minimis" not in text
