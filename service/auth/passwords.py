"""The one password rule, wherever a password is set (admin creates a user, self-registration, change, reset).

A password must reach `password_min_score` in zxcvbn (dictionaries of common and breached passwords, names,
keyboard patterns, repeats, dates), with the account's own e-mail address, name and organisation name, and the
commonest Swedish password words, given to zxcvbn as words an attacker knows. A password that is mostly the
account's own data is refused outright. The length bounds (10–256) are the schemas'; zxcvbn looks at the first 72
characters, which is where a long password that is weak would show it. A refusal is a 422 naming the field, with
zxcvbn's reason in Swedish where one is known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from zxcvbn import zxcvbn

from service.config import get_settings
from service.errors import ValidationFailed

# zxcvbn's dictionaries are English: the words Swedish passwords are most often made of are given as known words too.
SWEDISH_COMMON = (
    "sommar", "vinter", "hösten", "hosten", "våren", "varen", "hemligt", "hemlig", "lösenord", "losenord", "lösen", "losen",
    "välkommen", "valkommen", "sverige", "stockholm", "göteborg", "goteborg", "malmö", "malmo", "uppsala", "kommunen", "kommun",
    "förening", "forening", "föreningen", "foreningen", "hejsan", "hejhej", "älskling", "alskling", "solsken", "fotboll",
    "kalle", "anka", "katten", "hunden", "mamma", "pappa", "blommor", "jultomten", "midsommar", "tjenare", "ideell", "iop",
)

# zxcvbn refuses longer input (its matching is super-linear); what follows adds no weakness it could find.
ZXCVBN_MAX = 72

# zxcvbn's warnings in Swedish (the library speaks English); anything else gets the general sentence.
_WARNINGS_SV = {
    'Repeats like "aaa" are easy to guess.': "upprepningar som ”aaa” är lätta att gissa",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': "upprepningar som ”abcabc” är lätta att gissa",
    "Sequences like abc or 6543 are easy to guess.": "följder som ”abc” eller ”6543” är lätta att gissa",
    "Recent years are easy to guess.": "årtal är lätta att gissa",
    "Dates are often easy to guess.": "datum är lätta att gissa",
    "This is a top-10 common password.": "ett av de vanligaste lösenorden",
    "This is a top-100 common password.": "ett av de vanligaste lösenorden",
    "This is a very common password.": "ett mycket vanligt lösenord",
    "This is similar to a commonly used password.": "liknar ett vanligt lösenord",
    "Straight rows of keys are easy to guess.": "tangenter i rad är lätta att gissa",
    "Short keyboard patterns are easy to guess.": "tangentbordsmönster är lätta att gissa",
    "Names and surnames by themselves are easy to guess.": "namn är lätta att gissa",
    "Common names and surnames are easy to guess.": "vanliga namn är lätta att gissa",
    "A word by itself is easy to guess.": "ett enstaka ord är lätt att gissa",
}


def _own_words(values: Iterable[str | None]) -> list[str]:
    """The account's data as zxcvbn user inputs: each value whole and its words (e-mail split at @ and dots)."""
    out: list[str] = []
    for value in values:
        if not value:
            continue
        value = value.strip().lower()
        out.append(value)
        if "@" in value:
            out.append(value.rsplit("@", 1)[0])  # "ny.admin" of ny.admin@kommun.se
        out.extend(w for w in re.split(r"[\s@.,_+\-]+", value) if len(w) >= 3)
    return out


def check_password(password: str, *, field: str = "password", email: str | None = None, full_name: str | None = None,
                   organisation_name: str | None = None) -> None:
    """422 naming `field` when the password is too easy to guess for this account."""
    own = _own_words((email, full_name, organisation_name))
    lowered = password.lower()
    if any(len(w) >= 4 and w in lowered and len(w) * 2 >= len(lowered) for w in own):
        # Mostly the account's own e-mail, name or organisation: zxcvbn would score "namn2026!" by its suffix alone.
        sv, en = "det bygger på kontots e-postadress, namn eller organisationens namn", "it is based on the account's e-mail, name or organisation"
    else:
        result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=[*own, *SWEDISH_COMMON])
        if result["score"] >= get_settings().password_min_score:
            return
        warning = result["feedback"]["warning"]
        sv, en = _WARNINGS_SV.get(warning, "det är för lätt att gissa"), warning.rstrip(".").lower() or "it is too easy to guess"
    raise ValidationFailed(
        "Lösenordet är för svagt / the password is too weak",
        errors=[{"field": field, "message": f"Lösenordet är för svagt: {sv}; välj en längre fras av flera ovanliga ord / "
                                            f"the password is too weak: {en}; choose a longer phrase of several uncommon words"}],
    )
