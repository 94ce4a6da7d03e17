"""Who a verified ID token names (service.auth.oidc.accounts), on SQLite and PostgreSQL: the configured claim mapping,
just-in-time staff accounts, invitations for organisation members, refusals that write nothing; and the session token
naming its provider session."""

from __future__ import annotations

import pytest
from factories import department, organisation, user
from sqlalchemy import func, select

from service.auth import credentials
from service.auth.models import AccountToken, Role, User
from service.auth.oidc import accounts
from service.auth.oidc.models import UserIdentity
from service.auth.oidc.provider import TokenRefused
from service.auth.security import NO_PASSWORD, create_token, decode_token
from service.config import OidcProvider, get_settings
from service.organisations import invitations

STAFF = OidcProvider(label="Kommunen", issuer="https://idp.example", client_id="iop",
                     roles={"iop-admin": "admin", "iop-beslut": "approver", "iop-handl": "officer"}, departments={"soc": "OIDCT"})
ORGS = OidcProvider(label="Föreningar", kind="organisation", issuer="https://broker.example", client_id="iop")


def _claims(sub: str, email: str, groups: list[str], verified: bool = True) -> dict:
    return {"sub": sub, "email": email, "email_verified": verified, "name": "Namn Namnsson", "groups": groups}


def _count(db, model) -> int:  # noqa: ANN001
    return db.scalar(select(func.count()).select_from(model))


def test_staff_get_the_role_of_the_first_configured_group_and_their_department(db) -> None:  # noqa: ANN001
    dep = department(db, diarie_prefix="OIDCT")
    u, identity = accounts.resolve(db, "kommun", STAFF, _claims("s-1", "Ny.Person@Kommun.example", ["soc", "iop-handl", "iop-beslut"]))
    assert (u.role, u.department_id, u.email, u.password_hash) == (Role.APPROVER, dep.id, "ny.person@kommun.example", NO_PASSWORD)
    assert (identity.provider, identity.subject, identity.user_id) == ("kommun", "s-1", u.id)
    # The provider is the source of the role: the next login with another group changes it; the same subject, the same account.
    again, _ = accounts.resolve(db, "kommun", STAFF, _claims("s-1", "byter@kommun.example", ["soc", "iop-handl"]))
    assert (again.id, again.role) == (u.id, Role.OFFICER)


@pytest.mark.parametrize(("groups", "reason"), [(["alla"], "no_role"), (["iop-handl"], "no_department")])
def test_no_mapped_group_or_department_is_no_account(db, groups: list[str], reason: str) -> None:  # noqa: ANN001
    department(db, diarie_prefix="OIDCT")
    before = _count(db, User)
    with pytest.raises(TokenRefused) as exc:
        accounts.resolve(db, "kommun", STAFF, _claims("s-2", "ingen@kommun.example", groups))
    assert exc.value.reason == reason and exc.value.status_code == 401
    assert _count(db, User) == before and _count(db, UserIdentity) == 0


def test_an_unverified_email_neither_makes_nor_links_an_account(db) -> None:  # noqa: ANN001
    department(db, diarie_prefix="OIDCT")
    user(db, Role.OFFICER, department=department(db), email="finns@kommun.example")
    with pytest.raises(TokenRefused) as exc:
        accounts.resolve(db, "kommun", STAFF, _claims("s-3", "finns@kommun.example", ["soc", "iop-handl"], verified=False))
    assert exc.value.reason == "email_unverified" and _count(db, UserIdentity) == 0


def test_an_organisations_account_never_becomes_staff(db) -> None:  # noqa: ANN001
    department(db, diarie_prefix="OIDCT")
    user(db, Role.ORG_MEMBER, organisation=organisation(db), email="medlem@forening.example")
    with pytest.raises(TokenRefused) as exc:
        accounts.resolve(db, "kommun", STAFF, _claims("s-4", "medlem@forening.example", ["soc", "iop-admin"]))
    assert exc.value.reason == "account_conflict"


def test_an_organisation_member_needs_an_open_invitation(db) -> None:  # noqa: ANN001
    org = organisation(db)
    officer = user(db, Role.OFFICER, department=department(db))
    with pytest.raises(TokenRefused) as exc:
        accounts.resolve(db, "forening", ORGS, _claims("o-1", "inbjuden@forening.example", []))
    assert exc.value.reason == "not_invited"
    inv = invitations.invite(db, officer, org.id, " Inbjuden@Forening.example ")
    u, _ = accounts.resolve(db, "forening", ORGS, _claims("o-1", "inbjuden@forening.example", []))
    assert (u.role, u.organisation_id, inv.accepted_by_id) == (Role.ORG_MEMBER, org.id, u.id)
    # Used up: another person with the same address at another subject is not let in by it again.
    with pytest.raises(TokenRefused):
        accounts.resolve(db, "forening", ORGS, _claims("o-2", "inbjuden@forening.example", []))


def test_members_invite_into_their_own_organisation_only(db) -> None:  # noqa: ANN001
    from service.errors import Forbidden, NotFound, ValidationFailed

    org, other = organisation(db), organisation(db)
    member = user(db, Role.ORG_MEMBER, organisation=org)
    assert invitations.invite(db, member, org.id, "a@b.example").organisation_id == org.id
    with pytest.raises(NotFound):
        invitations.invite(db, member, other.id, "a@b.example")
    with pytest.raises(Forbidden):
        invitations.invite(db, user(db, Role.APPROVER, department=department(db)), org.id, "a@b.example")
    with pytest.raises(ValidationFailed):
        invitations.invite(db, member, org.id, "inte en adress")


def test_a_single_sign_on_account_gets_no_password_reset(db) -> None:  # noqa: ANN001
    department(db, diarie_prefix="OIDCT")
    sso_user, _ = accounts.resolve(db, "kommun", STAFF, _claims("s-5", "sso@kommun.example", ["soc", "iop-handl"]))
    with_password = user(db, Role.OFFICER, department=department(db))
    credentials.request_reset(db, sso_user.email, get_settings())
    credentials.request_reset(db, with_password.email, get_settings())
    tokens = list(db.scalars(select(AccountToken.user_id)))
    assert with_password.id in tokens and sso_user.id not in tokens


def test_a_session_token_names_its_provider_session() -> None:
    settings = get_settings()
    token, _ = create_token(7, "officer", settings, 3, sso_session=42)
    assert decode_token(token, settings) == (7, 3, 42)
    plain, _ = create_token(7, "officer", settings, 3)
    assert decode_token(plain, settings).sso_session is None
