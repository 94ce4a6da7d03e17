"""What the template routes return."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from service.doctemplates.kinds import TemplateKind
from service.schemas import ORMModel


class TemplateVersionOut(ORMModel):
    """One uploaded version of a kind's template."""

    kind: TemplateKind
    version: int
    filename: str
    size: int
    sha256: str
    variables: list[str]
    created_by_id: int | None
    created_at: datetime


class TemplateKindOut(BaseModel):
    """A document kind's templates: the shipped file (version 0), the uploads, and which one is used."""

    kind: TemplateKind
    shipped_template: str
    active_version: int  # 0: the shipped file
    allowed_variables: list[str]
    versions: list[TemplateVersionOut]
