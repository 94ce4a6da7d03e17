"""Password hashing (argon2) and JWT issue/verify with key rotation.

A token names its user (`sub`) and the user's token generation when it was issued (`gen`, 0 in tokens from before
generations existed); a web session started through a single sign-on provider also names its OidcSession (`sso`),
whose end ends the session (service.web.session). Raising users.token_generation revokes every older token; the callers that load the account
(service.deps, service.web.session) compare the two.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from functools import lru_cache
from typing import NamedTuple

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.config import Settings
from service.db import utcnow
from service.errors import Unauthorized

ALGORITHM = "HS256"
# The password hash of accounts made by single sign-on (service.auth.oidc): no password matches it (argon2 refuses
# the format), and no reset link is sent for it, so such an account logs in only through its provider.
NO_PASSWORD = "!sso"
REVOKED = "Inloggningen gäller inte längre; logga in igen / this login has been revoked, log in again"


class TokenSubject(NamedTuple):
    """Whom a verified token names, and under which token generation it was issued."""

    user_id: int
    generation: int
    sso_session: int | None = None


@lru_cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if the password matches the hash."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def key_id(secret: str) -> str:
    """Short public id of a signing key so rotated keys can be told apart."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def create_token(user_id: int, role: str, settings: Settings, generation: int = 0, sso_session: int | None = None) -> tuple[str, int]:
    """Signed access token (for the user's current token generation) and its lifetime in seconds."""
    lifetime = settings.token_minutes * 60
    now = utcnow()
    claims = {"sub": str(user_id), "role": role, "gen": generation, "iat": now, "exp": now + timedelta(seconds=lifetime)}
    if sso_session is not None:
        claims["sso"] = sso_session
    token = jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM, headers={"kid": key_id(settings.secret_key)})
    return token, lifetime


def decode_token(token: str, settings: Settings) -> TokenSubject:
    """User id and token generation from a valid token; accepts the current key and the previous ones."""
    user_id, generation, expires, sso = _verified_claims(token, _key_ring(settings.secret_key, tuple(settings.previous_secret_keys)))
    # Checked on every use: the cached signature check must not outlive the token.
    if expires <= time.time():
        raise Unauthorized("Inloggningen har gått ut / Token expired")
    return TokenSubject(user_id, generation, sso)


@lru_cache(maxsize=8)
def _key_ring(current: str, previous: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((key_id(k), k) for k in (current, *previous))


@lru_cache(maxsize=4096)
def _verified_claims(token: str, keys: tuple[tuple[str, str], ...]) -> tuple[int, int, float, int | None]:
    """Signature and claims checked once per token and key ring (PyJWT costs more than a whole small GET).

    Only valid tokens are remembered (an exception is not cached); the key ring is part of the key, so a
    token signed with a key that is no longer accepted is checked again and refused.
    """
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        secret = dict(keys).get(kid)
        if secret is None:
            raise Unauthorized("Okänd signeringsnyckel / Unknown signing key")
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
        generation = claims.get("gen", 0)
        sso = claims.get("sso")
        if type(generation) is not int or (sso is not None and type(sso) is not int):  # noqa: E721 - bool is an int subclass and no id
            raise ValueError("gen")
        return int(claims["sub"]), generation, float(claims["exp"]), sso
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Inloggningen har gått ut / Token expired") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise Unauthorized("Ogiltig token / Invalid token") from exc
