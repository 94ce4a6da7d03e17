"""Signing API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.schemas import Id, ORMModel


class SignatoryIn(BaseModel):
    """One party's named signatory, by the account that signs."""

    model_config = ConfigDict(extra="forbid")

    party: Literal["public", "organisation"]
    user_id: Id


class SigningOrderIn(BaseModel):
    """The signatories in signing order (one per party)."""

    model_config = ConfigDict(extra="forbid")

    signatories: list[SignatoryIn] = Field(min_length=2, max_length=2)


class InvitationOut(ORMModel):
    """A signatory's turn: who, and when they signed which PDF (its sha256) into which stored version."""

    id: int
    position: int
    party: str
    user_id: int
    name: str
    role: str
    field_name: str
    signed_at: datetime | None
    signed_over_sha256: str | None
    signed_document_id: int | None


class SigningOrderOut(ORMModel):
    """An agreement version out for signature."""

    id: int
    case_id: int
    source_document_id: int
    document_id: int
    signed_document_id: int | None
    provider: str
    status: str
    created_at: datetime
    completed_at: datetime | None
    invitations: list[InvitationOut] = []


class SignatureCheckOut(BaseModel):
    """One signature's validation result."""

    field: str
    name: str | None
    signer: str | None
    signed_at: datetime | None
    timestamp_at: datetime | None
    intact: bool
    valid: bool
    trusted: bool
    coverage: str
    modifications: str
    ok: bool
    problems: list[str]


class DocumentSignaturesOut(BaseModel):
    """Every signature of a stored PDF, validated now against the configured trust roots."""

    document_id: int
    sha256: str
    valid: bool
    error: str | None
    trust_roots_configured: bool
    signatures: list[SignatureCheckOut]
