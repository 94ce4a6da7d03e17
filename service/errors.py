"""Application errors rendered as RFC 9457 problem details."""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """Base error; subclasses set status_code, code and a bilingual title."""

    status_code: int = 400
    code: str = "bad-request"
    title: str = "Felaktig begäran / Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """Serialise as a problem+json body."""
        body: dict[str, Any] = {
            "type": f"https://iop-partnerskap.se/problems/{self.code}",
            "title": self.title,
            "status": self.status_code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class NotFound(AppError):
    """Missing or invisible to the caller (never leaks existence)."""

    status_code = 404
    code = "not-found"
    title = "Hittades inte / Not found"


class Unauthorized(AppError):
    """Missing or invalid credentials."""

    status_code = 401
    code = "unauthorized"
    title = "Inloggning krävs / Authentication required"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(AppError):
    """Authenticated but not allowed."""

    status_code = 403
    code = "forbidden"
    title = "Åtgärden är inte tillåten / Forbidden"


class Conflict(AppError):
    """State conflict: wrong stage, stale version, duplicate."""

    status_code = 409
    code = "conflict"
    title = "Konflikt med ärendets tillstånd / Conflict"


class StaleVersion(Conflict):
    """If-Match did not match the current version."""

    code = "stale-version"
    title = "Ärendet har ändrats av någon annan / Stale version"


class PreconditionRequired(AppError):
    """If-Match header missing on an update."""

    status_code = 428
    code = "precondition-required"
    title = "If-Match krävs / Precondition required"


class GateFailed(AppError):
    """A stage gate is not satisfied; errors[] lists the missing items."""

    status_code = 409
    code = "gate-failed"
    title = "Villkor för nästa steg är inte uppfyllda / Stage requirements not met"


class ValidationFailed(AppError):
    """Payload validation failed (the only 422)."""

    status_code = 422
    code = "validation-error"
    title = "Ogiltiga uppgifter / Validation failed"


class PayloadTooLarge(AppError):
    """Upload over the size limit."""

    status_code = 413
    code = "payload-too-large"
    title = "Filen är för stor / Payload too large"


class UnsupportedMediaType(AppError):
    """Upload type not allowed (checked by magic bytes)."""

    status_code = 415
    code = "unsupported-media-type"
    title = "Filtypen är inte tillåten / Unsupported media type"


class TooManyRequests(AppError):
    """Rate limit hit."""

    status_code = 429
    code = "too-many-requests"
    title = "För många försök / Too many requests"


class ServiceUnavailable(AppError):
    """A dependency (database, storage, SMTP) is down; retry later."""

    status_code = 503
    code = "service-unavailable"
    title = "Tjänsten är tillfälligt otillgänglig / Service unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 30, **kw: Any) -> None:
        headers = {"Retry-After": str(retry_after), **kw.pop("headers", {})}
        super().__init__(detail, headers=headers, **kw)
