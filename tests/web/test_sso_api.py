"""The API takes access tokens of a configured provider besides its own: client-credentials tokens from the real
provider's token endpoint (tests/fixtures/oidc_provider.py) make a service account with the mapped role; a token the
provider did not sign for the API's audience, from another issuer, expired or unsigned is a 401."""

from __future__ import annotations

import base64
import json
import time

import httpx

from sso_setup import INTEGRATION, INTEGRATION_NO_ROLE
from tests.fixtures.oidc_provider import API_AUDIENCE

PROBLEM = "application/problem+json"


def _get(sso, path: str, token: str) -> httpx.Response:  # noqa: ANN001
    return httpx.get(f"{sso.server.base_url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _claims(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_a_client_credentials_token_is_a_service_account_with_the_mapped_role(sso) -> None:  # noqa: ANN001
    token = sso.op.client_credentials(*INTEGRATION)
    claims = _claims(token)
    assert claims["aud"] == API_AUDIENCE and claims["roles"] == ["iop-registrator"]  # what the provider issued
    me = _get(sso, "/auth/me", token)
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "registrar" and me.json()["email"].endswith("@kommun.sso.invalid")
    # The registrar reads every case through the read path (its own token check).
    assert _get(sso, "/cases", token).status_code == 200
    # A second token of the same client is the same account.
    again = _get(sso, "/auth/me", sso.op.client_credentials(*INTEGRATION))
    assert again.json()["id"] == me.json()["id"]


def test_the_services_own_tokens_still_work_and_deactivation_locks_a_service_account_out(sso) -> None:  # noqa: ANN001
    from factories import PASSWORD

    base = sso.server.base_url
    own = httpx.post(f"{base}/api/v1/auth/token", data={"username": "ada.sso-admin@exempelstad.se", "password": PASSWORD}, timeout=10)
    assert own.status_code == 200, own.text
    admin = own.json()["access_token"]
    assert _get(sso, "/auth/me", admin).json()["role"] == "admin"
    token = sso.op.client_credentials(*INTEGRATION)
    account = _get(sso, "/auth/me", token).json()
    off = httpx.patch(f"{base}/api/v1/users/{account['id']}", json={"is_active": False}, headers={"Authorization": f"Bearer {admin}"},
                      timeout=10)
    assert off.status_code == 200, off.text
    try:
        refused = _get(sso, "/auth/me", token)
        assert refused.status_code == 401 and refused.headers["content-type"].startswith(PROBLEM)
        assert _get(sso, "/auth/me", sso.op.client_credentials(*INTEGRATION)).status_code == 401  # a fresh token too
    finally:
        httpx.patch(f"{base}/api/v1/users/{account['id']}", json={"is_active": True}, headers={"Authorization": f"Bearer {admin}"}, timeout=10)


def test_a_token_without_a_mapped_role_gets_no_account(sso) -> None:  # noqa: ANN001
    r = _get(sso, "/auth/me", sso.op.client_credentials(*INTEGRATION_NO_ROLE))
    assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)


def test_tokens_the_provider_did_not_issue_for_the_api_are_refused(sso) -> None:  # noqa: ANN001
    from joserfc.jwk import RSAKey

    good = _claims(sso.op.client_credentials(*INTEGRATION))
    now = int(time.time())
    spoiled = {
        "wrong audience": sso.op.sign({**good, "aud": "urn:annan:api"}),
        "another issuer": sso.op.sign({**good, "iss": "http://127.0.0.1:9/annan"}),
        "expired": sso.op.sign({**good, "iat": now - 7200, "exp": now - 3600}),
        "another key": sso.op.sign(good, key=RSAKey.generate_key(2048, parameters={"kid": sso.op.key.kid}, private=True)),
        "unsigned": base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode() + "."
                    + base64.urlsafe_b64encode(json.dumps(good).encode()).rstrip(b"=").decode() + ".",
    }
    # The control: the same claims, signed by the provider as they were, pass.
    assert _get(sso, "/auth/me", sso.op.sign(good)).status_code == 200
    for name, token in spoiled.items():
        r = _get(sso, "/auth/me", token)
        assert r.status_code == 401, (name, r.status_code, r.text)


def test_a_back_channel_logout_token_must_be_the_providers(sso) -> None:  # noqa: ANN001
    from joserfc.jwk import RSAKey

    now = int(time.time())
    claims = {"iss": sso.op.issuer, "aud": "iop-staff", "iat": now, "exp": now + 120, "jti": "j-1", "sid": "okand-session",
              "events": {"http://schemas.openid.net/event/backchannel-logout": {}}}
    url = f"{sso.server.base_url}/api/v1/auth/oidc/kommun/backchannel-logout"

    def post(token: str) -> httpx.Response:
        return httpx.post(url, data={"logout_token": token}, timeout=10)

    assert post(sso.op.sign(claims)).status_code == 200  # the control: the provider's own token is taken
    other_key = RSAKey.generate_key(2048, parameters={"kid": sso.op.key.kid}, private=True)
    for name, token in {"another key": sso.op.sign(claims, key=other_key), "another audience": sso.op.sign({**claims, "aud": "x"}),
                        "no logout event": sso.op.sign({**claims, "events": {}}), "a nonce": sso.op.sign({**claims, "nonce": "n"})}.items():
        r = post(token)
        assert (r.status_code, r.json()["error"]) == (400, "invalid_request"), name
