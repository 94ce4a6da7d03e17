"""Bearer access tokens of a configured provider on the API: which provider (by `iss`), verified by its JWKS for its
api_audience, and the account they stand for (service.auth.oidc.accounts.service_account)."""

from __future__ import annotations

from service.auth.oidc import accounts
from service.auth.oidc.provider import TokenRefused, client_for, unverified_claims, unverified_header
from service.auth.security import ALGORITHM, TokenSubject
from service.config import Settings
from service.db import get_sessionmaker
from service.errors import Unauthorized


def is_foreign(token: str, settings: Settings) -> bool:
    """Whether a bearer token is for the providers to judge (any JWT not signed the service's own way, when some accept tokens)."""
    if not any(p.api_audience for p in settings.oidc_providers.values()):
        return False
    try:
        return unverified_header(token).get("alg") != ALGORITHM
    except TokenRefused:
        return False


def subject(token: str, settings: Settings) -> TokenSubject:
    """The account a provider's access token stands for, at its current token generation (the caller checks it is active)."""
    issuer = unverified_claims(token).get("iss")
    name = next((n for n, p in settings.oidc_providers.items() if p.api_audience and p.issuer == issuer), None)
    if name is None:
        raise Unauthorized("Ogiltig token / invalid token")
    client = client_for(settings, name)
    claims = client.verify(token, audience=client.config.api_audience or "", id_token=False)
    # Its own short transaction: the account may be made on first use, whatever the request then does.
    with get_sessionmaker()() as session, session.begin():
        user = accounts.service_account(session, name, client.config, claims)
        return TokenSubject(user.id, user.token_generation)
