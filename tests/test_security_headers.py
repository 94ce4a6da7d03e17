"""Security headers: a strict CSP on the API, a hash-pinned CSP on a self-hosted /docs, HSTS only when configured."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient

from service.config import get_settings


def _csp(response) -> dict[str, str]:  # noqa: ANN001
    return {d.split()[0]: d for d in (part.strip() for part in response.headers["content-security-policy"].split(";")) if d}


def test_api_responses_carry_the_strict_headers(client) -> None:
    for r in (client.get("/health"), client.get("/api/v1/auth/me"), client.get("/openapi.json")):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert _csp(r)["default-src"] == "default-src 'none'" and "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "camera=()" in r.headers["permissions-policy"] and "geolocation=()" in r.headers["permissions-policy"]
        assert "strict-transport-security" not in r.headers  # not configured: plain-HTTP development must not pin HTTPS


def test_docs_load_only_local_assets_and_every_inline_script_is_pinned(client) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    html = r.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/docs/assets/") for s in sources), sources  # no CDN: nothing leaves for third parties
    for src in sources:
        asset = client.get(src)
        assert asset.status_code == 200 and len(asset.content) > 100, src
    csp = _csp(r)
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert "http" not in r.headers["content-security-policy"]  # no external origin is allowed either
    for script in re.findall(r"<script>(.*?)</script>", html, flags=re.S):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp["script-src"]
    assert csp["connect-src"] == "connect-src 'self'"  # Swagger UI fetches /openapi.json and the token URL here
    # The OAuth2 redirect page Swagger UI opens is pinned the same way.
    redirect = client.get("/docs/oauth2-redirect")
    inline = re.findall(r"<script>(.*?)</script>", redirect.text, flags=re.S)
    assert inline and all(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" in _csp(redirect)["script-src"] for s in inline)


def test_openapi_declares_problem_json_errors(client) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/v1/cases/{case_id}"]["get"]
    assert op["responses"]["default"]["content"]["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem"
    assert "application/problem+json" in op["responses"]["422"]["content"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # FastAPI's shape is never sent
    assert client.get("/redoc").status_code == 404  # ReDoc would pull scripts and fonts from third-party hosts


@pytest.fixture
def hsts_app(monkeypatch):  # noqa: ANN001, ANN201
    """An app built with IOP_HSTS_SECONDS set (settings are read once per process, so the cache is reset)."""
    from service.app import create_app

    monkeypatch.setenv("IOP_HSTS_SECONDS", "31536000")
    get_settings.cache_clear()
    try:
        yield create_app()
    finally:
        monkeypatch.delenv("IOP_HSTS_SECONDS")
        get_settings.cache_clear()


def test_hsts_only_when_configured(hsts_app) -> None:
    with TestClient(hsts_app) as c:
        assert c.get("/health").headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
