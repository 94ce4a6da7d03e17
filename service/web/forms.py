"""Form state for re-rendering with the user's input and per-field Swedish error messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from service.errors import AppError, StaleVersion
from service.web.labels import amounts_in_text, swedish_part

# A conflict view's fields: the version the user has now seen, and the explicit choice to replace it.
SEEN_VERSION, OVERWRITE = "seen_version", "overwrite"


def expected_version(form: FormData | Mapping[str, Any]) -> int:
    """The version a save may replace: the one the form was opened with, or after a conflict, if the user chose to
    overwrite, the one the conflict view showed."""
    def plain(raw: str) -> bool:  # ASCII digits only: "¹".isdigit() is True and int("¹") fails
        return raw.isascii() and raw.isdigit() and len(raw) < 10

    key = SEEN_VERSION if str(form.get(OVERWRITE) or "") == "ja" and plain(str(form.get(SEEN_VERSION) or "")) else "version"
    raw = str(form.get(key) or "")
    return int(raw) if plain(raw) else 0


# Pydantic error types mapped to Swedish messages (ctx values are filled in).
PYDANTIC_SV: dict[str, str] = {
    "missing": "Fältet måste fyllas i.",
    "string_too_short": "Fältet måste fyllas i.",
    "string_too_long": "Texten är för lång (högst {max_length} tecken).",
    "int_parsing": "Ange ett heltal, utan decimaler.",
    "int_type": "Ange ett heltal, utan decimaler.",
    "int_from_float": "Ange ett heltal, utan decimaler.",
    "greater_than_equal": "Värdet måste vara minst {ge}.",
    "greater_than": "Värdet måste vara större än {gt}.",
    "less_than_equal": "Värdet får vara högst {le}.",
    "date_parsing": "Ange ett datum som ÅÅÅÅ-MM-DD.",
    "date_from_datetime_parsing": "Ange ett datum som ÅÅÅÅ-MM-DD.",
    "date_type": "Ange ett datum som ÅÅÅÅ-MM-DD.",
    "enum": "Välj ett av alternativen.",
    "literal_error": "Välj ett av alternativen.",
    "too_short": "Minst {min_length} rader krävs.",
    "too_long": "Högst {max_length} rader.",
    "value_error": "{error}",
    "bool_parsing": "Välj ja eller nej.",
    "url_parsing": "Ange en giltig adress.",
}


def translate(err: Mapping[str, Any]) -> str:
    """A Swedish message for one pydantic error."""
    etype = err.get("type", "")
    ctx = dict(err.get("ctx") or {})
    if etype.startswith("value_error") and "email" in str(err.get("msg", "")).lower():
        return "Ange en giltig e-postadress, till exempel namn@exempel.se."
    template = PYDANTIC_SV.get(etype)
    if template is None:
        return swedish_part(str(err.get("msg", "Ogiltigt värde.")))
    if etype == "value_error":
        return swedish_part(str(ctx.get("error", err.get("msg", ""))).removeprefix("Value error, "))
    if etype in ("too_short", "too_long"):
        # Rows of a list: "minst en rad", "högst 3 rader", not "1 rad(er)".
        n = ctx.get("min_length" if etype == "too_short" else "max_length")
        count = "en rad" if n == 1 else f"{n} rader"
        return f"Minst {count} krävs." if etype == "too_short" else f"Högst {count}."
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template


@dataclass
class FormState:
    """Submitted values and errors of one form."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    prefix: str = "f"
    # Field labels, so the error summary can say which field a generic message is about.
    labels: Mapping[str, str] = field(default_factory=dict)
    # HTTP status for the re-shown page: 422 for invalid input, the service's status (409, 403 …) otherwise.
    status: int = 422
    # After a stale save: the stored values that differ from the user's (field -> theirs); see conflict().
    theirs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form: FormData | Mapping[str, Any], prefix: str = "f", labels: Mapping[str, str] | None = None) -> FormState:
        """Keep what the user typed (files and the CSRF token excluded)."""
        values: dict[str, Any] = {}
        items = form.multi_items() if isinstance(form, FormData) else list(form.items())
        for key, value in items:
            if key == "csrf_token" or isinstance(value, UploadFile):
                continue
            if key in values:  # repeated names (checkbox groups) become lists
                prev = values[key]
                values[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
            else:
                values[key] = value
        return cls(values=values, prefix=prefix, labels=labels or {})

    def conflict(self, stored: Mapping[str, Any], current_version: int) -> None:
        """A save that started from an older version: keep the user's values, show the stored ones that differ.

        The form keeps the version it was opened with, so saving again as it is conflicts again: only ticking
        "overwrite" (OVERWRITE, which carries the version the user has now seen) replaces the other person's change.
        """
        def norm(v: Any) -> str:
            return "\n".join(v) if isinstance(v, list) else ("" if v is None else str(v)).strip()

        self.theirs = {k: v for k, v in stored.items() if k not in ("version", SEEN_VERSION) and norm(v) != norm(self.values.get(k))}
        self.values[SEEN_VERSION] = str(current_version)
        self.values.pop(OVERWRITE, None)
        self.status = 409
        self.general.append("Någon annan har sparat en ändring sedan du öppnade sidan, så din version sparades inte. Dina uppgifter "
                            "finns kvar i formuläret; den andras ändringar visas ovanför. Ändra det som behövs, eller kryssa i "
                            "att du vill ersätta den andras version, och spara igen.")

    def parse_date(self, name: str, raw: str) -> date | None:
        """The field's date (ÅÅÅÅ-MM-DD), None when empty; otherwise None and the field's error."""
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.add(name, "Ange datumet som ÅÅÅÅ-MM-DD, t.ex. 2026-03-01.")
            return None

    def value(self, name: str, default: Any = "") -> Any:
        """The submitted value of a field, or the default."""
        v = self.values.get(name)
        return default if v is None else v

    def error(self, name: str) -> str | None:
        """The error message of a field, if any."""
        return self.errors.get(name)

    def field_id(self, name: str) -> str:
        """The HTML id of a field in this form."""
        return f"{self.prefix}-{name}"

    def add(self, name: str | None, message: str) -> None:
        """Attach an error to a field (or to the form when the field is unknown)."""
        message = amounts_in_text(message)
        if name and name not in self.errors:
            self.errors[name] = message
        elif not name:
            self.general.append(message)

    @property
    def has_errors(self) -> bool:
        """True when anything is wrong."""
        return bool(self.errors or self.general)

    def summary(self) -> list[tuple[str | None, str]]:
        """(field id or None, message) for the error summary at the top of the page."""
        out: list[tuple[str | None, str]] = [(None, m) for m in self.general]
        order = {name: i for i, name in enumerate(self.labels)}
        # Listed in the order the fields appear, so the summary reads like the form.
        for name, message in sorted(self.errors.items(), key=lambda kv: order.get(kv[0], len(order))):
            label = self.labels.get(name)
            if label and not message.lower().startswith(label.lower()):
                message = f"{label}: {message[:1].lower()}{message[1:]}"
            out.append((self.field_id(name), message))
        return out

    def add_validation(self, exc: ValidationError, *, fields: Iterable[str] = (), aliases: Mapping[str, str] | None = None,
                       default_field: str | None = None) -> None:
        """Map pydantic errors to fields; loc parts are joined with '-' (e.g. contributions-0-amount_sek)."""
        known = set(fields)
        aliases = aliases or {}
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p != "body"]
            name = "-".join(loc)
            name = aliases.get(name, name)
            if known and name not in known:
                # Model-level validators have no loc; put them where the user can act on them.
                name = aliases.get(loc[0], loc[0]) if loc and aliases.get(loc[0], loc[0]) in known else default_field
            self.add(name, translate(err))

    def add_app_error(self, exc: AppError, *, fields: Iterable[str] = (), aliases: Mapping[str, str] | None = None) -> None:
        """Show a service-layer problem: errors[] next to their fields, the detail above the form."""
        self.status = exc.status_code
        if isinstance(exc, StaleVersion):
            self.general.append("Någon annan har ändrat uppgifterna sedan du öppnade sidan, så dina ändringar sparades inte. "
                                "Din text finns kvar nedan: kontrollera ärendet och spara igen.")
            return
        known = set(fields)
        aliases = aliases or {}
        placed = False
        for item in exc.errors:
            raw = str(item.get("field") or "")
            name = aliases.get(raw, raw.replace(".", "-"))
            message = swedish_part(str(item.get("message") or exc.detail))
            if name in known:
                self.add(name, message)
                placed = True
            else:
                self.general.append(message)
        extra_field = exc.extra.get("field") if isinstance(exc.extra.get("field"), str) else None
        if extra_field and aliases.get(extra_field, extra_field) in known:
            self.add(aliases.get(extra_field, extra_field), swedish_part(exc.detail))
        elif not exc.errors or not placed:
            self.general.insert(0, swedish_part(exc.detail))
