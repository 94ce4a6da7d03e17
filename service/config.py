"""Settings read from IOP_* environment variables."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-secret-change-me-0123456789abcdef"


class AppealCourt(BaseModel):
    """Where one municipality's decisions are appealed (laglighetsprövning, 13 kap. kommunallagen) and announced."""

    court: str = Field(min_length=1, max_length=200)  # "Förvaltningsrätten i Göteborg"
    address: str = Field(default="", max_length=300)  # "Box 1531, 401 50 Göteborg"
    email: str | None = Field(default=None, max_length=254)
    # The municipality's anslagstavla, where the minutes' justering is announced.
    notice_board_url: str | None = Field(default=None, max_length=300)


_RULE = re.compile(r"^\s*gallras\s+efter\s+(-?\d+)\s+(år|ar)\s*$", re.IGNORECASE)


class RetentionRule(BaseModel):
    """A handlingstyp's rule in the informationshanteringsplan: kept for ever, or gallras `years` after the case closed.

    Written as "bevaras" or "gallras efter N år" (also {"years": N} or {"keep": true}).
    """

    years: int | None = Field(default=None, ge=0, le=1000)  # None: bevaras

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().lower() == "bevaras":
                return {"years": None}
            found = _RULE.match(value)
            if found is None:
                raise ValueError(f'regeln ska vara "bevaras" eller "gallras efter N år", inte {value!r} / '
                                 f'a rule is "bevaras" or "gallras efter N år"')
            years = int(found.group(1))
            if years < 0:
                raise ValueError(f"antal år kan inte vara negativt ({years}) / years must not be negative")
            return {"years": years}
        if isinstance(value, dict) and value.get("keep") is True:
            return {"years": None}
        return value

    @property
    def keep(self) -> bool:
        """True when the handlingstyp is kept for ever."""
        return self.years is None

    @property
    def label(self) -> str:
        """The rule in the plan's own words."""
        return "bevaras" if self.years is None else f"gallras efter {self.years} år"


# The shipped informationshanteringsplan (IOP_RETENTION_PLAN replaces it): what documents the partnership and its
# decisions is kept; working material and correspondence of passing interest is gallrad after some years. A type the
# plan does not name is kept (nothing is deleted without a rule).
DEFAULT_RETENTION_PLAN = {
    "Ansökan": "bevaras", "Bilaga": "gallras efter 5 år", "Meddelande": "gallras efter 2 år", "Beslut": "bevaras",
    "Avtal": "bevaras", "Undertecknat avtal": "bevaras", "Protokoll": "bevaras", "Begäran om uppföljning": "gallras efter 2 år",
    "Uppföljningsrapport": "bevaras", "Begäran om komplettering": "gallras efter 2 år", "Återkallelse": "bevaras",
    "Tjänsteanteckning": "gallras efter 2 år", "Övrigt": "bevaras",
}


class OidcClaims(BaseModel):
    """Which ID-token claim carries what (names differ between providers: Entra ID `preferred_username`, `roles`)."""

    email: str = "email"
    # null: the provider vouches for every address it gives (a municipality's own directory, e.g. Entra ID, which sends
    # no email_verified); otherwise the claim must be true before an address finds, makes or links an account.
    email_verified: str | None = "email_verified"
    name: str = "name"
    # A list of group or role names (Entra ID: `groups` with object ids, or `roles` with app role values).
    groups: str = "groups"
    # The role claim of the API's access tokens (client credentials: Entra ID app roles are in `roles`).
    service_roles: str = "roles"


