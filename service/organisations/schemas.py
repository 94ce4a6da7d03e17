"""Organisation schemas; organisationsnummer validated with python-stdnum."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, EmailStr, Field, field_validator
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.se import orgnr as se_orgnr

from service.auth.schemas import NewPassword
from service.documents.models import DocumentKind
from service.organisations.models import LegalForm
from service.schemas import LongText, ORMModel, refuse_null, ShortText


def validate_orgnr(value: str) -> str:
    """NNNNNN-NNNN, Luhn-checked, digits 3–4 ≥ 20 (a legal person, not a personnummer)."""
    try:
        compact = se_orgnr.validate(value)
    except StdnumError as exc:
        raise ValueError(f"ogiltigt organisationsnummer / invalid organisationsnummer: {exc}") from None
    if int(compact[2:4]) < 20:
        raise ValueError("organisationsnummer ska ha siffra 3–4 ≥ 20 / digits 3–4 must be ≥ 20")
    return se_orgnr.format(compact)


OrgNr = Annotated[str, AfterValidator(validate_orgnr)]

# C0 control characters except tab and newlines: never meaningful in registration data, and PostgreSQL
# refuses NUL in text (a 500 instead of a 422 if it got that far).
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CleanModel(BaseModel):
    """Input model whose text fields may not contain control characters."""

    @field_validator("*")
    @classmethod
    def _no_control_chars(cls, v: Any) -> Any:
        if isinstance(v, str) and CONTROL_CHARS.search(v):
            raise ValueError("får inte innehålla styrtecken / must not contain control characters")
        return v


class ContactIn(CleanModel):
    """A contact person."""

    name: ShortText
    email: EmailStr | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    role: Annotated[str, Field(max_length=120)] | None = None


class ContactPatch(CleanModel):
    """Change a contact person (only the fields given; null clears email, phone or role)."""

    name: ShortText | None = None
    email: EmailStr | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    role: Annotated[str, Field(max_length=120)] | None = None

    @field_validator("name")
    @classmethod
    def _name_not_cleared(cls, v: str | None) -> str | None:
        """A contact always has a name; removing the person is an erasure."""
        if v is None:
            raise ValueError("namnet kan inte tömmas; radera kontakten i stället / name cannot be cleared, erase the contact instead")
        return v


class ContactOut(ORMModel):
    """A contact person as shown (an erased one shows only its pseudonym)."""

    id: int
    name: str
    email: str | None
    phone: str | None
    role: str | None
    erased_at: datetime | None


class OrganisationIn(CleanModel):
    """Register an organisation."""

    name: ShortText
    orgnr: OrgNr
    legal_form: LegalForm
    purpose: LongText = ""
    street_address: Annotated[str, Field(max_length=200)] = ""
    postal_code: Annotated[str, Field(max_length=10)] = ""
    city: Annotated[str, Field(max_length=100)] = ""
    email: EmailStr | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    kammarkollegiet_registered_on: date | None = None
    joined_overenskommelse_on: date | None = None
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)


class OrganisationPatch(CleanModel):
    """Change registration data (only the fields given)."""

    name: ShortText | None = None
    orgnr: OrgNr | None = None
    legal_form: LegalForm | None = None
    purpose: LongText | None = None
    street_address: Annotated[str, Field(max_length=200)] | None = None
    postal_code: Annotated[str, Field(max_length=10)] | None = None
    city: Annotated[str, Field(max_length=100)] | None = None
    email: EmailStr | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    kammarkollegiet_registered_on: date | None = None
    joined_overenskommelse_on: date | None = None

    # Email, phone and the dates may be cleared with null; these columns always hold a value.
    _not_null = refuse_null("name", "orgnr", "legal_form", "purpose", "street_address", "postal_code", "city")


class OrganisationOut(ORMModel):
    """An organisation as shown."""

    id: int
    name: str
    orgnr: str
    legal_form: LegalForm
    purpose: str
    street_address: str
    postal_code: str
    city: str
    email: str | None
    phone: str | None
    kammarkollegiet_registered_on: date | None
    joined_overenskommelse_on: date | None
    verified_at: datetime | None = Field(description="När kommunen bekräftade organisationen; förslag kan skickas in först därefter / "
                                                     "when the municipality confirmed the organisation; proposals can be submitted from then on")
    version: int
    contacts: list[ContactOut]

    @field_validator("contacts", mode="before")
    @classmethod
    def _without_erased(cls, v: Any) -> Any:
        """Erased contacts leave the organisation's card; the contacts list shows them with include_erased."""
        return [c for c in v if (c.get("erased_at") if isinstance(c, dict) else getattr(c, "erased_at", None)) is None]


class RegistrationIn(CleanModel):
    """Self-registration: the person's account and their organisation, created together."""

    email: EmailStr
    password: NewPassword
    full_name: ShortText
    title: Annotated[str, Field(max_length=120)] | None = None
    organisation: OrganisationIn


class BoardMinutesOut(ORMModel):
    """One stored version of the board minutes (styrelseprotokoll) on joining the överenskommelse."""

    id: int
    organisation_id: int | None
    kind: DocumentKind
    version: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class OverenskommelseOut(BaseModel):
    """Whether and when the organisation joined the local överenskommelse, with its board minutes (newest first)."""

    organisation_id: int
    joined_overenskommelse_on: date | None
    board_minutes: list[BoardMinutesOut]


class Occurrence(BaseModel):
    """One place where a contact's personal data is held."""

    source: str = Field(description="Tabell/register / where: contact_persons, messages, dialogue_meetings, signatures, "
                                    "agreements, documents, audit_events, users")
    id: int
    case_id: int | None = None
    fields: list[str] = Field(default_factory=list)
    erased_on_request: bool = Field(description="Tas bort/pseudonymiseras vid radering / removed when the contact is erased")
    note: str = ""


class ContactExport(BaseModel):
    """Everything held about one contact person (registerutdrag, GDPR art. 15)."""

    exported_at: datetime
    contact: ContactOut
    organisation: dict[str, Any]
    appears_in: list[Occurrence]


class InvitationIn(BaseModel):
    """An e-mail address to invite into the organisation (joins at its first single sign-on login)."""

    email: str = Field(min_length=3, max_length=254)


class InvitationOut(ORMModel):
    """An invitation: to which address, by whom, until when, and whether it was accepted."""

    id: int
    organisation_id: int
    email: str
    invited_by_id: int
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    accepted_by_id: int | None
