"""Server-rendered, accessible SVG charts (line, grouped bar) with an HTML table fallback; pure functions, no script.

Contract:
- `line_chart()` and `bar_chart()` return a `Markup` of one inline `<svg role="img">` labelled by its `<title>` and
  `<desc>`; every text is escaped. Series differ by more than colour: lines by dash pattern and marker shape, bars by
  fill pattern, each shown in a legend. No `style` attribute is written (the web's CSP has no 'unsafe-inline'): only
  SVG presentation attributes and classes.
- The value axis starts at 0 (or below, for negative values) and ends at a "nice" maximum; a value v is drawn at
  `plot_bottom - (v - lo) / (hi - lo) * plot_height`. Every point and bar carries `data-value` (the raw number) and a
  `<title>` with the formatted value, for pointer users and tests.
- Numbers are written the Swedish way (`format_number`: non-breaking space between thousands, decimal comma).
- `None` is a missing value: no bar, no marker, a gap in the line. No categories or no values at all draw an empty
  chart saying "Inga uppgifter att visa".
- `data_table()` renders the same categories and series as a `<table>`; `chart_figure()` puts a chart and its table
  in one `<figure>` (the table in a `<details>` unless asked to show it).
- Ids: every id in a chart starts with its `chart_id` (patterns, title, desc), so several charts share a page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from service.web.labels import number

Value = int | float | None
Formatter = Callable[[float], str]

# Dark enough for 3:1 against white (WCAG 1.4.11 non-text contrast); colour is never the only difference.
PALETTE: tuple[str, ...] = ("#1c4f8f", "#a14a00", "#17603a", "#6b2d83", "#4a5361", "#8f1a12", "#005a70", "#6e5a00")
# Lines: dash patterns and marker shapes, in series order.
DASHES: tuple[str | None, ...] = (None, "8 4", "2 3", "10 3 2 3", "4 4", "1 2")
MARKERS: tuple[str, ...] = ("circle", "square", "triangle", "diamond", "cross", "circle")
# Bars: fill patterns, in series order.
PATTERNS: tuple[str, ...] = ("solid", "diagonal", "dots", "crosshatch", "horizontal", "vertical", "backdiagonal", "checks")

EMPTY_TEXT = "Inga uppgifter att visa"
# Average width of a character of 12 px sans-serif text, for laying out labels without measuring them.
CHAR_WIDTH = 6.5
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Series:
    """One named row of values, one per category (None: no value)."""

    name: str
    values: Sequence[Value]


@dataclass(frozen=True)
class _Layout:
    """Where the plot area lies inside the SVG's view box."""

    width: int
    height: int
    left: float = 76.0
    right: float = 16.0
    top: float = 16.0
    bottom: float = 64.0
    legend_rows: int = 0
    ticks: list[float] = field(default_factory=list)

    @property
    def plot_left(self) -> float:
        return self.left

    @property
    def plot_right(self) -> float:
        return self.width - self.right

    @property
    def plot_top(self) -> float:
        return self.top

    @property
    def plot_bottom(self) -> float:
        return self.height - self.bottom - 22.0 * self.legend_rows

    @property
    def plot_width(self) -> float:
        return self.plot_right - self.plot_left

    @property
    def plot_height(self) -> float:
        return self.plot_bottom - self.plot_top


# -- numbers ------------------------------------------------------------------------------------------------------


def format_number(value: Value, decimals: int | None = None) -> str:
    """1234567 -> '1 234 567', 2.5 -> '2,5' (non-breaking space between thousands, decimal comma); None -> '–'."""
    if value is None:
        return "–"
    if isinstance(value, float) and not math.isfinite(value):
        return "–"
    if decimals is None:
        if isinstance(value, int) or float(value).is_integer():
            return number(int(value)).replace("-", "\u2212")
        decimals = 2
        text = f"{value:,.{decimals}f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u00a0").replace(".", ",").replace("-", "\u2212")


def _formatter(unit: str, value_format: Formatter | None) -> Formatter:
    """The function that writes a value in this chart (with its unit)."""
    if value_format is not None:
        return value_format
    suffix = f"\u00a0{unit}" if unit else ""
    return lambda v: format_number(v) + suffix


