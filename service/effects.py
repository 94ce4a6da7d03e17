"""Every outbox topic and its handler: the one place that gathers each domain's side effects."""

from __future__ import annotations

from service.archive.effects import HANDLERS as ARCHIVE
from service.auth.effects import HANDLERS as AUTH
from service.cases.effects import HANDLERS as CASES
from service.deadlines.effects import HANDLERS as DEADLINES
from service.followup.effects import HANDLERS as FOLLOWUP
from service.notifications.receipts import HANDLERS as RECEIPTS
from service.notifications.service import HANDLERS as NOTIFICATIONS
from service.organisations.effects import HANDLERS as ORGANISATIONS
from service.outbox.service import Handler
from service.retention.effects import HANDLERS as RETENTION
from service.reviews.effects import HANDLERS as REVIEWS
from service.signing.effects import HANDLERS as SIGNING


def _assemble(*domains: dict[str, Handler]) -> dict[str, Handler]:
    out: dict[str, Handler] = {}
    for handlers in domains:
        clash = out.keys() & handlers.keys()
        if clash:
            raise RuntimeError(f"outbox topics handled twice: {sorted(clash)}")
        out.update(handlers)
    return out


HANDLERS: dict[str, Handler] = _assemble(NOTIFICATIONS, RECEIPTS, AUTH, REVIEWS, DEADLINES, CASES, FOLLOWUP, SIGNING, RETENTION, ARCHIVE, ORGANISATIONS)
