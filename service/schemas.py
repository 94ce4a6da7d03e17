"""Shared schema pieces."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
Sek = Annotated[int, Field(ge=0, le=10_000_000_000, description="Belopp i hela kronor / amount in whole SEK")]


class ORMModel(BaseModel):
    """Output schema read from ORM attributes."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    """A page of a cursor-paginated list."""

    items: list[T]
    next_cursor: str | None = None
