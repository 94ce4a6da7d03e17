"""Import every model so metadata (Alembic, mappers) sees the whole schema."""

from service.agreements.models import Agreement, Signature
from service.archive.models import ArchiveExport, ArchiveExportItem
from service.audit.models import AuditEvent
from service.auth.models import User
from service.auth.oidc.models import OidcLogin, OidcSession, UserIdentity
from service.cases.models import Case, CompletionRequest, DiarieCounter, StageChange
from service.deadlines.models import Deadline, Reminder, Suspension
from service.departments.models import Department
from service.diarium.models import DiaryEntry
from service.dialogue.models import DialogueMeeting, SuitabilityAssessment
from service.doctemplates.models import DocumentTemplate
from service.documents.models import Document
from service.followup.models import FollowUpReport
from service.idempotency import IdempotencyRecord
from service.messages.models import Message
from service.notifications.models import Notification
from service.organisations.models import ContactPerson, Organisation, OrganisationInvitation
from service.outbox.models import OutboxEvent
from service.retention.models import DisposalDecision, DisposalItem
from service.reviews.models import Review
from service.signing.models import SigningInvitation, SigningOrder

__all__ = [
    "Agreement", "AuditEvent", "Case", "ContactPerson", "Department", "DiarieCounter",
    "DialogueMeeting", "DiaryEntry", "Document", "FollowUpReport", "Organisation", "Review", "Signature",
    "StageChange", "CompletionRequest", "SuitabilityAssessment", "User", "Deadline", "Reminder", "Suspension", "IdempotencyRecord",
    "Message", "Notification", "OutboxEvent", "DocumentTemplate", "SigningOrder", "SigningInvitation",
    "DisposalDecision", "DisposalItem", "ArchiveExport", "ArchiveExportItem",
    "UserIdentity", "OidcLogin", "OidcSession", "OrganisationInvitation",
]