class OidcProvider(BaseModel):
    """One OpenID Provider the web login offers as a button (and, with api_audience, whose access tokens the API takes)."""

    label: str = Field(min_length=1, max_length=80)  # the button: "Logga in med kommunens konto"
    # staff: civil servants, accounts made on first login from the mapped groups; organisation: members, by invitation only.
    kind: Literal["staff", "organisation"] = "staff"
    issuer: str = Field(min_length=1)  # must equal the discovery document's and every token's `iss`
    # Where the discovery document is, when not at <issuer>/.well-known/openid-configuration.
    discovery_url: str | None = None
    client_id: str = Field(min_length=1)
    client_secret: str | None = None  # none: a public client (PKCE only)
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    claims: OidcClaims = Field(default_factory=OidcClaims)
    # Group value → role, in order of precedence (the first the person carries wins); no mapped group: no access.
    roles: dict[str, Literal["officer", "approver", "registrar", "admin"]] = Field(default_factory=dict)
    # Group value → department (its diarie_prefix), for officers and approvers.
    departments: dict[str, str] = Field(default_factory=dict)
    # Accept this provider's bearer access tokens on the API when their `aud` includes this value (none: not accepted).
    api_audience: str | None = None
    # A login lasts at most this long, however active the browser is; the provider's back-channel logout ends it sooner.
    session_hours: float = Field(default=10, gt=0, le=24 * 7)
    # Send the browser to the provider's end_session_endpoint on logout (RP-initiated logout) when it has one.
    logout_at_provider: bool = True


