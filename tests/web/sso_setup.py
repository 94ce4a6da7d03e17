"""The single sign-on world: a real OpenID Provider (tests/fixtures/oidc_provider.py) with a staff client, an
organisation client and two client-credentials clients, and an app server configured with both providers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from live_server import LiveServer
from tests.fixtures.oidc_provider import OP_PASSWORD, TamperProxy, TestOP

STAFF_LABEL = "Kommunens medarbetare"
ORG_LABEL = "Förening med e-legitimation"
CLIENT_SECRET = "iop-test-klienthemlighet-0123456789"
INTEGRATION = ("iop-integration", "integrationshemlighet-0123456789")
INTEGRATION_NO_ROLE = ("annan-integration", "annan-hemlighet-0123456789")


def _account(email: str, name: str, groups: list[str], verified: bool = True) -> dict[str, Any]:
    return {"password": OP_PASSWORD, "claims": {"email": email, "email_verified": verified, "name": name, "groups": groups}}


# Logins at the provider; groups as the municipality's directory would carry them.
ACCOUNTS = {
    "anna": _account("anna.sso@exempelstad.se", "Anna Inloggad", ["alla-anstallda", "iop-handlaggare", "forv-soc"]),
    "bo": _account("bo.sso@exempelstad.se", "Bo Beslutar", ["iop-beslutsfattare", "iop-handlaggare", "forv-soc"]),
    "cilla": _account("cilla.sso@exempelstad.se", "Cilla Spärrad", ["iop-handlaggare", "forv-soc"]),
    "dan": _account("dan.sso@exempelstad.se", "Dan Utloggad", ["iop-handlaggare", "forv-soc"]),
    "okand": _account("okand.sso@exempelstad.se", "Okänd Grupp", ["alla-anstallda", "helt-annan-grupp"]),
    "maja": _account("maja.sso@solsidan.example.se", "Maja Solsidan", []),
    "olle": _account("olle.sso@solsidan.example.se", "Olle Oinbjuden", []),
}
for _i in range(12):  # one fresh person per negative test, so no earlier login has linked them
    ACCOUNTS[f"neg{_i}"] = _account(f"neg{_i}.sso@exempelstad.se", f"Negativ {_i}", ["iop-handlaggare", "forv-soc"])


@dataclass
class SsoWorld:
    """The provider, its proxy, the app server and the people prepared in its database."""

    op: TestOP
    proxy: TamperProxy
    server: LiveServer
    member_email: str
    org_name: str
    org_id: int
    people: dict[str, Any] = field(default_factory=dict)


def providers_json(server: LiveServer, op: TestOP, proxy: TamperProxy) -> str:
    """IOP_OIDC_PROVIDERS for the app: staff through the tampering proxy (passing through unless told), organisations direct."""
    return json.dumps({
        "kommun": {"label": STAFF_LABEL, "kind": "staff", "issuer": op.issuer, "discovery_url": proxy.url + "/.well-known/openid-configuration",
                   "client_id": "iop-staff", "client_secret": CLIENT_SECRET, "scopes": ["openid", "email", "profile", "groups"],
                   "roles": {"iop-admin": "admin", "iop-registrator": "registrar", "iop-beslutsfattare": "approver", "iop-handlaggare": "officer"},
                   "departments": {"forv-soc": "SSO"}, "api_audience": "urn:iop:api"},
        "forening": {"label": ORG_LABEL, "kind": "organisation", "issuer": op.issuer, "client_id": "iop-org", "client_secret": CLIENT_SECRET,
                     "scopes": ["openid", "email", "profile"]},
    })


def _clients(base: str) -> list[dict[str, Any]]:
    def web(client_id: str, provider: str) -> dict[str, Any]:
        return {"client_id": client_id, "client_secret": CLIENT_SECRET, "grant_types": ["authorization_code"], "response_types": ["code"],
                "redirect_uris": [f"{base}/logga-in/oidc/{provider}/svar"], "post_logout_redirect_uris": [f"{base}/logga-in"],
                "backchannel_logout_uri": f"{base}/api/v1/auth/oidc/{provider}/backchannel-logout",
                "backchannel_logout_session_required": True, "token_endpoint_auth_method": "client_secret_basic"}

    def machine(client_id: str, secret: str) -> dict[str, Any]:
        return {"client_id": client_id, "client_secret": secret, "grant_types": ["client_credentials"], "response_types": [],
                "redirect_uris": [], "scope": "iop"}

    return [web("iop-staff", "kommun"), web("iop-org", "forening"), machine(*INTEGRATION), machine(*INTEGRATION_NO_ROLE)]


def start(workdir: Path) -> SsoWorld:
    """Provider, proxy and app server, started in that order (the caller stops them with stop())."""
    server = LiveServer(workdir / "app")
    (workdir / "app").mkdir(parents=True, exist_ok=True)
    op = TestOP(workdir, clients=_clients(server.base_url), accounts=ACCOUNTS,
                client_roles={INTEGRATION[0]: ["iop-registrator"], INTEGRATION_NO_ROLE[0]: ["okand-roll"]})
    op.start()
    proxy = TamperProxy(op)
    proxy.start()
    holder: dict[str, Any] = {}

    def populate(db: Session) -> None:
        import factories

        from service.auth.models import Role

        dep = factories.department(db, name="Socialförvaltningen", diarie_prefix="SSO")
        org = factories.organisation(db, name="Föreningen Solsidan")
        member = factories.user(db, Role.ORG_MEMBER, organisation=org, full_name="Siv Solsidan", email="siv@solsidan.example.se")
        factories.user(db, Role.ADMIN, full_name="Ada Admin", email="ada.sso-admin@exempelstad.se")
        db.flush()
        holder.update(member=member.email, org=org.name, org_id=org.id, dep=dep.id)

    try:
        server.prepare(populate)
        server.start(env={"IOP_OIDC_PROVIDERS": providers_json(server, op, proxy), "IOP_PUBLIC_BASE_URL": server.base_url,
                                "IOP_OIDC_MAX_STARTS": "1000"})  # every browser test logs in from 127.0.0.1
    except BaseException:
        proxy.stop()
        op.stop()
        raise
    return SsoWorld(op=op, proxy=proxy, server=server, member_email=holder["member"], org_name=holder["org"], org_id=holder["org_id"])


def stop(world: SsoWorld) -> None:
    """Stop what start() started."""
    world.server.stop()
    world.proxy.stop()
    world.op.stop()
