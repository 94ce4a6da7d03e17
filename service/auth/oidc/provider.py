"""One provider's discovery document and keys (fetched with a timeout, cached), and the one JWT check every token passes."""

from __future__ import annotations

import base64
import hmac
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet

from service.config import OidcProvider, Settings
from service.errors import NotFound, ServiceUnavailable, Unauthorized

# Only signatures by the provider's own public keys: `none` and the HMAC family (keyed with the client secret, which
# the service itself knows) are never accepted.
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
# An unknown key id refetches the JWKS at most this often (rotation), so garbage tokens cannot hammer the provider.
JWKS_REFRESH_SECONDS = 30.0


class TokenRefused(Unauthorized):
    """A token or login answer that does not check out; `reason` is the code recorded in the audit event."""

    def __init__(self, reason: str, detail: str = "Ogiltig token / invalid token") -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class Metadata:
    """What the discovery document says and the service uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    algorithms: tuple[str, ...]


class ProviderClient:
    """A configured provider: its metadata and keys, cached for oidc_metadata_cache_seconds."""

    def __init__(self, name: str, config: OidcProvider, settings: Settings) -> None:
        self.name, self.config, self.settings = name, config, settings
        self._lock = threading.Lock()
        self._metadata: tuple[float, Metadata] | None = None
        self._keys: tuple[float, KeySet] | None = None

    def _get(self, url: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=self.settings.oidc_http_timeout_seconds, headers={"Accept": "application/json"})
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceUnavailable("Identitetsleverantören svarar inte just nu. Försök igen om en stund. / "
                                     "the identity provider does not answer", retry_after=30) from exc

    def metadata(self) -> Metadata:
        """The discovery document, checked: its issuer must be the configured one (OpenID Connect Discovery 4.3)."""
        with self._lock:
            if self._metadata and time.monotonic() - self._metadata[0] < self.settings.oidc_metadata_cache_seconds:
                return self._metadata[1]
        url = self.config.discovery_url or self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        doc = self._get(url)
        if doc.get("issuer") != self.config.issuer:
            raise ServiceUnavailable("Identitetsleverantörens inställningar stämmer inte / the discovery document names another issuer")
        announced = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
        meta = Metadata(issuer=doc["issuer"], authorization_endpoint=doc["authorization_endpoint"], token_endpoint=doc["token_endpoint"],
                        jwks_uri=doc["jwks_uri"], end_session_endpoint=doc.get("end_session_endpoint"),
                        algorithms=tuple(a for a in announced if a in ASYMMETRIC) or ("RS256",))
        with self._lock:
            self._metadata = (time.monotonic(), meta)
        return meta

    def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's public keys; `refresh` fetches them again unless that was done a moment ago."""
        with self._lock:
            cached = self._keys
        age = time.monotonic() - cached[0] if cached else None
        if cached and (age < self.settings.oidc_metadata_cache_seconds and not refresh or refresh and age < JWKS_REFRESH_SECONDS):
            return cached[1]
        doc = self._get(self.metadata().jwks_uri)
        try:
            # Public keys only: a JWKS that carried private or symmetric keys is a misconfiguration, not a key to trust.
            keys = KeySet.import_key_set({"keys": [k for k in doc.get("keys", []) if k.get("kty") in ("RSA", "EC", "OKP")]})
        except (JoseError, ValueError, TypeError) as exc:
            raise ServiceUnavailable("Identitetsleverantörens nycklar kunde inte läsas / unreadable JWKS", retry_after=30) from exc
        with self._lock:
            self._keys = (time.monotonic(), keys)
        return keys

    def verify(self, token: str, *, audience: str, nonce: str | None = None, id_token: bool = True, require_sub: bool = True) -> dict[str, Any]:
        """The claims of a token signed by this provider for `audience`; TokenRefused naming the first check that failed."""
        header = unverified_header(token)
        alg = header.get("alg")
        if not alg or str(alg).lower() == "none":
            raise TokenRefused("unsigned")
        meta = self.metadata()
        if alg not in meta.algorithms:
            raise TokenRefused("algorithm")
        keys = self.keys()
        if header.get("kid") and not any(k.kid == header["kid"] for k in keys.keys):
            keys = self.keys(refresh=True)
        try:
            decoded = jwt.decode(token, keys, algorithms=list(meta.algorithms))
        except BadSignatureError as exc:
            raise TokenRefused("signature") from exc
        except (JoseError, ValueError, TypeError) as exc:
            raise TokenRefused("malformed") from exc
        claims = dict(decoded.claims)
        options: dict[str, Any] = {"iss": {"essential": True, "value": self.config.issuer}, "aud": {"essential": True, "value": audience},
                                   "exp": {"essential": True}}
        if require_sub:
            options["sub"] = {"essential": True}
        if id_token:
            options["iat"] = {"essential": True}
        try:
            jwt.JWTClaimsRegistry(leeway=self.settings.oidc_leeway_seconds, **options).validate(claims)
        except ExpiredTokenError as exc:
            raise TokenRefused("expired") from exc
        except (InvalidClaimError, MissingClaimError) as exc:
            raise TokenRefused({"iss": "issuer", "aud": "audience"}.get(getattr(exc, "claim", ""), f"claim_{getattr(exc, 'claim', '')}")) from exc
        except JoseError as exc:
            raise TokenRefused("claims") from exc
        if claims["iss"] != self.config.issuer:  # the registry's value check, said once more where it matters most
            raise TokenRefused("issuer")
        if id_token and isinstance(claims.get("aud"), list) and len(claims["aud"]) > 1 and claims.get("azp") != audience:
            raise TokenRefused("audience")  # OpenID Connect Core 3.1.3.7: several audiences need azp = the client
        if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise TokenRefused("nonce")
        return claims


def unverified_header(token: str) -> dict[str, Any]:
    """A JWT's header, read without trusting it (to pick key and provider); TokenRefused when it is no JWS."""
    try:
        first = token.split(".")[0]
        value = json.loads(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))
        if not isinstance(value, dict):
            raise ValueError(first)
        return value
    except (ValueError, IndexError, UnicodeDecodeError) as exc:
        raise TokenRefused("malformed") from exc


def unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's payload, read without trusting it (only to pick the provider whose keys then decide)."""
    try:
        part = token.split(".")[1]
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        if not isinstance(value, dict):
            raise ValueError(part)
        return value
    except (ValueError, IndexError, UnicodeDecodeError) as exc:
        raise TokenRefused("malformed") from exc


_clients: dict[tuple[int, str], ProviderClient] = {}
_clients_lock = threading.Lock()


def client_for(settings: Settings, name: str) -> ProviderClient:
    """The cached client of a configured provider; 404 for a name not configured."""
    config = settings.oidc_providers.get(name)
    if config is None:
        raise NotFound("Inloggningssättet finns inte / no such identity provider")
    key = (id(settings), name)
    with _clients_lock:
        client = _clients.get(key)
        if client is None or client.config is not config:
            client = _clients[key] = ProviderClient(name, config, settings)
        return client
