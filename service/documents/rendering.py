"""Render the Swedish .docx templates with docxtpl: sandboxed, autoescaped, pure.

``render(context)`` takes one of the pydantic contexts in ``service.documents.contexts`` and
returns the finished .docx as bytes together with its checksums. No database, no storage:
the caller stores ``RenderedDocument.content`` and records ``sha256``, ``size``,
``template_name`` and ``template_sha256``.

Safety: the Jinja environment is a ``SandboxedEnvironment`` with autoescape on, so text from
users (``&``, ``<``, ``{{ 7*7 }}``, ``{% for %}``) is written literally and can neither break the
XML (which docxtpl would otherwise "recover" from by silently dropping tables) nor be
evaluated. Characters that XML 1.0 forbids are removed before rendering.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel

from service.labels import STAGES, label

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

OUTCOME_LABELS: dict[str, str] = {
    "approve": "Bifall",
    "reject": "Avslag",
    "changes_requested": "Återremiss för komplettering",
    "terminate": "Förtida avslut av partnerskapet",
}

MONTHS_SV = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)


class TemplateRenderError(RuntimeError):
    """A template could not be rendered (syntax error, unknown field, sandbox violation)."""


@dataclass(frozen=True, slots=True)
class RenderedDocument:
    """A rendered .docx and what the Document row records about it."""

    content: bytes
    template_name: str
    template_sha256: str
    sha256: str
    size: int
    content_type: str = DOCX_CONTENT_TYPE


# --------------------------------------------------------------------------- filters


def sek(value: Any) -> str:
    """Whole kronor with Swedish digit grouping: ``1250000`` -> ``"1 250 000 kr"``."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        raise TypeError("sek: expected an amount, got a bool")
    amount = int(round(value)) if isinstance(value, float) else int(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,} kr".replace(",", " ")


def datum(value: Any) -> str:
    """ISO 8601 date as used by Swedish authorities: ``2026-11-23``."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(str(value)).isoformat()


def datum_lang(value: Any) -> str:
    """Date in words: ``23 november 2026``."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        value = date.fromisoformat(str(value))
    return f"{value.day} {MONTHS_SV[value.month - 1]} {value.year}"


def klockslag(value: Any) -> str:
    """Time of day the Swedish way: ``13.30``."""
    if value is None or value == "":
        return ""
    if isinstance(value, (time, datetime)):
        return f"{value.hour:02d}.{value.minute:02d}"
    return str(value)


def manader(value: Any) -> str:
    """``1`` -> ``"1 månad"``, ``3`` -> ``"3 månader"``."""
    if value is None or value == "":
        return ""
    n = int(value)
    return f"{n} månad" if n == 1 else f"{n} månader"


def skede(value: Any) -> str:
    """Stage code -> Swedish stage name (``dialogue`` -> ``Dialog``)."""
    if value is None:
        return ""
    key = str(getattr(value, "value", value))
    return label(STAGES, key, key)


def beslutsutfall(value: Any) -> str:
    """Decision code -> Swedish label (``approve`` -> ``Bifall``)."""
    if value is None:
        return ""
    key = str(getattr(value, "value", value))
    return OUTCOME_LABELS.get(key, key)


FILTERS = {
    "sek": sek,
    "datum": datum,
    "datum_lang": datum_lang,
    "klockslag": klockslag,
    "manader": manader,
    "skede": skede,
    "beslutsutfall": beslutsutfall,
}


def _finalize(value: Any) -> Any:
    # Optional fields print as nothing, never as "None".
    return "" if value is None else value


def make_environment() -> SandboxedEnvironment:
    """A sandboxed, autoescaping Jinja environment with the Swedish filters registered."""
    env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined, finalize=_finalize)
    env.filters.update(FILTERS)
    return env


_ENV = make_environment()


# --------------------------------------------------------------------------- user text

# XML 1.0 allows \t \n \r and everything from U+0020 except surrogates and U+FFFE/U+FFFF.
# docxtpl also gives \a (new paragraph) and \f (page break) a meaning: user text must not
# smuggle those in either, so every C0 control except \t and \n goes.
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_BLANK_LINES = re.compile(r"[ \t]*\n(?:[ \t]*\n)+")


