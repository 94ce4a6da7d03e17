"""Put a case in the state where its stage gate passes (used by transition tests)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from service.agreements.models import Agreement, Party, Signature
from service.agreements.schemas import AgreementTerms
from service.cases.models import Case
from service.cases.stages import Stage
from service.dialogue.checklist import ITEMS
from service.dialogue.models import DialogueMeeting, SuitabilityAssessment
from service.documents.builders import BUILDERS, FILENAMES
from service.documents.models import Document, DocumentKind
from service.documents.rendering import DOCX_CONTENT_TYPE
from service.followup.models import Assessment, FollowUpReport


def terms_payload(org_name: str, orgnr: str, funding: int = 400_000) -> dict:
    """A complete, valid agreement as JSON."""
    half = funding // 2
    return {
        "public_party": {"name": "Exempelstads kommun", "orgnr": "212000-0142", "signatory_name": "Eva Ek", "signatory_role": "Förvaltningschef"},
        "organisation_party": {"name": org_name, "orgnr": orgnr, "signatory_name": "Olle Ordförande", "signatory_role": "Ordförande"},
        "background": "Behovsanalys gjord tillsammans under dialogen.",
        "purpose": "Minska ofrivillig ensamhet.",
        "goals": ["200 deltagare per år", "Tre träffar i veckan"],
        "target_group": "Äldre över 70 år.",
        "activities": "Träffpunkt, telefonkedja, utflykter.",
        "contributions": [
            {"party": "public", "kind": "money", "description": "Verksamhetsbidrag", "amount_sek": funding},
            {"party": "organisation", "kind": "in_kind", "description": "Ideella timmar", "extent": "800 timmar/år"},
        ],
        "funding_amount_sek": funding,
        "instalments": [{"due_on": "2027-01-15", "amount_sek": half}, {"due_on": "2027-07-15", "amount_sek": funding - half}],
        "period_start": "2027-01-01",
        "period_end": "2028-12-31",
        "extension_terms": "Kan förlängas ett år i taget efter gemensam utvärdering.",
        "notice_period_months": 6,
        "governance": "Styrgrupp med två representanter per part, möts kvartalsvis.",
        "followup_schedule": [{"due_on": "2028-01-31", "description": "Årsrapport"}, {"due_on": "2029-02-28", "description": "Slutrapport", "is_final": True}],
    }


def add_document(db: Session, c: Case, kind: DocumentKind) -> Document:
    """A document row as the documents module would write it."""
    n = db.query(Document).filter_by(case_id=c.id, kind=kind).count() + 1
    generated = kind in BUILDERS  # generated documents name their template; uploads do not
    doc = Document(case_id=c.id, kind=kind, version=n, filename=f"{kind.value}.docx",
                   content_type=DOCX_CONTENT_TYPE if generated else "application/octet-stream",
                   size=3, sha256="0" * 64, storage_key=f"cases/{c.id}/{kind.value}/v{n}/{kind.value}.docx",
                   template_name=f"{FILENAMES[kind]}.docx" if generated else None)
    db.add(doc)
    db.flush()
    return doc


def satisfy_gate(db: Session, c: Case, world) -> None:  # noqa: ANN001
    """Record whatever the gate out of the case's current stage needs."""
    if c.stage == Stage.DIALOGUE:
        db.add(DialogueMeeting(case_id=c.id, held_on=date(2026, 10, 1), participants=[{"name": "A"}]))
        db.add(SuitabilityAssessment(case_id=c.id, items={i.key: {"answer": "yes", "comment": ""} for i in ITEMS}))
    elif c.stage == Stage.AGREEMENT:
        terms = AgreementTerms.model_validate(terms_payload(world.org.name, world.org.orgnr, c.requested_amount_sek))
        db.add(Agreement(case_id=c.id, terms=terms.model_dump(mode="json"), funding_amount_sek=terms.funding_amount_sek,
                         period_start=terms.period_start, period_end=terms.period_end))
        db.flush()  # the terms first, then the document generated from them
        add_document(db, c, DocumentKind.AGREEMENT)
        signed = add_document(db, c, DocumentKind.SIGNED_AGREEMENT)
        db.add(Signature(case_id=c.id, party=Party.PUBLIC, name="Eva Ek", role="Förvaltningschef", signed_on=date(2026, 11, 1), document_id=signed.id))
        db.add(Signature(case_id=c.id, party=Party.ORGANISATION, name="Olle", role="Ordförande", signed_on=date(2026, 11, 2), document_id=signed.id))
    elif c.stage == Stage.FOLLOW_UP:
        db.add(FollowUpReport(case_id=c.id, period_start=date(2027, 1, 1), period_end=date(2027, 12, 31), due_on=date(2028, 1, 31),
                              is_final=True, content={"activities_done": "x"}, assessment=Assessment.APPROVED))
    db.flush()


def signed_agreement_case(db: Session, world, terms: AgreementTerms) -> tuple[Case, Signature]:  # noqa: ANN001
    """A case in the agreement stage whose terms are drawn up and signed by the municipality today (terms frozen)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from factories import case

    c = case(db, world.org, world.dep, stage=Stage.AGREEMENT, officer_id=world.officer.id)
    db.add(Agreement(case_id=c.id, terms=terms.model_dump(mode="json"), funding_amount_sek=terms.funding_amount_sek,
                     period_start=terms.period_start, period_end=terms.period_end))
    db.flush()
    add_document(db, c, DocumentKind.AGREEMENT)
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date()
    signature = Signature(case_id=c.id, party=Party.PUBLIC, name="Eva Ek", role="Förvaltningschef", signed_on=today)
    db.add(signature)
    db.flush()
    return c, signature
