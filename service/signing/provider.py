"""The signing-provider protocol (create order -> signer completes -> callback -> signed PDF fetched) and the built-in provider.

A provider gets the prepared PDF/A (with one empty signature field per signatory) and gives back, per signatory, the
same PDF with that signatory's PAdES signature added as an incremental update. The service checks the answer itself
(service/signing/service.py): the signed PDF must start with exactly the bytes it sent, so a provider can add a
signature and nothing else. The built-in provider signs with the service's PKCS#12 (IOP_SIGNING_*) on behalf of the
signatory who logged in; an external one (Scrive, Assently, Inera Underskriftstjänsten; see the README) authenticates
the signatory itself (BankID, SITHS) and signs with a certificate of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from service.config import Settings


@dataclass(frozen=True)
class Signer:
    """One signatory as the provider sees them."""

    reference: str  # the service's own id for the invitation (returned in callbacks)
    party: str  # "public" or "organisation"
    party_name: str  # the municipality's or organisation's name
    name: str
    role: str
    field_name: str  # the empty signature field on the signature page
    email: str | None = None


@dataclass(frozen=True)
class Completion:
    """A signatory has completed: what a provider's callback says (the built-in provider returns it at once)."""

    order_ref: str
    signer_reference: str
    document: bytes | None = None  # the signed PDF, when the provider hands it over with the callback


class SigningProvider(Protocol):
    """What the service needs of a signing service."""

    name: str

    def create_order(self, pdf: bytes, signers: Sequence[Signer], *, reference: str, title: str) -> str:
        """Register the document and its signatories in order; return the provider's order reference."""
        ...

    def complete(self, order_ref: str, signer: Signer, pdf: bytes, *, when: datetime, reason: str) -> Completion | None:
        """The signatory asks to sign now: a provider that signs at once returns the Completion; one that sends the signer
        to its own page returns None and reports the Completion later through its callback."""
        ...

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> Completion:
        """Check a callback's authenticity (the provider's signature or shared secret) and read which signer completed."""
        ...

    def fetch_signed(self, completion: Completion) -> bytes:
        """The signed PDF after the completion (from the callback, or downloaded from the provider)."""
        ...


class BuiltinProvider:
    """Signs in the service itself with the configured PKCS#12 (PAdES-B-B, B-T with IOP_SIGNING_TSA_URL)."""

    name = "builtin"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def create_order(self, pdf: bytes, signers: Sequence[Signer], *, reference: str, title: str) -> str:
        """Nothing to send anywhere: the order is the service's own."""
        return f"builtin:{reference}"

    def complete(self, order_ref: str, signer: Signer, pdf: bytes, *, when: datetime, reason: str) -> Completion:
        """Sign the signer's field now (the signatory is the logged-in user; the service checked that)."""
        from service.signing import pades

        signed = pades.sign(pdf, self.settings, field_name=signer.field_name, name=signer.name, role=signer.role, party=signer.party_name,
                            when=when, reason=reason)
        return Completion(order_ref=order_ref, signer_reference=signer.reference, document=signed)

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> Completion:
        """The built-in provider completes synchronously and never calls back."""
        raise NotImplementedError("the built-in provider has no callbacks")

    def fetch_signed(self, completion: Completion) -> bytes:
        """The signed PDF came with the completion."""
        if completion.document is None:
            raise ValueError("no signed document in the completion")
        return completion.document


def get_provider(settings: Settings) -> SigningProvider:
    """The configured provider (only the built-in one ships; others register here, see the README)."""
    return BuiltinProvider(settings)
