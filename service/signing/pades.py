"""PAdES with pyHanko: a signature page with one empty field per signatory, signing into a field, and validation.

Every signature is PAdES-B-B (ETSI.CAdES.detached, SHA-256, the signing certificate as a signed attribute), PAdES-B-T
when a time-stamping authority is configured. Each signature is an incremental update, so an earlier signature still
covers exactly the revision it signed and later signatures only fill in their own fields.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path

from service.config import Settings
from service.errors import ServiceUnavailable

log = logging.getLogger(__name__)

# Embedded in the PDF for the visible text (PDF/A needs embedded fonts; å, ä and ö need more than the standard 14).
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
# A4 in points; signature boxes on the signature page, two per row, top down.
BOX_W, BOX_H, MARGIN, GAP = 240, 90, 56, 20
TOP = 842 - 150


class TsaUnavailable(ServiceUnavailable):
    """The configured time-stamping authority did not answer: nothing is signed (a signature without it is not B-T)."""

    code = "tsa-unavailable"
    title = "Tidsstämpeltjänsten svarar inte / The time-stamping authority does not answer"


class PdfUnreadable(ValueError):
    """The bytes are not a PDF pyHanko can read (or the field to sign is missing or already signed)."""


@dataclass(frozen=True)
class FieldSpec:
    """One signatory's empty signature field on the signature page."""

    name: str
    label: str  # e.g. "Organisationen: Olle Ordförande, Ordförande"


def _font_factory():  # noqa: ANN202 - pyhanko font engine factory
    from pyhanko.pdf_utils.font.basic import SimpleFontEngineFactory

    for path in FONT_CANDIDATES:
        if Path(path).is_file():
            return _thousand_unit_factory(path)
    log.warning("no TrueType font for signature text found; using Courier (not embedded)")
    return SimpleFontEngineFactory.default_factory()


def _thousand_unit_factory(path: str):  # noqa: ANN202
    """pyHanko's embedded-font engine with glyph widths in thousandths of an em, as PDF reads /W.

    pyHanko 0.38 writes the font's own units; for a font with 2048 units per em (Liberation, DejaVu) every glyph
    then takes twice its width in a viewer. Shaping at a scale of 1000 and scaling the widths puts them in PDF units.
    """
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory

    class _Accumulator(GlyphAccumulator):
        def _get_cid_and_width(self, glyph_id: int) -> tuple[int, int]:
            if glyph_id in self._glyphs:
                return self._glyphs[glyph_id]
            cid, width = super()._get_cid_and_width(glyph_id)
            self._glyphs[glyph_id] = result = (cid, round(width * 1000 / self._upem))
            return result

    class _Factory(GlyphAccumulatorFactory):
        def create_font_engine(self, writer, obj_stream=None):  # noqa: ANN001, ANN202
            engine = super().create_font_engine(writer, obj_stream)
            engine.__class__ = _Accumulator
            engine._upem, engine.units_per_em = engine.units_per_em, 1000
            engine.hb_font.scale = (1000, 1000)
            return engine

    return _Factory(path)


def _text_style(size: int, border: int, stamp_text: str):  # noqa: ANN202
    from pyhanko import stamp
    from pyhanko.pdf_utils.text import TextBoxStyle

    return stamp.TextStampStyle(stamp_text=stamp_text, border_width=border, text_box_style=TextBoxStyle(font=_font_factory(), font_size=size))


def box(position: int) -> tuple[int, int, int, int]:
    """The rectangle of the `position`-th field on the signature page."""
    row, col = divmod(position, 2)
    x1 = MARGIN + col * (BOX_W + GAP)
    y2 = TOP - row * (BOX_H + 40)
    return x1, y2 - BOX_H, x1 + BOX_W, y2


