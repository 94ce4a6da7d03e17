"""Organisation schemas; organisationsnummer validated with python-stdnum."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, EmailStr, Field
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.se import orgnr as se_orgnr

from service.organisations.models import LegalForm
from service.schemas import LongText, ORMModel, ShortText


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


class ContactIn(BaseModel):
    """A contact person."""

    name: ShortText
    email: EmailStr | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    role: Annotated[str, Field(max_length=120)] | None = None


class ContactOut(ORMModel):
    """A contact person as shown."""

    id: int
    name: str
    email: str | None
    phone: str | None
    role: str | None


class OrganisationIn(BaseModel):
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


class OrganisationPatch(BaseModel):
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
    version: int
    contacts: list[ContactOut]