def nice_ticks(lo: float, hi: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """Evenly spaced round tick values from <= lo to >= hi (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi == lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    start = math.floor(lo / step) * step
    end = math.ceil(hi / step) * step
    n = round((end - start) / step)
    return [round(start + i * step, 10) for i in range(n + 1)]


# -- SVG pieces --------------------------------------------------------------------------------------------------


def _f(x: float) -> str:
    """A coordinate with at most two decimals."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _check_id(chart_id: str) -> str:
    if not _ID.match(chart_id):
        raise ValueError(f"chart_id must be a letter followed by letters, digits, '-' or '_': {chart_id!r}")
    return chart_id


def _check_series(categories: Sequence[str], series: Sequence[Series]) -> None:
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(categories)} categories")


def _values(series: Sequence[Series]) -> list[float]:
    return [float(v) for s in series for v in s.values if v is not None and math.isfinite(float(v))]


def _pattern_defs(chart_id: str, n: int) -> str:
    """One fill pattern per bar series (solid needs none)."""
    out = []
    for i in range(n):
        kind, colour = PATTERNS[i % len(PATTERNS)], PALETTE[i % len(PALETTE)]
        pid = f"{chart_id}-p{i}"
        if kind == "solid":
            continue
        body = {
            "diagonal": f'<path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4" stroke="{colour}" stroke-width="2"/>',
            "dots": f'<circle cx="4" cy="4" r="1.8" fill="{colour}"/>',
            "crosshatch": f'<path d="M0,0 L8,8 M8,0 L0,8" stroke="{colour}" stroke-width="1.5"/>',
            "horizontal": f'<path d="M0,4 H8" stroke="{colour}" stroke-width="2"/>',
            "vertical": f'<path d="M4,0 V8" stroke="{colour}" stroke-width="2"/>',
            "backdiagonal": f'<path d="M-2,6 l4,4 M0,0 l8,8 M6,-2 l4,4" stroke="{colour}" stroke-width="2"/>',
            "checks": f'<path d="M0,0 h4 v4 h-4 Z M4,4 h4 v4 h-4 Z" fill="{colour}"/>',
        }[kind]
        out.append(f'<pattern id="{pid}" width="8" height="8" patternUnits="userSpaceOnUse">'
                   f'<rect width="8" height="8" fill="#ffffff"/>{body}</pattern>')
    return f"<defs>{''.join(out)}</defs>" if out else ""


def _bar_fill(chart_id: str, i: int) -> str:
    return PALETTE[i % len(PALETTE)] if PATTERNS[i % len(PATTERNS)] == "solid" else f"url(#{chart_id}-p{i})"


def _marker(kind: str, x: float, y: float, colour: str, attrs: str = "", inner: str = "", cls: str = "chart__point") -> str:
    """A point marker of the given shape, centred on (x, y)."""
    common = f'class="{cls}" fill="{colour}" stroke="{colour}"{attrs}'
    if kind == "square":
        return f'<rect {common} x="{_f(x - 4)}" y="{_f(y - 4)}" width="8" height="8">{inner}</rect>'
    if kind == "triangle":
        return f'<path {common} d="M{_f(x)},{_f(y - 5)} L{_f(x + 5)},{_f(y + 4)} L{_f(x - 5)},{_f(y + 4)} Z">{inner}</path>'
    if kind == "diamond":
        return f'<path {common} d="M{_f(x)},{_f(y - 5.5)} L{_f(x + 5.5)},{_f(y)} L{_f(x)},{_f(y + 5.5)} L{_f(x - 5.5)},{_f(y)} Z">{inner}</path>'
    if kind == "cross":
        return (f'<path {common} stroke-width="2.5" fill="none" d="M{_f(x - 4.5)},{_f(y - 4.5)} L{_f(x + 4.5)},{_f(y + 4.5)} '
                f'M{_f(x + 4.5)},{_f(y - 4.5)} L{_f(x - 4.5)},{_f(y + 4.5)}">{inner}</path>')
    return f'<circle {common} cx="{_f(x)}" cy="{_f(y)}" r="4.5">{inner}</circle>'


def _text(x: float, y: float, text: str, *, anchor: str = "middle", cls: str = "chart__label", extra: str = "", size: int = 12) -> str:
    return (f'<text class="{cls}" x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-size="{size}" fill="#1a1f26"{extra}>'
            f"{escape(text)}</text>")


def _legend_rows(series: Sequence[Series], width: int) -> list[list[int]]:
    """Series indices per legend row (roughly 7 px per character plus the swatch)."""
    rows: list[list[int]] = [[]]
    used = 0.0
    for i, s in enumerate(series):
        w = 34 + 7 * len(s.name) + 18
        if rows[-1] and used + w > width - 24:
            rows.append([])
            used = 0.0
        rows[-1].append(i)
        used += w
    return rows if series else []