def prepare(pdf: bytes, heading: str, fields_: list[FieldSpec]) -> bytes:
    """Append a signature page (heading, one labelled empty signature field per signatory) to a PDF."""
    from pyhanko import stamp
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields

    try:
        w = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        media = w.find_page_for_modification(0)[0].get_object().get("/MediaBox") or generic.ArrayObject(
            [generic.NumberObject(0), generic.NumberObject(0), generic.NumberObject(595), generic.NumberObject(842)])
    except Exception as exc:  # pyHanko raises several kinds for a broken file
        raise PdfUnreadable(f"not a readable PDF: {exc}") from exc
    page = generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Page"),
        generic.NameObject("/MediaBox"): media,
        generic.NameObject("/Resources"): generic.DictionaryObject(),
        generic.NameObject("/Contents"): w.add_object(generic.StreamObject(stream_data=b"")),
    })
    w.insert_page(page)
    page_index = int(w.root["/Pages"]["/Count"]) - 1
    text = stamp.TextStamp(w, _text_style(11, 0, "%(heading)s"), text_params={"heading": heading}, box=None)
    text.apply(page_index, MARGIN, TOP + 40)
    for i, spec in enumerate(fields_):
        x1, y1, x2, y2 = box(i)
        label = stamp.TextStamp(w, _text_style(8, 0, "%(label)s"), text_params={"label": spec.label}, box=None)
        label.apply(page_index, x1, y2 + 4)
        fields.append_signature_field(w, fields.SigFieldSpec(spec.name, on_page=page_index, box=(x1, y1, x2, y2)))
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def sign(pdf: bytes, settings: Settings, *, field_name: str, name: str, role: str, party: str, when: datetime, reason: str,
         signer=None) -> bytes:  # noqa: ANN001 - pyhanko signer
    """Sign the empty field `field_name` (PAdES-B-B; B-T with the configured TSA), its appearance naming name, role, date."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps

    from service.signing.keys import load_signer

    signer = signer or load_signer(settings)
    try:
        w = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        present = {name_ for name_, value, _ in fields.enumerate_sig_fields(w.prev, filled_status=False)}
    except Exception as exc:
        raise PdfUnreadable(f"not a readable PDF: {exc}") from exc
    if field_name not in present:
        raise PdfUnreadable(f"no empty signature field {field_name!r}")
    meta = signers.PdfSignatureMetadata(field_name=field_name, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
                                        name=name, reason=reason, location=settings.signing_location)
    url = settings.signing_tsa_url
    timestamper = (timestamps.HTTPTimeStamper(url, https=url.startswith("https:"), timeout=max(1, round(settings.signing_tsa_timeout_seconds)))
                   if url else None)
    style = _text_style(9, 1, "%(title)s\n%(name)s\n%(role)s\n%(party)s\nDatum: %(date)s")
    pdf_signer = signers.PdfSigner(meta, signer, timestamper=timestamper, stamp_style=style)
    out = BytesIO()
    try:
        pdf_signer.sign_pdf(w, existing_fields_only=True, output=out, appearance_text_params={
            "title": "Elektroniskt undertecknat" if party != "seal" else "Elektroniskt sigill", "name": name, "role": role,
            "party": party if party != "seal" else "", "date": when.strftime("%Y-%m-%d %H:%M")})
    except timestamps.TimestampRequestError as exc:
        log.warning("time-stamping authority %s: %s", url, exc)
        raise TsaUnavailable("Tidsstämpeltjänsten svarar inte; försök igen om en stund / the time-stamping authority does not answer, "
                             "retry later", retry_after=60) from exc
    return out.getvalue()


# ------------------------------------------------------------------ validation

@dataclass
class SignatureReport:
    """What validation found for one signature, in document order."""

    field: str
    name: str | None  # the signatory named in the signature (/Name)
    signer: str | None  # the signing certificate's subject
    signed_at: datetime | None  # the time the signer's software claims
    timestamp_at: datetime | None  # a TSA's signature timestamp, when there is one
    intact: bool  # the signed bytes are unchanged
    valid: bool  # the cryptographic signature checks out
    trusted: bool  # the signing certificate chains to a configured trust root
    coverage: str  # entire_file, entire_revision, …
    modifications: str  # what was changed after this signature (none, form_filling, other)
    ok: bool
    problems: list[str] = field(default_factory=list)


@dataclass
class DocumentReport:
    """Every signature of one PDF (none: `signatures` is empty) and whether all of them hold."""

    signatures: list[SignatureReport]
    error: str | None = None

    @property
    def valid(self) -> bool:
        """True when the PDF was read, has signatures and every one of them holds."""
        return self.error is None and bool(self.signatures) and all(s.ok for s in self.signatures)


def _subject(cert) -> str:  # noqa: ANN001 - asn1crypto certificate
    """The certificate holder as a reader names it: common name and organisation (the full subject when it has neither)."""
    native = cert.subject.native
    parts = [native.get("common_name"), native.get("organization_name")]
    named = ", ".join(dict.fromkeys(str(p) for p in parts if p))
    return named or cert.subject.human_friendly


def validate(pdf: bytes, trust_roots: list) -> DocumentReport:  # noqa: C901 - one report per signature
    """Validate every signature: intact, valid, chain to `trust_roots`, coverage and later modifications."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:
        return DocumentReport(signatures=[], error=f"PDF-filen kan inte läsas / the PDF cannot be read: {exc}")
    reports: list[SignatureReport] = []
    last = len(embedded) - 1
    for i, emb in enumerate(embedded):
        problems: list[str] = []
        name = emb.sig_object.get("/Name")
        try:
            vc = ValidationContext(trust_roots=trust_roots, allow_fetching=False, revocation_mode="soft-fail")
            st = validate_pdf_signature(emb, vc)
        except (SignatureValidationError, ValueError, KeyError, TypeError) as exc:
            reports.append(SignatureReport(field=emb.field_name, name=str(name) if name else None, signer=None, signed_at=None,
                                           timestamp_at=None, intact=False, valid=False, trusted=False, coverage="unknown",
                                           modifications="unknown", ok=False, problems=[f"Kan inte valideras / cannot be validated: {exc}"]))
            continue
        coverage = st.coverage.name.lower() if st.coverage else "unknown"
        level = st.modification_level
        modifications = level.name.lower() if level is not None else "unknown"
        if not st.intact:
            problems.append("Dokumentet har ändrats efter underskriften / the signed bytes were changed")
        if not st.valid:
            problems.append("Signaturen är ogiltig / the signature value does not verify")
        if not st.trusted:
            problems.append("Certifikatet kedjar inte till en betrodd utfärdare / the certificate does not chain to a trusted root")
        whole = st.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
            st.coverage == SignatureCoverageLevel.ENTIRE_REVISION and i != last
            and level is not None and level <= ModificationLevel.FORM_FILLING)
        if not whole:
            problems.append("Signaturen täcker inte hela dokumentet, eller dokumentet har ändrats på annat sätt än med fler underskrifter "
                            "/ the signature does not cover the whole document, or it was changed by more than later signatures")
        ts = st.timestamp_validity
        if ts is not None and not (ts.intact and ts.valid):
            problems.append("Tidsstämpeln är ogiltig / the signature timestamp does not verify")
        elif ts is not None and not ts.trusted:
            problems.append("Tidsstämpelns certifikat kedjar inte till en betrodd utfärdare / the timestamp does not chain to a trusted root")
        reports.append(SignatureReport(
            field=emb.field_name, name=str(name) if name else None,
            signer=_subject(st.signing_cert) if st.signing_cert else None,
            signed_at=st.signer_reported_dt, timestamp_at=ts.timestamp if ts is not None else None,
            intact=bool(st.intact), valid=bool(st.valid), trusted=bool(st.trusted), coverage=coverage, modifications=modifications,
            ok=not problems, problems=problems))
    return DocumentReport(signatures=reports)