def clean_text(text: str) -> str:
    """Normalise user text for docx: strip forbidden characters, blank line -> new paragraph."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _FORBIDDEN_CHARS.sub("", text)
    text = text.strip("\n")
    # docxtpl turns "\a" in the rendered XML into a new paragraph with the same style and
    # "\n" into a line break.
    return _BLANK_LINES.sub("\a", text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True, slots=True)
class _CachedTemplate:
    stamp: tuple[int, int, int]  # (inode, size, mtime_ns) of the file when read
    data: bytes
    sha256: str


_cache: dict[Path, _CachedTemplate] = {}
_cache_lock = threading.Lock()


def load_template(path: Path) -> tuple[bytes, str]:
    """Template bytes and their sha256, read once per file version (stat-checked)."""
    path = path.resolve()
    st = path.stat()
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    cached = _cache.get(path)
    if cached is None or cached.stamp != stamp:
        data = path.read_bytes()
        cached = _CachedTemplate(stamp, data, hashlib.sha256(data).hexdigest())
        with _cache_lock:
            _cache[path] = cached
    return cached.data, cached.sha256


def template_path(template_name: str, templates_dir: Path | None = None) -> Path:
    """Where ``template_name`` lives; refuses names that leave the templates directory."""
    base = (templates_dir or DEFAULT_TEMPLATES_DIR).resolve()
    path = (base / template_name).resolve()
    if path.parent != base or path.suffix != ".docx":
        raise ValueError(f"Invalid template name: {template_name!r}")
    return path


# A municipality's own template for a template name, as (bytes, sha256, recorded name), or None for the shipped
# file: service.doctemplates registers its lookup here (rendering imports nothing of it).
TEMPLATE_OVERRIDES: list[Callable[[str], tuple[bytes, str, str] | None]] = []


def template_source(template_name: str, templates_dir: Path | None = None) -> tuple[bytes, str, str]:
    """The template a render uses: an active custom upload (not with an explicit templates_dir), else the shipped file."""
    for override in TEMPLATE_OVERRIDES if templates_dir is None else ():
        if (custom := override(template_name)) is not None:
            return custom
    data, sha = load_template(template_path(template_name, templates_dir))
    return data, sha, template_name


# --------------------------------------------------------------------------- rendering


def _describe(doc: DocxTemplate, context: BaseModel, values: Mapping[str, Any]) -> None:
    """Document properties (carried into the PDF/A metadata): title with diarienummer."""
    case = values.get("case")
    if not isinstance(case, Mapping):
        return
    props = doc.docx.core_properties
    dnr = _one_line(case.get("diarienummer"))
    title = getattr(type(context), "document_title", None) or props.title or ""
    # python-docx refuses core properties longer than 255 characters
    props.title = (f"{title} – {dnr}" if dnr else title)[:255]
    props.identifier = dnr[:255]
    props.subject = _one_line(case.get("title"))[:255]
    # The diarienummer also as a keyword (PDF /Keywords, searchable in an archive) and the render time as the
    # document's creation, instead of the template's fixed build date.
    props.keywords = "; ".join(k for k in ("IOP", dnr) if k)[:255]
    props.created = props.modified = datetime.now(UTC).replace(microsecond=0)


def _one_line(value: Any) -> str:
    return " ".join(str(value or "").replace("\a", " ").split())


def render(context: BaseModel, templates_dir: Path | None = None) -> RenderedDocument:
    """Render ``context`` into its template (``type(context).template_name``)."""
    template_name = getattr(type(context), "template_name", None)
    if not isinstance(context, BaseModel) or not isinstance(template_name, str):
        raise TypeError("render() needs a pydantic context model with a template_name class var")
    data, template_sha, template_name = template_source(template_name, templates_dir)

    values = _clean(context.model_dump(mode="python"))
    doc = DocxTemplate(io.BytesIO(data))  # fresh object per call: docxtpl state is per render
    try:
        doc.render(values, jinja_env=_ENV, autoescape=True)
    except TemplateError as exc:
        raise TemplateRenderError(f"{template_name}: {exc}") from exc
    _describe(doc, context, values)
    out = io.BytesIO()
    doc.save(out)
    content = out.getvalue()
    return RenderedDocument(
        content=content,
        template_name=template_name,
        template_sha256=template_sha,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
    )
