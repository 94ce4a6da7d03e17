"""The providers' back-channel logout (OpenID Connect Back-Channel Logout 1.0): a provider posts a signed logout token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import JSONResponse

from service.auth.oidc import flow
from service.auth.oidc.provider import TokenRefused
from service.deps import AppSettings, DbSession

router = APIRouter(tags=["auth"])


# RFC 6749 style errors, as the provider expects them (not problem+json).
_REFUSED = {400: {"description": "Utloggningstoken godtas inte / logout token refused", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}}}}}}}


@router.post("/auth/oidc/{provider}/backchannel-logout", responses=_REFUSED)
def backchannel_logout(provider: str, logout_token: Annotated[str, Form(max_length=20_000)], session: DbSession,
                       settings: AppSettings) -> JSONResponse:
    """End the web sessions the provider's logout token names (no login: the provider's signature authorises)."""
    headers = {"Cache-Control": "no-store"}
    try:
        flow.backchannel_logout(session, settings, provider, logout_token)
    except TokenRefused:
        return JSONResponse({"error": "invalid_request", "error_description": "logout token refused"}, status_code=400, headers=headers)
    return JSONResponse({}, status_code=200, headers=headers)
