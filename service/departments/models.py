"""Department model."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class Department(Base):
    """A förvaltning or nämnd; its prefix starts every diarienummer it registers."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    diarie_prefix: Mapped[str] = mapped_column(String(10), unique=True)
    municipality: Mapped[str] = mapped_column(String(200), default="Exempelstads kommun")
    municipality_orgnr: Mapped[str | None] = mapped_column(String(11))
    # Per-department overrides of the SPEC's deadline defaults, by deadline kind.
    deadline_settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Where escalations of this department go when no manager is set (e.g. a shared mailbox).
    escalation_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
