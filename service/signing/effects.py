"""After commit: a generated decision is sealed (PDF/A + PAdES with the municipality's certificate)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from service.documents.models import Document
from service.documents.service import PdfaUnavailable
from service.errors import ServiceUnavailable
from service.outbox.models import OutboxEvent
from service.outbox.service import Context, GiveUp, Handler, RetryLater
from service.signing import keys

log = logging.getLogger(__name__)


def decision_seal(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Seal the decision document once (a retry finds the sealed copy and stops)."""
    from service.signing.service import seal_decision

    source = session.get(Document, event.payload["document_id"])
    if source is None:
        return  # the decision was rolled back
    if not keys.configured(ctx.settings):
        log.warning("decision %s not sealed: no signing key configured", source.id)
        return
    try:
        seal_decision(session, ctx.store_factory(), source, ctx.settings)
    except PdfaUnavailable as exc:
        raise GiveUp(f"LibreOffice is not installed: decision {source.id} stays unsealed") from exc
    except ServiceUnavailable as exc:  # LibreOffice busy or failed, storage down: try again
        raise RetryLater(str(exc)) from exc


HANDLERS: dict[str, Handler] = {"decision.seal": decision_seal}
