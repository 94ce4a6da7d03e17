"""The document kinds a municipality may replace the template of, and the render context each one gets."""

from __future__ import annotations

from enum import StrEnum

from service.documents import contexts


class TemplateKind(StrEnum):
    """A generated document kind (same codes as DocumentKind)."""

    AGREEMENT = "agreement"
    DECISION = "decision"
    DIALOGUE_MINUTES = "dialogue_minutes"
    FOLLOWUP_REQUEST = "followup_request"
    FOLLOWUP_SUMMARY = "followup_summary"


CONTEXTS: dict[TemplateKind, type[contexts.BaseModel]] = {
    TemplateKind.AGREEMENT: contexts.AgreementContext,
    TemplateKind.DECISION: contexts.DecisionContext,
    TemplateKind.DIALOGUE_MINUTES: contexts.DialogueMinutesContext,
    TemplateKind.FOLLOWUP_REQUEST: contexts.FollowUpRequestContext,
    TemplateKind.FOLLOWUP_SUMMARY: contexts.FollowUpSummaryContext,
}
BY_TEMPLATE_NAME: dict[str, TemplateKind] = {cls.template_name: kind for kind, cls in CONTEXTS.items()}


def shipped_name(kind: TemplateKind) -> str:
    """The shipped template's file name in templates/ (``iop_avtal.docx``)."""
    return CONTEXTS[kind].template_name
