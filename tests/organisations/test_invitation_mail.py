"""Inviting an address into an organisation e-mails it after commit (real commits, the real outbox, real SMTP)."""

from __future__ import annotations

from factories import World, auth

from tests.auth.support import Real, body, fresh_reset_limit, real  # noqa: F401


def test_an_invitation_is_e_mailed_and_again_when_renewed(real: Real) -> None:  # noqa: F811
    with real.factory() as s, s.begin():
        w = World(s)
    url = f"/api/v1/organisations/{w.org.id}/invitations"
    r = real.client.post(url, json={"email": "Ny.Medlem@Forening.example"}, headers=auth(w.officer))
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "ny.medlem@forening.example"
    sent = real.to("ny.medlem@forening.example")
    assert len(sent) == 1
    text = body(sent[0])
    assert w.org.name in sent[0]["Subject"] and "/logga-in" in text and "e-legitimation" in text
    # A member invites again into their own organisation: the same invitation, renewed, and a new e-mail.
    again = real.client.post(url, json={"email": "ny.medlem@forening.example"}, headers=auth(w.member))
    assert again.status_code == 201 and again.json()["id"] == r.json()["id"]
    assert len(real.to("ny.medlem@forening.example")) == 2
    listed = real.client.get(url, headers=auth(w.member)).json()
    assert [i["id"] for i in listed] == [r.json()["id"]]
