"""Sample render data for a context schema, built from the schema itself (so it follows every change to it).

Every optional field is filled and every list has one entry, so a test render reaches every part of a
template; a context whose validators refuse that gets its minimal form (optional fields empty) instead.
"""

from __future__ import annotations

import types
from datetime import date, time
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ValidationError

SAMPLE_DATE = date(2026, 11, 23)
# Readable values where a field's name says what it holds; other text fields get "Exempel".
TEXT = {
    "municipality": "Exempelby kommun", "department": "Socialförvaltningen", "committee": "Socialnämnden",
    "diarienummer": "SOC 2026/0042", "title": "Läxhjälp och fritid för barn i Norrby", "name": "Exempel Exempelsson",
    "orgnr": "802000-1234", "email": "exempel@exempelby.se", "phone": "0123-45 67 00", "website": "www.exempelby.se",
    "role": "Ordförande", "place": "Exempelby", "postal_address": "Box 100, 123 45 Exempelby",
}


def _bounds(metadata: list[Any]) -> tuple[float | None, float | None]:
    low = high = None
    for m in metadata:
        for attr in ("ge", "gt"):
            if getattr(m, attr, None) is not None:
                low = getattr(m, attr) + (1 if attr == "gt" else 0)
        for attr in ("le", "lt"):
            if getattr(m, attr, None) is not None:
                high = getattr(m, attr) - (1 if attr == "lt" else 0)
        if isinstance(m, annotated_types.Interval):
            low, high = m.ge if m.ge is not None else low, m.le if m.le is not None else high
    return low, high


def _value(annotation: Any, name: str, metadata: list[Any], full: bool) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _value(base, name, [*metadata, *extra], full)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        return _value(options[0], name, metadata, full) if options else None
    if origin is Literal:
        return get_args(annotation)[0]
    if origin in (list, tuple, set, frozenset):
        (item,) = get_args(annotation)[:1] or (str,)
        return [_value(item, name, [], full)]
    if origin is dict:
        return {}
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return _model_data(annotation, full)
        if issubclass(annotation, Enum):
            return next(iter(annotation)).value
        if issubclass(annotation, bool):
            return False
        if issubclass(annotation, int):
            low, high = _bounds(metadata)
            value = 2 if high is not None else 100_000
            return int(max(low or 0, min(value, high if high is not None else value)))
        if issubclass(annotation, float):
            return 1.0
        if issubclass(annotation, date):
            return SAMPLE_DATE
        if issubclass(annotation, time):
            return time(13, 0)
        if issubclass(annotation, str):
            return TEXT.get(name, "Exempel")
    return None


def _model_data(model: type[BaseModel], full: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if not full and not field.is_required():
            continue
        data[name] = _value(field.annotation, name, list(field.metadata), full)
    return data


def sample_context(model: type[BaseModel]) -> BaseModel:
    """A valid instance of ``model`` with sample values everywhere (or only where required, if that is refused)."""
    try:
        return model.model_validate(_model_data(model, full=True))
    except ValidationError:
        return model.model_validate(_model_data(model, full=False))
