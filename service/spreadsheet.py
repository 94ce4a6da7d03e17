"""Cells of exported spreadsheets (CSV, xlsx): free text never runs as a formula."""

from __future__ import annotations

from typing import Any

# What a spreadsheet program reads as the start of a formula (CSV injection, OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:  # noqa: ANN401
    """Text for a cell, a leading apostrophe neutralising a spreadsheet formula."""
    s = "" if value is None else str(value)
    return "'" + s if s[:1] in FORMULA_STARTS else s
