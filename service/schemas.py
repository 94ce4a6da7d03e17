"""Shared schema pieces."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

T = TypeVar("T")

# C0 control characters except tab and newlines: never meaningful in text, and PostgreSQL refuses NUL
# (a 500 instead of a 422 if it reached the database; SQLite would store it silently).
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_chars(value: str | None) -> str | None:
    """Refuse text with control characters."""
    if value is not None and CONTROL_CHARS.search(value):
        raise ValueError("otillåtet kontrolltecken / control characters are not allowed")
    return value


NoControlChars = AfterValidator(_no_control_chars)
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoControlChars]
LongText = Annotated[str, StringConstraints(max_length=20_000), NoControlChars]
Sek = Annotated[int, Field(ge=0, le=10_000_000_000, description="Belopp i hela kronor / amount in whole SEK")]
# Row ids are INTEGER columns (32-bit in PostgreSQL): a larger number names no row and would fail in the driver (500).
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID, description="Id")]
# Dates a case plans with (periods, payments, reports, signatures, deadlines): years 0001 or 9999 are typing errors,
# and date arithmetic on them (three years back for de minimis, working days forward) would overflow into a 500.
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2199, 12, 31)
PlanDate = Annotated[date, Field(ge=FIRST_DATE, le=LAST_DATE, description="Datum 1900-01-01 – 2199-12-31")]


def refuse_null(*fields: str):  # noqa: ANN201  (a pydantic validator descriptor)
    """A patch validator: these fields may be left out, but an explicit null names the field (422), not the database (409)."""

    def _not_null(cls, value):  # noqa: ANN001, ANN202
        if value is None:
            raise ValueError("får inte vara null; utelämna fältet för att behålla värdet / must not be null; leave it out to keep it")
        return value

    return field_validator(*fields)(_not_null)


class ORMModel(BaseModel):
    """Output schema read from ORM attributes."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    """A page of a cursor-paginated list."""

    items: list[T]
    next_cursor: str | None = None
