"""Small helpers shared by API tests."""

from __future__ import annotations

from typing import Any

PROBLEM = "application/problem+json"


def problem(resp: Any, status: int) -> dict:
    """Assert a problem+json response with the status and return its body."""
    assert resp.status_code == status, f"expected {status}, got {resp.status_code}: {resp.text}"
    assert resp.headers["content-type"].startswith(PROBLEM), resp.headers["content-type"]
    body = resp.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def error_fields(body: dict) -> set[str]:
    """The field names listed in a problem's errors[]."""
    return {e["field"] for e in body.get("errors", [])}