class Settings(BaseSettings):
    """Runtime configuration (embedded defaults run the whole service locally)."""

    model_config = SettingsConfigDict(env_prefix="IOP_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    database_url: str = "sqlite:///./var/iop.db"
    storage_url: str = "file://./var/objects"
    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_secure: bool = False
    smtp_url: str | None = None
    # SMTP connections the deadline sweep keeps open at once (one batch each); 1 on SQLite.
    smtp_connections: int = Field(default=2, ge=1, le=16)
    mail_from: str = "IOP Partnerskap <noreply@iop.localhost>"
    secret_key: str = DEV_SECRET
    # Old signing keys still accepted for verification during rotation.
    previous_secret_keys: list[str] = Field(default_factory=list)
    token_minutes: int = 60
    timezone: str = "Europe/Stockholm"
    public_base_url: str = "http://127.0.0.1:8000"
    upload_limit_bytes: int = 25 * 1024 * 1024
    # S3 object lock (retention) for signed agreements. The bucket must be created with it
    # (S3 cannot add it later); `s3://bucket?object_lock=true` in IOP_STORAGE_URL works too.
    # The filesystem store always enforces retention itself.
    storage_object_lock: bool = False
    # How long a signed agreement's stored version is locked against deletion (COMPLIANCE
    # mode on S3: nobody, not even an administrator, can shorten it). Signed IOP agreements
    # are allmänna handlingar that arkivlagen (1990:782) requires the municipality to keep
    # until its dokumenthanteringsplan allows gallring, and claims under an agreement (for
    # instance repayment of misused funds) fall under the general ten-year limitation of
    # preskriptionslagen (1981:130). Ten years (3653 days, leap days included) from upload is
    # therefore a floor against accidental or malicious deletion, not a disposal date: nothing
    # is deleted when it ends. Set the archive's own period here; 0 stores without retention.
    signed_agreement_retention_days: int = Field(default=3653, ge=0, le=36_500)
    # PDF/A-2b copies through LibreOffice (optional; reported unavailable without soffice).
    pdfa_timeout_seconds: float = Field(default=120, gt=0)
    # Each conversion is a separate soffice process (~150 MB); more requests wait or get 503.
    pdfa_max_concurrent: int = Field(default=2, ge=1)
    page_size_max: int = 100
    review_due_working_days: int = 10
    # Förvaltningsrätt per municipality (the departments' `municipality`), as JSON in IOP_APPEAL_COURTS, e.g.
    # {"Exempelstads kommun": {"court": "Förvaltningsrätten i Göteborg", "address": "Box 1531, 401 50 Göteborg"}}.
    # An appealable decision of a municipality not listed here is not generated (409): no placeholder court.
    appeal_courts: dict[str, AppealCourt] = Field(default_factory=lambda: {"Exempelstads kommun": AppealCourt(
        court="Förvaltningsrätten i Göteborg", address="Box 1531, 401 50 Göteborg", email="forvaltningsrattenigoteborg@dom.se",
        notice_board_url="https://www.exempelstad.se/anslagstavla")})
    # Handlingstyper a diary entry may carry (JSON list in IOP_DIARIUM_DOCUMENT_TYPES); the domain's own kinds map onto
    # these names (service.diarium.service.TYPE_FOR), falling back to the last one when a name is not configured.
    diarium_document_types: list[str] = Field(default_factory=lambda: [
        "Ansökan", "Bilaga", "Meddelande", "Beslut", "Avtal", "Undertecknat avtal", "Protokoll", "Begäran om uppföljning",
        "Uppföljningsrapport", "Begäran om komplettering", "Återkallelse", "Tjänsteanteckning", "Övrigt"], min_length=1)
    # The informationshanteringsplan (JSON object in IOP_RETENTION_PLAN): a rule per handlingstyp, "bevaras" or
    # "gallras efter N år" counted from the case's closure; a type it does not name is kept. Unset: the shipped plan
    # (DEFAULT_RETENTION_PLAN) for the configured handlingstyper. Checked at startup: a type not in
    # IOP_DIARIUM_DOCUMENT_TYPES or a negative number of years refuses to start.
    retention_plan: dict[str, RetentionRule] | None = None
    # The same plan kept as a TOML file (`"Bilaga" = "gallras efter 5 år"`, one line per handlingstyp), e.g. the
    # archive's own document beside the deployment; only one of the two may be given.
    retention_plan_file: str | None = None
    sek_per_eur: float = 11.5
    de_minimis_eur: int = 300_000
    # Per process: the request sessions' pool and the read path's asyncpg pool (service/reads.py) each hold up to
    # this many connections (the sessions' pool overflows to twice as many under load).
    db_pool_size: int = 10
    # A PostgreSQL that does not answer (hung, not down) costs a request at most about this long before a 503 with
    # Retry-After: connect, wait for a pooled connection, each statement (service.hangs). 0 waits forever.
    db_timeout_seconds: float = Field(default=3.0, ge=0, le=600)
    # Strict-Transport-Security max-age; 0 sends no header (set it where TLS terminates in front of the API).
    hsts_seconds: int = 0
    # Failed logins allowed per e-mail and client address within the window before 429.
    # API worker processes (uvicorn --workers); 0 = one per CPU. SQLite runs one.
    web_concurrency: int = Field(default=1, ge=0, le=64)
    # Where throttling counts live: "memory" (one process) or "database" (shared by every worker and host); unset:
    # the database with several workers or in production, else memory.
    ratelimit_store: Literal["memory", "database"] | None = None
    login_max_failures: int = 5
    login_window_seconds: int = 15 * 60
    # Self-registrations (POST /auth/register, no login) allowed per client address within the window before 429:
    # each creates an account and an organisation and costs an argon2 hash, so a script must not be able to flood them.
    register_max_attempts: int = Field(default=10, ge=1)
    register_window_seconds: int = Field(default=60 * 60, ge=1)
    # --- accounts (issue 20)
    # Proxies (IP addresses or networks, a JSON list: IOP_TRUSTED_PROXIES='["10.0.0.5", "172.18.0.0/16"]') whose
    # X-Forwarded-For is believed; from anyone else the socket peer is the client. Run uvicorn with --no-proxy-headers.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Failed logins per client address across all accounts within login_window_seconds (password spraying) before 429.
    login_max_failures_per_client: int = Field(default=30, ge=1)
    # zxcvbn score (0–4) a new password must reach; 3 = "safely unguessable" against an offline attack on a slow hash.
    password_min_score: int = Field(default=3, ge=0, le=4)
    # How long an e-mailed password-reset link works, and how many resets one client address may request per window.
    password_reset_minutes: int = Field(default=60, ge=5, le=24 * 60)
    password_reset_max_attempts: int = Field(default=10, ge=1)
    password_reset_window_seconds: int = Field(default=60 * 60, ge=1)
    # Requests to the public register (no login: the page /offentligt and /api/v1/public/…) per client address within
    # the window before 429: open to anyone, so a script may not query it without limit.
    public_register_max_requests: int = Field(default=120, ge=1)
    public_register_window_seconds: int = Field(default=60, ge=1)
    # How long the link that confirms a self-registered account's e-mail address works (a reset link confirms it too).
    email_confirm_days: int = Field(default=7, ge=1, le=60)
    # Operations (issue 19): /ready writes a probe object at most this often (the result is reused in between, so
    # /ready stays cheap and a load balancer polling it does not write on every call); stored Idempotency-Keys
    # expire after this many hours (a retry comes within minutes) and are deleted by the maintenance flow in batches.
    storage_probe_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    idempotency_ttl_hours: float = Field(default=24.0, gt=0)
    idempotency_cleanup_batch: int = Field(default=1000, ge=1, le=100_000)
    # --- electronic signatures and seals (issue 15, service/signing/)
    # The service's signing key and certificate (the municipality's e-seal, used by the built-in provider for agreements
    # too) as PKCS#12; none configured: nothing is signed or sealed (503 for a signing order, decisions stay unsealed).
    # `make dev` writes a self-signed test CA and certificate under var/signing and sets these for its processes.
    signing_pkcs12_path: str | None = None
    signing_pkcs12_password: str | None = None
    # RFC 3161 time-stamping authority: with one, every signature gets a signature timestamp (PAdES-B-T).
    signing_tsa_url: str | None = None
    signing_tsa_timeout_seconds: float = Field(default=10, gt=0, le=120)
    # CA certificates (PEM files, a JSON list) that signatures are validated against; none: no signature is trusted.
    signing_trust_roots: list[str] = Field(default_factory=list)
    # Where the signatures say they were made (the signature dictionary's /Location).
    signing_location: str = Field(default="Sverige", max_length=100)
    # --- single sign-on (issue 14, service/auth/oidc/)
    # OpenID Providers by name (the name is in the callback address /logga-in/oidc/<name>/svar), as JSON in
    # IOP_OIDC_PROVIDERS; none: only the embedded e-mail and password login. See README "Single sign-on".
    oidc_providers: dict[str, OidcProvider] = Field(default_factory=dict)
    # How long the provider's answers (discovery, JWKS) are reused, and how long one call to it may take.
    oidc_metadata_cache_seconds: float = Field(default=3600, ge=0)
    oidc_http_timeout_seconds: float = Field(default=5, gt=0, le=60)
    # How long a person may take at the provider between pressing the button and coming back.
    oidc_login_minutes: int = Field(default=10, ge=1, le=60)
    # Clock difference tolerated for exp/iat/nbf.
    oidc_leeway_seconds: int = Field(default=60, ge=0, le=600)
    # Logins started (each stores a pending login) per client address within the window before 429.
    oidc_max_starts: int = Field(default=60, ge=1)
    oidc_starts_window_seconds: int = Field(default=10 * 60, ge=1)

    @model_validator(mode="after")
    def _check_retention_plan(self) -> Settings:
        """Every handlingstyp the plan names must be one a diary entry may carry (a misspelt type would keep nothing)."""
        if self.retention_plan_file:
            if self.retention_plan is not None:
                raise ValueError("Ange IOP_RETENTION_PLAN eller IOP_RETENTION_PLAN_FILE, inte båda / give the plan once")
            try:
                with open(self.retention_plan_file, "rb") as fh:
                    raw = tomllib.load(fh)
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ValueError(f"IOP_RETENTION_PLAN_FILE {self.retention_plan_file!r} kan inte läsas / cannot be read: {exc}") from exc
            self.retention_plan = {str(t): RetentionRule.model_validate(r) for t, r in raw.items()}
        if self.retention_plan is None:
            self.retention_plan = {t: RetentionRule.model_validate(r) for t, r in DEFAULT_RETENTION_PLAN.items()
                                   if t in self.diarium_document_types}
            return self
        unknown = sorted(set(self.retention_plan) - set(self.diarium_document_types))
        if unknown:
            raise ValueError(f"IOP_RETENTION_PLAN: okänd handlingstyp {', '.join(unknown)} (kända: "
                             f"{', '.join(self.diarium_document_types)}) / unknown document type in the retention plan")
        return self

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        """Refuse the development secret (or a short one) outside dev/test."""
        if self.env == "production" and (self.secret_key == DEV_SECRET or len(self.secret_key) < 32):
            raise ValueError(
                "IOP_SECRET_KEY måste sättas till en hemlig nyckel (minst 32 tecken) i produktion / "
                "IOP_SECRET_KEY must be set to a secret of at least 32 characters in production"
            )
        return self

    @model_validator(mode="after")
    def _check_oidc_names(self) -> Settings:
        """Provider names go into addresses: lower-case letters, digits and dashes."""
        for name in self.oidc_providers:
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", name):
                raise ValueError(f"IOP_OIDC_PROVIDERS: ogiltigt namn / invalid provider name {name!r} (a-z, 0-9, -)")
        return self


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings, read once."""
    return Settings()