def _legend(chart_id: str, series: Sequence[Series], rows: list[list[int]], y0: float, kind: str) -> str:
    out = [f'<g class="chart__legend" id="{chart_id}-legend">']
    for r, row in enumerate(rows):
        x = 12.0
        y = y0 + 22 * r
        for i in row:
            colour = PALETTE[i % len(PALETTE)]
            if kind == "bar":
                out.append(f'<rect x="{_f(x)}" y="{_f(y - 10)}" width="24" height="14" fill="{_bar_fill(chart_id, i)}" stroke="{colour}" stroke-width="1.5"/>')
            else:
                dash = DASHES[i % len(DASHES)]
                dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
                out.append(f'<line x1="{_f(x)}" y1="{_f(y - 3)}" x2="{_f(x + 24)}" y2="{_f(y - 3)}" stroke="{colour}" stroke-width="2.5"{dash_attr}/>')
                out.append(_marker(MARKERS[i % len(MARKERS)], x + 12, y - 3, colour, cls="chart__legend-marker"))
            out.append(_text(x + 30, y + 1, series[i].name, anchor="start", cls="chart__legend-label"))
            x += 34 + 7 * len(series[i].name) + 18
    out.append("</g>")
    return "".join(out)


def _axes(lay: _Layout, lo: float, hi: float, fmt: Formatter, categories: Sequence[str], xs: Sequence[float],
          x_label: str, y_label: str) -> str:
    """Grid lines, tick labels, category labels and the two axis titles."""
    out = ['<g class="chart__axes">']
    for t in lay.ticks:
        y = _scale(t, lo, hi, lay)
        out.append(f'<line class="chart__grid" x1="{_f(lay.plot_left)}" y1="{_f(y)}" x2="{_f(lay.plot_right)}" y2="{_f(y)}" '
                   f'stroke="#cbd3dc" stroke-width="1"/>')
        out.append(_text(lay.plot_left - 6, y + 4, fmt(t), anchor="end", cls="chart__tick"))
    zero = _scale(0.0, lo, hi, lay)
    out.append(f'<line class="chart__axis" x1="{_f(lay.plot_left)}" y1="{_f(zero)}" x2="{_f(lay.plot_right)}" y2="{_f(zero)}" stroke="#1a1f26" stroke-width="1.5"/>')
    out.append(f'<line class="chart__axis" x1="{_f(lay.plot_left)}" y1="{_f(lay.plot_top)}" x2="{_f(lay.plot_left)}" y2="{_f(lay.plot_bottom)}" stroke="#1a1f26" stroke-width="1.5"/>')
    # Long labels wrap onto two lines; labels that would still overlap (CHAR_WIDTH px per character) are thinned out,
    # every k-th one shown (the data table and the description have them all).
    room = lay.plot_width / max(len(categories), 1)
    lines = [_wrap(c, max(1, int((room - 8) // CHAR_WIDTH))) for c in categories]
    widest = max((len(part) for parts in lines for part in parts), default=1)
    every = max(1, math.ceil((widest * CHAR_WIDTH + 8) / room)) if room else 1
    for n, (parts, x) in enumerate(zip(lines, xs, strict=True)):
        if n % every == 0:
            spans = "".join(f'<tspan x="{_f(x)}" dy="{0 if i == 0 else 14}">{escape(part)}</tspan>' for i, part in enumerate(parts))
            out.append(f'<text class="chart__category" x="{_f(x)}" y="{_f(lay.plot_bottom + 17)}" text-anchor="middle" font-size="12" '
                       f'fill="#1a1f26">{spans}</text>')
    two_lines = any(len(parts) > 1 for parts in lines)
    out.append(_text(lay.plot_left + lay.plot_width / 2, lay.plot_bottom + (50 if two_lines else 40), x_label, cls="chart__axis-label",
                     extra=' font-weight="bold"'))
    cy = lay.plot_top + lay.plot_height / 2
    out.append(_text(16, cy, y_label, cls="chart__axis-label", extra=f' font-weight="bold" transform="rotate(-90 16 {_f(cy)})"'))
    out.append("</g>")
    return "".join(out)


def _wrap(label: str, width: int) -> list[str]:
    """A label on one line, or on two split at a space when it is wider than `width` characters."""
    if len(label) <= width or " " not in label:
        return [label]
    spaces = [i for i, ch in enumerate(label) if ch == " "]
    cut = min(spaces, key=lambda i: max(i, len(label) - i - 1))  # the most even split
    return [label[:cut], label[cut + 1:]]


def _scale(v: float, lo: float, hi: float, lay: _Layout) -> float:
    """The y coordinate of a value."""
    return lay.plot_bottom - (v - lo) / (hi - lo) * lay.plot_height


def _description(description: str | None, categories: Sequence[str], series: Sequence[Series], fmt: Formatter) -> str:
    """The caller's description, followed by each series' values in words (what a screen reader user hears)."""
    if not _values(series) or not categories:
        return f"{description} {EMPTY_TEXT}." if description else f"{EMPTY_TEXT}."
    parts = []
    for s in series:
        shown = [f"{c}: {fmt(float(v))}" for c, v in zip(categories, s.values, strict=True) if v is not None]
        parts.append(f"{s.name} – {', '.join(shown) if shown else 'inga värden'}.")
    return " ".join([*([description] if description else []), *parts])


def _open(chart_id: str, kind: str, width: int, height: int, title: str, desc: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart--{kind}" id="{chart_id}" role="img" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, Liberation Sans, sans-serif">'
            f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(desc)}</desc>')


def _empty(chart_id: str, kind: str, width: int, height: int, title: str, desc: str) -> Markup:
    return Markup(_open(chart_id, kind, width, height, title, desc)
                  + f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#ffffff" stroke="#cbd3dc"/>'
                  + _text(width / 2, height / 2, EMPTY_TEXT, cls="chart__empty", size=14)
                  + "</svg>")


def _prepare(chart_id: str, categories: Sequence[str], series: Sequence[Series], width: int, height: int,
             unit: str, value_format: Formatter | None, integer: bool | None) -> tuple[_Layout, float, float, Formatter]:
    values = _values(series)
    whole = all(float(v).is_integer() for v in values) if integer is None else integer
    ticks = nice_ticks(min(values, default=0.0), max(values, default=0.0), integer=whole)
    fmt = _formatter(unit, value_format)
    # Room for the widest tick label on the left (about 7 px per character).
    left = max(56.0, 30.0 + 7 * max(len(fmt(t)) for t in ticks))
    lay = _Layout(width=width, height=height, left=left, legend_rows=len(_legend_rows(series, width)), ticks=ticks)
    return lay, ticks[0], ticks[-1], fmt


# -- charts ------------------------------------------------------------------------------------------------------


def line_chart(*, chart_id: str, title: str, categories: Sequence[str], series: Sequence[Series], x_label: str, y_label: str,
               description: str | None = None, unit: str = "", value_format: Formatter | None = None,
               integer: bool | None = None, width: int = 640, height: int = 320) -> Markup:
    """An SVG line chart: one line per series across the categories (dash pattern + marker shape tell them apart)."""
    _check_id(chart_id)
    _check_series(categories, series)
    desc = _description(description, categories, series, _formatter(unit, value_format))
    if not categories or not _values(series):
        return _empty(chart_id, "line", width, height, title, desc)
    lay, lo, hi, fmt = _prepare(chart_id, categories, series, width, height, unit, value_format, integer)
    step = lay.plot_width / len(categories)
    xs = [lay.plot_left + step * (n + 0.5) for n in range(len(categories))]
    out = [_open(chart_id, "line", width, height, title, desc), _axes(lay, lo, hi, fmt, categories, xs, x_label, y_label)]
    for i, s in enumerate(series):
        colour, dash, marker = PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)], MARKERS[i % len(MARKERS)]
        out.append(f'<g class="chart__series" data-series="{escape(s.name)}">')
        # A missing value breaks the line into separate runs.
        runs: list[list[tuple[float, float]]] = [[]]
        for x, v in zip(xs, s.values, strict=True):
            if v is None:
                runs.append([])
            else:
                runs[-1].append((x, _scale(float(v), lo, hi, lay)))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{_f(x)},{_f(y)}" for x, y in run)
                out.append(f'<polyline class="chart__line" points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}/>')
        for c, x, v in zip(categories, xs, s.values, strict=True):
            if v is not None:
                tip = f"<title>{escape(s.name)}, {escape(c)}: {escape(fmt(float(v)))}</title>"
                out.append(_marker(marker, x, _scale(float(v), lo, hi, lay), colour, f' data-value="{escape(repr(v))}"', tip))
        out.append("</g>")
    out.append(_legend(chart_id, series, _legend_rows(series, width), lay.plot_bottom + 64, "line"))
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(*, chart_id: str, title: str, categories: Sequence[str], series: Sequence[Series], x_label: str, y_label: str,
              description: str | None = None, unit: str = "", value_format: Formatter | None = None,
              integer: bool | None = None, width: int = 640, height: int = 320) -> Markup:
    """An SVG bar chart: per category one bar per series, side by side (fill pattern tells series apart)."""
    _check_id(chart_id)
    _check_series(categories, series)
    desc = _description(description, categories, series, _formatter(unit, value_format))
    if not categories or not _values(series):
        return _empty(chart_id, "bar", width, height, title, desc)
    lay, lo, hi, fmt = _prepare(chart_id, categories, series, width, height, unit, value_format, integer)
    band = lay.plot_width / len(categories)
    inner = band * 0.8
    bar_w = inner / max(len(series), 1)
    xs = [lay.plot_left + band * (n + 0.5) for n in range(len(categories))]
    out = [_open(chart_id, "bar", width, height, title, desc), _pattern_defs(chart_id, len(series)),
           _axes(lay, lo, hi, fmt, categories, xs, x_label, y_label)]
    zero = _scale(0.0, lo, hi, lay)
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        out.append(f'<g class="chart__series" data-series="{escape(s.name)}">')
        for n, (c, v) in enumerate(zip(categories, s.values, strict=True)):
            if v is None:
                continue
            y = _scale(float(v), lo, hi, lay)
            x = lay.plot_left + band * n + (band - inner) / 2 + bar_w * i
            top, h = min(y, zero), abs(zero - y)
            out.append(f'<rect class="chart__bar" x="{_f(x + 1)}" y="{_f(top)}" width="{_f(max(bar_w - 2, 1))}" height="{_f(h)}" '
                       f'fill="{_bar_fill(chart_id, i)}" stroke="{colour}" stroke-width="1.5" data-value="{escape(repr(v))}">'
                       f"<title>{escape(s.name)}, {escape(c)}: {escape(fmt(float(v)))}</title></rect>")
        out.append("</g>")
    out.append(_legend(chart_id, series, _legend_rows(series, width), lay.plot_bottom + 64, "bar"))
    out.append("</svg>")
    return Markup("".join(out))


# -- the table fallback ------------------------------------------------------------------------------------------


def data_table(*, caption: str, categories: Sequence[str], series: Sequence[Series], category_label: str,
               unit: str = "", value_format: Formatter | None = None, table_id: str | None = None) -> Markup:
    """The chart's data as an HTML table: a row per category, a column per series (numbers right-aligned)."""
    _check_series(categories, series)
    fmt = _formatter(unit, value_format)
    id_attr = f' id="{_check_id(table_id)}"' if table_id else ""
    head = "".join(f'<th scope="col" class="num">{escape(s.name)}</th>' for s in series)
    # A region that can take focus: a wide table scrolls inside it by keyboard too (WCAG 2.1.1).
    out = [f'<div class="table-wrap" role="region" aria-label="Tabell: {escape(caption)}" tabindex="0">'
           f'<table class="table chart-table"{id_attr}><caption>{escape(caption)}</caption>'
           f'<thead><tr><th scope="col">{escape(category_label)}</th>{head}</tr></thead><tbody>']
    if not categories:
        out.append(f'<tr><td colspan="{len(series) + 1}">{EMPTY_TEXT}</td></tr>')
    for n, c in enumerate(categories):
        cells = "".join(f'<td class="num">{escape(fmt(float(s.values[n])) if s.values[n] is not None else "–")}</td>' for s in series)
        out.append(f'<tr><th scope="row">{escape(c)}</th>{cells}</tr>')
    out.append("</tbody></table></div>")
    return Markup("".join(out))


def chart_figure(chart: Markup, table: Markup, *, caption: str | None = None, show_table: bool = False) -> Markup:
    """A chart and its data table in one figure; the table folded in a <details> unless show_table."""
    cap = f'<figcaption class="chart-figure__caption">{escape(caption)}</figcaption>' if caption else ""
    fallback = table if show_table else Markup(f'<details class="details chart-figure__data"><summary>Visa uppgifterna som tabell</summary><div>{table}</div></details>')
    return Markup(f'<figure class="chart-figure">{cap}<div class="chart-figure__chart">{chart}</div>{fallback}</figure>')
