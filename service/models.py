"""Import every model so metadata (Alembic, mappers) sees the whole schema."""

from service.agreements.models import Agreement, Signature
from service.audit.models import AuditEvent
from service.auth.models import User
from service.cases.models import Case, DiarieCounter, StageChange
from service.departments.models import Department
from service.dialogue.models import DialogueMeeting, SuitabilityAssessment
from service.documents.models import Document
from service.followup.models import FollowUpReport
from service.organisations.models import ContactPerson, Organisation
from service.reviews.models import Review

__all__ = [
    "Agreement", "AuditEvent", "Case", "ContactPerson", "Department", "DiarieCounter",
    "DialogueMeeting", "Document", "FollowUpReport", "Organisation", "Review", "Signature",
    "StageChange", "SuitabilityAssessment", "User",
]
