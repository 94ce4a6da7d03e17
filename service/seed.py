"""Demo data for `make dev`: departments, organisations, a user per role, cases in every stage."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.agreements.schemas import AgreementTerms
from service.auth.models import Role, User
from service.auth.security import hash_password
from service.cases import service as cases
from service.cases.schemas import CaseCreate
from service.cases.stages import Action, Stage
from service.config import get_settings
from service.db import get_sessionmaker, utcnow
from service.departments.models import Department
from service.dialogue.checklist import ITEMS
from service.dialogue.models import DialogueMeeting, SuitabilityAssessment
from service.organisations.models import ContactPerson, LegalForm, Organisation
from service.reviews import service as reviews
from service.reviews.models import Decision

DEMO_PASSWORD = "iop-demo-2026"

ORGS = [
    ("Föreningen Gemenskap Norrby", "802456-7896", LegalForm.IDEELL_FORENING, "Motverka ofrivillig ensamhet bland äldre."),
    ("Stiftelsen Läxhjälpen", "802479-7410", LegalForm.STIFTELSE, "Läxhjälp och mentorskap för unga."),
    ("Kvinnojouren Trygga Hem", "802501-3353", LegalForm.IDEELL_FORENING, "Stöd och skyddat boende för våldsutsatta."),
]


def _user(s: Session, email: str, name: str, role: Role, **kw) -> User:  # noqa: ANN003
    u = User(email=email, full_name=name, role=role, password_hash=hash_password(DEMO_PASSWORD), **kw)
    s.add(u)
    s.flush()
    return u


def _proposal(title: str, dep: Department, amount: int) -> CaseCreate:
    return CaseCreate(
        title=title, department_id=dep.id, need="Behovet är identifierat tillsammans med förvaltningen under 2026.",
        target_group="Boende i Norrby och Söderby.", planned_activities="Öppen verksamhet tre dagar i veckan.",
        own_contribution_sek=75_000, own_contribution_in_kind="Lokaler och ideella ledare", volunteer_hours=1200,
        requested_amount_sek=amount, period_start=date(2027, 1, 1), period_end=date(2028, 12, 31),
    )


def seed(s: Session) -> list[tuple[str, str, str]]:
    """Create the demo data; returns (role, e-mail, name) of the demo accounts."""
    settings = get_settings()
    soc = Department(name="Socialförvaltningen", diarie_prefix="SOC", municipality="Exempelstads kommun", municipality_orgnr="212000-0142")
    kuf = Department(name="Kultur- och fritidsförvaltningen", diarie_prefix="KUF", municipality="Exempelstads kommun", municipality_orgnr="212000-0142")
    s.add_all([soc, kuf])
    orgs = []
    for name, orgnr, form, purpose in ORGS:
        org = Organisation(name=name, orgnr=orgnr, legal_form=form, purpose=purpose, city="Exempelstad", street_address="Storgatan 1",
                           postal_code="123 45", joined_overenskommelse_on=date(2025, 3, 1), verified_at=utcnow())
        org.contacts = [ContactPerson(name=f"Kontakt {name.split()[-1]}", email=f"kontakt@{name.split()[-1].lower()}.example.se", role="Ordförande")]
        s.add(org)
        orgs.append(org)
    s.flush()
    head = _user(s, "chef@exempelstad.se", "Eva Förvaltningschef", Role.APPROVER, title="Förvaltningschef", department_id=soc.id, delegated_limit_sek=5_000_000)
    approver = _user(s, "beslut@exempelstad.se", "Bo Enhetschef", Role.APPROVER, title="Enhetschef", department_id=soc.id,
                     delegated_limit_sek=1_000_000, manager_id=head.id)
    officer = _user(s, "handlaggare@exempelstad.se", "Anna Handläggare", Role.OFFICER, title="Handläggare", department_id=soc.id, manager_id=approver.id)
    _user(s, "handlaggare2@exempelstad.se", "Karl Handläggare", Role.OFFICER, title="Handläggare", department_id=kuf.id)
    _user(s, "registrator@exempelstad.se", "Rut Registrator", Role.REGISTRAR, title="Registrator")
    _user(s, "admin@exempelstad.se", "Sam Systemförvaltare", Role.ADMIN)
    members = [_user(s, f"medlem{i + 1}@forening.example.se", f"Medlem {org.name}", Role.ORG_MEMBER, organisation_id=org.id) for i, org in enumerate(orgs)]

    def submitted(title: str, member: User, amount: int = 400_000):  # noqa: ANN202
        c = cases.create(s, member, _proposal(title, soc, amount))
        return cases.submit(s, member, c, settings)

    def advance(c, decision: Decision = Decision.APPROVE, motivation: str = "Uppfyller kraven för IOP.") -> None:  # noqa: ANN001
        r = reviews.request_review(s, officer, c, settings, to_stage=None, approver_id=None, comment="Klart för beslut")
        reviews.decide(s, approver, c, r, decision, motivation, settings)

    cases.create(s, members[0], _proposal("Utkast: Sommarläger för unga", soc, 150_000))
    submitted("Mötesplats för äldre i Norrby", members[0])
    c = submitted("Läxhjälp på Söderby bibliotek", members[1], 300_000)
    cases.assign_officer(s, officer, c, officer.id)
    advance(c)  # -> dialogue
    c = submitted("Jourverksamhet och skyddat boende", members[2], 800_000)
    cases.assign_officer(s, officer, c, officer.id)
    advance(c)
    s.add(DialogueMeeting(case_id=c.id, held_on=date(2026, 10, 12), place="Stadshuset", participants=[{"name": "Anna Handläggare"}, {"name": "Jourens ordförande"}],
                          notes="Gemensam behovsbild.", next_steps="Avtalsutkast"))
    s.add(SuitabilityAssessment(case_id=c.id, items={i.key: {"answer": "yes", "comment": ""} for i in ITEMS}, assessed_by_id=officer.id))
    s.flush()
    advance(c)  # -> agreement
    terms = AgreementTerms.model_validate({
        "public_party": {"name": "Exempelstads kommun", "orgnr": "212000-0142", "signatory_name": "Eva Förvaltningschef", "signatory_role": "Förvaltningschef"},
        "organisation_party": {"name": orgs[2].name, "orgnr": orgs[2].orgnr, "signatory_name": members[2].full_name, "signatory_role": "Ordförande"},
        "background": "Behov av skyddat boende.", "purpose": "Trygghet för våldsutsatta.", "goals": [
            {"title": "40 platser per år", "indicators": [
                {"name": "Platser i boendet", "unit": "count", "baseline": 30, "target": 40, "how_measured": "Beläggningsstatistik per månad"},
                {"name": "Jourtimmar", "unit": "hours", "target": 2000, "how_measured": "Jourkvinnornas tidrapporter"}]}],
        "target_group": "Våldsutsatta kvinnor och barn.", "activities": "Jour, boende, samtalsstöd.",
        "contributions": [{"party": "public", "kind": "money", "description": "Verksamhetsbidrag", "amount_sek": 800_000},
                          {"party": "organisation", "kind": "in_kind", "description": "Ideella jourkvinnor", "extent": "2 000 timmar/år"}],
        "funding_amount_sek": 800_000, "instalments": [{"due_on": "2027-01-15", "amount_sek": 400_000}, {"due_on": "2027-07-15", "amount_sek": 400_000}],
        "period_start": "2027-01-01", "period_end": "2028-12-31", "extension_terms": "Ett år i taget.", "notice_period_months": 6,
        "governance": "Styrgrupp kvartalsvis.", "followup_schedule": [{"due_on": "2028-01-31", "description": "Årsrapport"}, {"due_on": "2029-02-28", "description": "Slutrapport", "is_final": True}],
    })
    # The named signatories are demo accounts (Eva Förvaltningschef, the organisation's member), so e-signing can be tried.
    s.add(Agreement(case_id=c.id, terms=terms.model_dump(mode="json"), funding_amount_sek=800_000, period_start=terms.period_start, period_end=terms.period_end))
    # Later stages need signed documents; the demo places these cases directly, with a recorded reason.
    for title, stage in (("Fritidsgård i samverkan", Stage.FOLLOW_UP), ("Språkcafé 2024–2025", Stage.CLOSED)):
        c = submitted(title, members[1], 250_000)
        cases.assign_officer(s, officer, c, officer.id)
        for target in (Stage.DIALOGUE, Stage.AGREEMENT, Stage.FOLLOW_UP, Stage.CLOSED)[: 3 if stage == Stage.FOLLOW_UP else 4]:
            cases.move(s, c, target, actor=approver, action=Action.REVIEW_APPROVE, reason="Demodata")
        s.flush()
    c = submitted("Kulturprojekt som är ett köp av tjänst", members[0], 200_000)
    cases.assign_officer(s, officer, c, officer.id)
    advance(c, Decision.REJECT, "Verksamheten är ett köp av tjänst och ska upphandlas enligt LOU.")
    c = submitted("Återkallat förslag", members[2], 100_000)
    cases.withdraw(s, members[2], c, "Styrelsen prioriterar annat i år.")
    s.flush()
    return [(u.role, u.email, u.full_name) for u in s.scalars(select(User).order_by(User.id))]


def main() -> None:
    """Seed only an empty database, then print the demo accounts."""
    with get_sessionmaker()() as s:
        if s.scalar(select(func.count()).select_from(User)):
            print("Databasen har redan data; ingen demodata laddas. / Database not empty; demo data not loaded.")
            accounts = [(u.role, u.email, u.full_name) for u in s.scalars(select(User).order_by(User.id))]
        else:
            accounts = seed(s)
            s.commit()
            print("Demodata laddad / demo data loaded.")
    print(f"\nDemokonton (lösenord för alla: {DEMO_PASSWORD}):")
    for role, email, name in accounts:
        print(f"  {role:<11} {email:<36} {name}")


if __name__ == "__main__":
    main()
