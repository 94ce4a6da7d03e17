"""Small python-docx toolkit for the IOP templates: page setup, styles, letterhead, tables.

Everything here is deterministic (no timestamps, no random ids), so rebuilding the templates
gives the same XML and, with ``save_reproducible``, the same .docx bytes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime, UTC
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph

FONT = "Arial"
INK = "1A1A1A"
ACCENT = "1F3864"  # dark blue used for titles and headings
MUTED = "595959"
RULE = "8C8C8C"
HEADER_FILL = "DCE4EF"
LABEL_FILL = "F2F4F7"
BOX_FILL = "F3F5F8"
TEXT_WIDTH_CM = 16.0  # A4 (21 cm) minus 2 x 2.5 cm margins
FIXED_TIME = datetime(2026, 1, 1, tzinfo=UTC)

# A run is either plain text or (text, flags) where flags may contain "b" (bold), "i" (italic),
# "s" (small), "m" (muted colour).
RunSpec = str | tuple[str, str]


# --------------------------------------------------------------------------- document


def new_document(title: str, subject: str) -> DocumentObject:
    doc = Document()
    _page_setup(doc)
    _styles(doc)
    props = doc.core_properties
    props.title = title
    props.subject = subject
    props.author = "IOP Partnerskap"
    props.last_modified_by = "IOP Partnerskap"
    props.language = "sv-SE"
    props.comments = "Mall byggd av templates/source/build_templates.py"
    props.keywords = "IOP; idéburet offentligt partnerskap"
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    props.revision = 1
    # The default template's body holds nothing but an empty sectPr-carrying body.
    return doc


def _page_setup(doc: DocumentObject) -> None:
    for section in doc.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width = Cm(21.0)
        section.page_height = Cm(29.7)
        section.left_margin = Cm(2.5)
        section.right_margin = Cm(2.5)
        section.top_margin = Cm(3.4)
        section.bottom_margin = Cm(2.6)
        section.header_distance = Cm(1.1)
        section.footer_distance = Cm(1.0)


def landscape(doc: DocumentObject, margin_cm: float = 2.0) -> float:
    """Turn the document to A4 landscape (wide tables: a register, a report); returns the text width in cm."""
    for section in doc.sections:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width = Cm(29.7)
        section.page_height = Cm(21.0)
        section.left_margin = section.right_margin = Cm(margin_cm)
    return 29.7 - 2 * margin_cm


def _rfonts(rpr, name: str) -> None:
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in list(rfonts.attrib):
        del rfonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), name)


def _style_font(style, *, size: float | None = None, bold: bool | None = None,
                italic: bool | None = None, color: str | None = None, font: str = FONT) -> None:
    rpr = style.element.get_or_add_rPr()
    _rfonts(rpr, font)
    if size is not None:
        style.font.size = Pt(size)
    if bold is not None:
        style.font.bold = bold
        style.font.cs_bold = bold
    if italic is not None:
        style.font.italic = italic
    if color is not None:
        style.font.color.rgb = RGBColor.from_string(color)


def _style_spacing(style, *, before: float = 0, after: float = 0, line: float | None = 1.15,
                   keep_next: bool | None = None) -> None:
    fmt = style.paragraph_format
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)
    if line is not None:
        fmt.line_spacing = line
    if keep_next is not None:
        fmt.keep_with_next = keep_next


def _styles(doc: DocumentObject) -> None:
    styles = doc.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _rfonts(rpr, FONT)
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:val"), "sv-SE")
    lang.set(qn("w:eastAsia"), "sv-SE")
    lang.set(qn("w:bidi"), "ar-SA")

    normal = styles["Normal"]
    _style_font(normal, size=10.5, color=INK)
    _style_spacing(normal, after=6)
    normal.paragraph_format.widow_control = True

    h1 = styles["Heading 1"]
    _style_font(h1, size=12.5, bold=True, color=ACCENT)
    _style_spacing(h1, before=16, after=4, keep_next=True)
    h2 = styles["Heading 2"]
    _style_font(h2, size=11, bold=True, color=ACCENT)
    _style_spacing(h2, before=10, after=3, keep_next=True)

    for name in ("List Bullet", "List Number"):
        st = styles[name]
        _style_font(st, size=10.5)
        _style_spacing(st, after=3)

    def add(name: str, base: str = "Normal") -> object:
        st = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = styles[base]
        st.quick_style = True
        return st

    st = add("Dokumenttitel")
    _style_font(st, size=19, bold=True, color=ACCENT)
    _style_spacing(st, before=0, after=2, line=1.0, keep_next=True)

    st = add("Underrubrik")
    _style_font(st, size=12, color=MUTED)
    _style_spacing(st, before=0, after=14, line=1.1)

    st = add("Tabelltext")
    _style_font(st, size=9.5)
    _style_spacing(st, before=1, after=1, line=1.05)

    st = add("Tabellrubrik", "Tabelltext")
    _style_font(st, size=9.5, bold=True, color=ACCENT)

    st = add("Brevhuvud")
    _style_font(st, size=9, color=MUTED)
    _style_spacing(st, after=0, line=1.0)

    st = add("Sidfot")
    _style_font(st, size=8, color=MUTED)
    _style_spacing(st, after=0, line=1.0)

    st = add("Signaturtext")
    _style_font(st, size=8, color=MUTED)
    _style_spacing(st, before=0, after=6, line=1.0)

    st = add("Ingress")
    _style_font(st, size=10.5, italic=True, color=MUTED)
    _style_spacing(st, after=8)


# --------------------------------------------------------------------------- xml helpers


def _border(tag: str, *, val: str = "single", sz: int = 4, color: str = RULE, space: int = 0):
    el = OxmlElement(tag)
    el.set(qn("w:val"), val)
    el.set(qn("w:sz"), str(sz))
    el.set(qn("w:space"), str(space))
    el.set(qn("w:color"), color)
    return el


def paragraph_border(par: Paragraph, *, top: bool = False, bottom: bool = False,
                     color: str = RULE, sz: int = 4, space: int = 1) -> None:
    ppr = par._p.get_or_add_pPr()
    pbdr = OxmlElement("w:pBdr")
    if top:
        pbdr.append(_border("w:top", sz=sz, color=color, space=space))
    if bottom:
        pbdr.append(_border("w:bottom", sz=sz, color=color, space=space))
    # pBdr must come before spacing/ind/jc etc. in CT_PPr order: insert after pStyle/keep*.
    anchor = None
    for tag in ("w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr",
                "w:widowControl", "w:numPr", "w:suppressLineNumbers"):
        found = ppr.find(qn(tag))
        if found is not None:
            anchor = found
    if anchor is None:
        ppr.insert(0, pbdr)
    else:
        anchor.addnext(pbdr)


def add_field(par: Paragraph, instruction: str, placeholder: str = "1", small: bool = True) -> None:
    """A complex field (PAGE, NUMPAGES) the way Word writes it."""

    def run_with(child) -> None:
        run = par.add_run()
        if small:
            run.font.size = Pt(8)
        run._r.append(child)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run_with(instr)
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    run_with(sep)
    run = par.add_run(placeholder)
    if small:
        run.font.size = Pt(8)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def add_runs(par: Paragraph, parts: Iterable[RunSpec]) -> Paragraph:
    for part in parts:
        text, flags = (part, "") if isinstance(part, str) else part
        run = par.add_run(text)
        if "b" in flags:
            run.bold = True
        if "i" in flags:
            run.italic = True
        if "s" in flags:
            run.font.size = Pt(8.5)
        if "m" in flags:
            run.font.color.rgb = RGBColor.from_string(MUTED)
        if "a" in flags:
            run.font.color.rgb = RGBColor.from_string(ACCENT)
    return par


def _as_parts(content: RunSpec | Sequence[RunSpec]) -> list[RunSpec]:
    if isinstance(content, (str, tuple)):
        return [content]
    return list(content)


# --------------------------------------------------------------------------- body helpers


def para(container, content: RunSpec | Sequence[RunSpec] = "", style: str | None = None, *,
         align: str | None = None, before: float | None = None, after: float | None = None,
         keep_next: bool = False) -> Paragraph:
    par = container.add_paragraph(style=style)
    add_runs(par, _as_parts(content))
    fmt = par.paragraph_format
    if align == "right":
        par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif align == "center":
        par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if before is not None:
        fmt.space_before = Pt(before)
    if after is not None:
        fmt.space_after = Pt(after)
    if keep_next:
        fmt.keep_with_next = True
    return par


def tag(container, text: str) -> Paragraph:
    """A paragraph holding only a docxtpl paragraph tag (``{%p ... %}``); removed on render."""
    return container.add_paragraph(text)


def heading(doc: DocumentObject, text: str, level: int = 1) -> Paragraph:
    return doc.add_heading(text, level=level)


def bullets(doc: DocumentObject, loop: str, item: RunSpec | Sequence[RunSpec],
            style: str = "List Bullet") -> None:
    """``{%p for ... %}`` / one list paragraph / ``{%p endfor %}``."""
    tag(doc, f"{{%p for {loop} %}}")
    para(doc, item, style)
    tag(doc, "{%p endfor %}")


# --------------------------------------------------------------------------- tables


def _tbl_pr(table: Table):
    return table._tbl.tblPr


def _set_child(parent, tag_name: str, before: Sequence[str] = ()):
    existing = parent.find(qn(tag_name))
    if existing is not None:
        parent.remove(existing)
    el = OxmlElement(tag_name)
    # keep schema order roughly: insert before the first present follower
    for follower in before:
        found = parent.find(qn(follower))
        if found is not None:
            found.addprevious(el)
            return el
    parent.append(el)
    return el


_TBLPR_AFTER_BORDERS = ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption",
                        "w:tblDescription")


def table_borders(table: Table, *, outer: bool = True, inside: bool = True, color: str = RULE,
                  sz: int = 4) -> None:
    tbl_pr = _tbl_pr(table)
    borders = _set_child(tbl_pr, "w:tblBorders", _TBLPR_AFTER_BORDERS)
    for side in ("top", "left", "bottom", "right"):
        borders.append(_border(f"w:{side}", val="single" if outer else "nil", sz=sz, color=color))
    for side in ("insideH", "insideV"):
        borders.append(_border(f"w:{side}", val="single" if inside else "nil", sz=sz, color=color))


def table_cell_margins(table: Table, *, top: int = 45, bottom: int = 45, left: int = 100,
                       right: int = 100) -> None:
    tbl_pr = _tbl_pr(table)
    mar = _set_child(tbl_pr, "w:tblCellMar", ("w:tblLook", "w:tblCaption", "w:tblDescription"))
    for side, value in (("top", top), ("left", left), ("bottom", bottom), ("right", right)):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(value))
        el.set(qn("w:type"), "dxa")
        mar.append(el)


def column_widths(table: Table, widths_cm: Sequence[float]) -> None:
    table.autofit = False
    tbl_pr = _tbl_pr(table)
    layout = _set_child(tbl_pr, "w:tblLayout", ("w:tblCellMar", "w:tblLook", "w:tblCaption"))
    layout.set(qn("w:type"), "fixed")
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is not None:
        tbl_w.set(qn("w:type"), "dxa")
        tbl_w.set(qn("w:w"), str(int(sum(widths_cm) * 567)))
    grid = table._tbl.tblGrid
    for col, width in zip(grid.findall(qn("w:gridCol")), widths_cm, strict=True):
        col.set(qn("w:w"), str(int(width * 567)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def shade(cell: _Cell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = _set_child(tc_pr, "w:shd", ("w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText",
                                      "w:vAlign", "w:hideMark"))
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)


def no_wrap(cell: _Cell) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    _set_child(tc_pr, "w:noWrap", ("w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign",
                                   "w:hideMark"))


def repeat_header(row: _Row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:tblHeader"))


def cant_split(row: _Row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))


def cell_text(cell: _Cell, content: RunSpec | Sequence[RunSpec], style: str = "Tabelltext",
              align: str | None = None) -> Paragraph:
    par = cell.paragraphs[0]
    par.style = style
    add_runs(par, _as_parts(content))
    if align == "right":
        par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif align == "center":
        par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return par


def cell_para(cell: _Cell, content: RunSpec | Sequence[RunSpec] = "", style: str = "Tabelltext",
              **kwargs) -> Paragraph:
    return para(cell, content, style, **kwargs)


def new_table(container, rows: int, cols: int, widths_cm: Sequence[float], *,
              borders: bool = True) -> Table:
    if isinstance(container, DocumentObject):
        table = container.add_table(rows=rows, cols=cols)
    else:  # header/footer
        table = container.add_table(rows, cols, Cm(sum(widths_cm)))
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    if borders:
        table_borders(table)
    else:
        table_borders(table, outer=False, inside=False)
    table_cell_margins(table)
    column_widths(table, widths_cm)
    return table


def key_value_table(doc: DocumentObject, rows: Sequence[tuple[str, RunSpec | Sequence[RunSpec]]],
                    widths_cm: Sequence[float] = (5.0, 11.0)) -> Table:
    """Two columns, shaded labels. A label starting with ``{%tr`` makes a docxtpl tag row."""
    table = new_table(doc, len(rows), 2, widths_cm)
    for row, (label, value) in zip(table.rows, rows, strict=True):
        if label.startswith("{%tr"):
            cell_text(row.cells[0], label)
            continue
        shade(row.cells[0], LABEL_FILL)
        cell_text(row.cells[0], (label, "b"))
        cell_text(row.cells[1], value)
        cant_split(row)
    spacer(doc)
    return table


def loop_table(doc: DocumentObject, headers: Sequence[str], widths_cm: Sequence[float], *,
               loop: str, cells: Sequence[RunSpec | Sequence[RunSpec]],
               align: Sequence[str | None] | None = None,
               total: Sequence[RunSpec | Sequence[RunSpec]] | None = None,
               total_span: int = 1,
               nowrap: Sequence[int] = ()) -> Table:
    """Header row, a ``{%tr for %}`` row loop over one template row, optional totals row."""
    n_rows = 4 + (1 if total is not None else 0)
    table = new_table(doc, n_rows, len(headers), widths_cm)
    align = list(align or [None] * len(headers))
    head = table.rows[0]
    repeat_header(head)
    for i, (cell, text) in enumerate(zip(head.cells, headers, strict=True)):
        shade(cell, HEADER_FILL)
        cell_text(cell, text, "Tabellrubrik", align=align[i])
    cell_text(table.rows[1].cells[0], f"{{%tr for {loop} %}}")
    body = table.rows[2]
    cant_split(body)
    for i, (cell, content) in enumerate(zip(body.cells, cells, strict=True)):
        cell_text(cell, content, align=align[i])
        if i in nowrap:
            no_wrap(cell)
    cell_text(table.rows[3].cells[0], "{%tr endfor %}")
    if total is not None:
        # ``total`` has one entry per cell after merging the first ``total_span`` columns.
        row = table.rows[4]
        cant_split(row)
        cells = list(row.cells)
        if total_span > 1:
            merged = cells[0].merge(cells[total_span - 1])
            cells = [merged] + cells[total_span:]
        offset = total_span - 1
        for i, (cell, content) in enumerate(zip(cells, total, strict=True)):
            col = i + offset if i else 0
            shade(cell, LABEL_FILL)
            cell_text(cell, [(p, "b") if isinstance(p, str) else p for p in _as_parts(content)],
                      align=align[col])
            if col in nowrap:
                no_wrap(cell)
    spacer(doc)
    return table


def box(doc: DocumentObject, fill: str = BOX_FILL, width_cm: float = TEXT_WIDTH_CM) -> _Cell:
    """A one-cell shaded, bordered table used as a framed box; returns the cell."""
    table = new_table(doc, 1, 1, [width_cm])
    table_cell_margins(table, top=120, bottom=80, left=160, right=160)
    cant_split(table.rows[0])
    cell = table.rows[0].cells[0]
    shade(cell, fill)
    return cell


def spacer(doc: DocumentObject, pt: float = 4) -> Paragraph:
    par = doc.add_paragraph()
    fmt = par.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(pt)
    return par


# --------------------------------------------------------------------------- letterhead


def letterhead(doc: DocumentObject, doc_label: str, reference: Sequence[RunSpec] = ("Diarienummer: ", ("{{ case.diarienummer }}", "b")),
               footer_reference: str = "Dnr {{ case.diarienummer }}", text_width_cm: float = TEXT_WIDTH_CM) -> None:
    """Header: municipality/department left; document type, date and the reference (a case's diarienummer) right.
    Footer: address line left, 'Sida X av Y' right (PAGE / NUMPAGES fields)."""
    section = doc.sections[0]
    header = section.header
    header.is_linked_to_previous = False
    first = header.paragraphs[0]
    table = new_table(header, 1, 2, [text_width_cm - 7.0, 7.0], borders=False)
    table_cell_margins(table, top=0, bottom=0, left=0, right=0)
    left, right = table.rows[0].cells
    p = cell_text(left, ("{{ authority.municipality }}", "b"), "Brevhuvud")
    p.runs[0].font.size = Pt(14)
    p.runs[0].font.color.rgb = RGBColor.from_string(ACCENT)
    cell_para(left, "{{ authority.department }}", "Brevhuvud", before=1)
    cell_para(left, "{% if authority.committee %}{{ authority.committee }}{% endif %}", "Brevhuvud")
    cell_text(right, (doc_label.upper(), "b"), "Brevhuvud", align="right")
    right.paragraphs[0].runs[0].font.color.rgb = RGBColor.from_string(ACCENT)
    cell_para(right, ["Datum: ", "{{ document_date|datum }}"], "Brevhuvud", align="right", before=1)
    cell_para(right, list(reference), "Brevhuvud", align="right")
    # move the default empty paragraph after the table and turn it into a rule
    first._p.getparent().remove(first._p)
    rule = header.add_paragraph(style="Brevhuvud")
    rule.paragraph_format.space_before = Pt(2)
    paragraph_border(rule, bottom=True, color=ACCENT, sz=8)

    footer = section.footer
    footer.is_linked_to_previous = False
    fp = footer.paragraphs[0]
    fp.style = doc.styles["Sidfot"]
    paragraph_border(fp, top=True, color=RULE, sz=4, space=4)
    fp.paragraph_format.tab_stops.add_tab_stop(Cm(text_width_cm), WD_TAB_ALIGNMENT.RIGHT)
    add_runs(fp, [
        "{{ authority.municipality }} · {{ authority.department }}"
        "{% if authority.postal_address %} · {{ authority.postal_address }}{% endif %}",
        "\t",
        "Sida ",
    ])
    add_field(fp, "PAGE")
    fp.add_run(" av ").font.size = Pt(8)
    add_field(fp, "NUMPAGES")
    fp2 = footer.add_paragraph(style="Sidfot")
    add_runs(fp2, [
        "{% if authority.phone %}Telefon {{ authority.phone }}{% endif %}"
        "{% if authority.phone and authority.email %} · {% endif %}"
        "{% if authority.email %}{{ authority.email }}{% endif %}"
        "{% if authority.website and (authority.phone or authority.email) %} · {% endif %}"
        "{% if authority.website %}{{ authority.website }}{% endif %}",
    ])
    fp2.paragraph_format.tab_stops.add_tab_stop(Cm(text_width_cm), WD_TAB_ALIGNMENT.RIGHT)
    add_runs(fp2, ["\t", footer_reference])


def title_block(doc: DocumentObject, title: str, subtitle: str | None = None) -> None:
    para(doc, title, "Dokumenttitel")
    if subtitle:
        para(doc, subtitle, "Underrubrik")


# --------------------------------------------------------------------------- signatures


def signature_cell(cell: _Cell, heading_runs: Sequence[RunSpec], rows: Sequence[tuple[str, str]],
                   *, sign_line: bool = True, loop: str | None = None) -> None:
    """Heading, then per (value, caption): the value above a rule with a small caption.

    With ``loop`` (``"s in party.signatories"``) the lines repeat once per item (``{%p for %}``).
    """
    cell_text(cell, list(heading_runs), "Tabelltext")
    cell.paragraphs[0].paragraph_format.keep_with_next = True
    entries = list(rows)
    if sign_line:
        entries.insert(1, ("", "Namnteckning"))
    if loop:
        cell_para(cell, f"{{%p for {loop} %}}", "Tabelltext")
    for value, caption in entries:
        v = cell_para(cell, value, "Tabelltext", before=30 if not value else 14)
        v.paragraph_format.keep_with_next = True
        c = cell_para(cell, caption, "Signaturtext")
        paragraph_border(c, top=True, color=INK, sz=4, space=1)
        c.paragraph_format.keep_with_next = True
    if loop:
        cell_para(cell, "{%p endfor %}", "Tabelltext")


def signature_table(doc: DocumentObject, parties: Sequence[tuple[Sequence[RunSpec], Sequence[tuple[str, str]]]
                                                           | tuple[Sequence[RunSpec], Sequence[tuple[str, str]], str]],
                    *, sign_line: bool = True) -> Table:
    """Two signature cells side by side; a party given as (heading, rows, loop) repeats its lines per item."""
    widths = [7.6, 0.8, 7.6]
    table = new_table(doc, 1, 3, widths, borders=False)
    table_cell_margins(table, top=0, bottom=0, left=0, right=0)
    row = table.rows[0]
    cant_split(row)
    for cell, party in zip((row.cells[0], row.cells[2]), parties, strict=True):
        heading_runs, rows, *loop = party
        signature_cell(cell, heading_runs, rows, sign_line=sign_line, loop=loop[0] if loop else None)
    return table


# --------------------------------------------------------------------------- saving


def save_reproducible(doc: DocumentObject, path: Path) -> bytes:
    """Save with fixed zip timestamps and permissions so equal content gives equal bytes."""
    buf = io.BytesIO()
    doc.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            fixed.create_system = 3
            dst.writestr(fixed, src.read(info.filename), compresslevel=9)
    data = out.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data
