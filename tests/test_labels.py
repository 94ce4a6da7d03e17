"""Every code a user can meet has a Swedish name, in the one label table of its enum."""

from __future__ import annotations

from enum import StrEnum as StrEnumBase

import pytest

from service import labels
from service.agreements.models import Party
from service.auth.models import Role
from service.cases.stages import Stage
from service.deadlines.models import DeadlineKind, DeadlineStatus
from service.documents.models import DocumentKind
from service.organisations.models import LegalForm
from service.reviews.models import Decision, ReviewStatus


@pytest.mark.parametrize(("table", "enum"), [
    (labels.STAGES, Stage), (labels.ROLES, Role), (labels.LEGAL_FORMS, LegalForm), (labels.DOCUMENT_KINDS, DocumentKind),
    (labels.REVIEW_STATUS, ReviewStatus), (labels.REVIEW_DECIDED, set(ReviewStatus) - {ReviewStatus.PENDING}),
    (labels.DECISIONS, Decision), (labels.DECISIONS_IN_TEXT, Decision), (labels.DEADLINE_KINDS, DeadlineKind),
    (labels.DEADLINE_KINDS_IN_TEXT, DeadlineKind), (labels.DEADLINE_STATUS, DeadlineStatus), (labels.PARTIES, Party),
])
def test_each_table_names_every_member_of_its_enum(table: dict, enum: type) -> None:
    assert set(table) == set(enum)
    assert all(isinstance(k, StrEnumBase) for k in table) and all(v.strip() for v in table.values())


def test_label_falls_back_to_the_code_and_default() -> None:
    assert labels.label(labels.DEADLINE_KINDS, "dialogue") == "Dialogskedet"
    assert labels.label(labels.DEADLINE_KINDS, "unknown_kind") == "unknown_kind"
    assert labels.label(labels.DEADLINE_KINDS, None) == "–"
