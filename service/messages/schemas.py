"""Message request and response schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from service.auth.models import Role
from service.schemas import ORMModel


class MessageIn(BaseModel):
    """A new message in the case thread."""

    # Length is checked by the service (1–10 000 characters after trimming), the same rule for the API and the pages.
    body: Annotated[str, Field(description="Meddelandet, 1–10 000 tecken / the message, 1–10,000 characters")] = ""
    internal: bool = Field(
        default=False,
        description="Intern anteckning, syns inte för organisationen (endast förvaltningens handläggare/beslutsfattare) "
        "/ internal note, hidden from the organisation (department staff only)",
    )


class AuthorOut(ORMModel):
    """Who wrote a message."""

    id: int
    full_name: str
    role: Role


class MessageOut(ORMModel):
    """A message as shown in the thread."""

    id: int
    case_id: int
    author: AuthorOut | None
    body: str
    internal: bool
    created_at: datetime
