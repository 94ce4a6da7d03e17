"""The SVG charts: well-formed XML, labelled for assistive technology, values scaled right, empty data handled."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import lxml.html
import pytest

from service.charts import EMPTY_TEXT, Series, bar_chart, chart_figure, data_table, format_number, line_chart, nice_ticks

NS = {"svg": "http://www.w3.org/2000/svg"}
NBSP = "\u00a0"


def _svg(markup: str) -> ET.Element:
    root = ET.fromstring(str(markup))  # raises on anything that is not well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def _labelled(root: ET.Element) -> tuple[str, str]:
    """The texts the svg's aria-labelledby points at (title, desc), checking both ids exist inside it."""
    assert root.get("role") == "img"
    ids = root.get("aria-labelledby", "").split()
    assert len(ids) == 2
    by_id = {el.get("id"): el for el in root.iter() if el.get("id")}
    title, desc = by_id[ids[0]], by_id[ids[1]]
    assert title.tag.endswith("title") and desc.tag.endswith("desc")
    return title.text or "", desc.text or ""


def _bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "chart__bar"]


def _points(root: ET.Element) -> list[ET.Element]:
    return [p for p in root.iter() if p.get("class") == "chart__point"]


def _point_y(p: ET.Element) -> float:
    """The centre y of a marker (circle, square rect or path drawn around the centre)."""
    if p.get("cy"):
        return float(p.get("cy"))
    if p.get("height"):
        return float(p.get("y")) + float(p.get("height")) / 2
    raise AssertionError("unexpected marker")


def _axis_y(root: ET.Element) -> float:
    """y of the horizontal zero line."""
    lines = [ln for ln in root.iter("{http://www.w3.org/2000/svg}line") if ln.get("class") == "chart__axis" and ln.get("y1") == ln.get("y2")]
    assert len(lines) == 1
    return float(lines[0].get("y1"))


def test_format_number_is_swedish() -> None:
    assert format_number(1234567) == f"1{NBSP}234{NBSP}567"
    assert format_number(1000.0) == f"1{NBSP}000"
    assert format_number(2.5) == "2,5"
    assert format_number(12345.678, 1) == f"12{NBSP}345,7"
    assert format_number(-1500) == f"\u22121{NBSP}500"
    assert format_number(None) == "–"


def test_nice_ticks_cover_the_range_in_round_steps() -> None:
    assert nice_ticks(0, 1_250_000) == [0, 250_000, 500_000, 750_000, 1_000_000, 1_250_000]
    assert nice_ticks(0, 7) == [0, 2, 4, 6, 8]
    assert nice_ticks(0, 2, integer=True) == [0, 1, 2]
    assert nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ticks = nice_ticks(-30, 95)
    assert ticks[0] <= -30 and ticks[-1] >= 95 and 0 in ticks


def test_bar_chart_is_labelled_xml_with_scaled_bars() -> None:
    svg = bar_chart(chart_id="fin", title="Beviljat och utbetalt", description="Kronor per år.", categories=["2025", "2026"],
                    series=[Series("Beviljat", [400_000, 1_000_000]), Series("Utbetalt", [200_000, None])],
                    x_label="År", y_label="Kronor", unit="kr")
    root = _svg(svg)
    title, desc = _labelled(root)
    assert title == "Beviljat och utbetalt"
    assert desc.startswith("Kronor per år.")
    assert f"2026: 1{NBSP}000{NBSP}000{NBSP}kr" in desc and "Utbetalt – 2025: 200" in desc
    bars = _bars(root)
    assert [float(b.get("data-value")) for b in bars] == [400_000, 1_000_000, 200_000]  # None draws no bar
    heights = [float(b.get("height")) for b in bars]
    assert heights[1] / heights[0] == pytest.approx(2.5, rel=1e-3)
    assert heights[0] / heights[2] == pytest.approx(2.0, rel=1e-3)
    zero = _axis_y(root)
    assert all(float(b.get("y")) + float(b.get("height")) == pytest.approx(zero, abs=0.01) for b in bars)
    # The series differ by fill pattern, not colour alone; each has a legend entry.
    fills = {b.get("fill") for b in bars}
    assert len(fills) == 2 and any(f.startswith("url(#fin-") for f in fills)
    legend = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "chart__legend-label"]
    assert legend == ["Beviljat", "Utbetalt"]
    ticks = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "chart__tick"]
    assert f"1{NBSP}000{NBSP}000{NBSP}kr" in ticks and f"0{NBSP}kr" in ticks


def test_line_chart_points_are_linear_in_value_and_gaps_break_the_line() -> None:
    svg = line_chart(chart_id="ind", title="Deltagare", categories=["2024", "2025", "2026", "2027"],
                     series=[Series("Målvärde", [100, 120, 140, 160]), Series("Utfall", [90, None, 150, 155])],
                     x_label="Period", y_label="Antal")
    root = _svg(svg)
    _labelled(root)
    points = _points(root)
    assert [float(p.get("data-value")) for p in points] == [100, 120, 140, 160, 90, 150, 155]
    zero = _axis_y(root)
    # y distance from the zero line is proportional to the value.
    per_unit = [(zero - _point_y(p)) / float(p.get("data-value")) for p in points]
    assert max(per_unit) == pytest.approx(min(per_unit), rel=1e-3)
    lines = [p for p in root.iter("{http://www.w3.org/2000/svg}polyline")]
    assert len(lines) == 2  # target: one run of 4; outcome: 90 stands alone, then a run of 2
    assert [len(ln.get("points").split()) for ln in lines] == [4, 2]
    assert lines[0].get("stroke-dasharray") != lines[1].get("stroke-dasharray")
    assert points[0].tag != points[4].tag or points[0].get("d") != points[4].get("d")  # different marker shapes


@pytest.mark.parametrize("chart", [line_chart, bar_chart])
@pytest.mark.parametrize("categories,values", [([], []), (["2025", "2026"], [None, None])])
def test_empty_data_draws_a_labelled_empty_chart(chart, categories, values) -> None:  # noqa: ANN001
    root = _svg(chart(chart_id="tom", title="Inga ärenden", categories=categories, series=[Series("A", values)] if categories else [],
                      x_label="År", y_label="Antal"))
    title, desc = _labelled(root)
    assert title == "Inga ärenden" and EMPTY_TEXT in desc
    assert EMPTY_TEXT in [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert not _bars(root) and not _points(root)


def test_text_is_escaped_and_no_style_attribute_is_written() -> None:
    evil = '<script>alert("x")</script> & co'
    for chart in (line_chart, bar_chart):
        svg = str(chart(chart_id="x1", title=evil, description=evil, categories=[evil, "b"], series=[Series(evil, [1, 2])],
                        x_label=evil, y_label=evil))
        root = _svg(svg)
        assert "<script" not in svg
        assert _labelled(root)[0] == evil
        assert all(el.get("style") is None for el in root.iter())
        assert not any(el.tag.endswith("script") or el.tag.endswith("foreignObject") for el in root.iter())


def test_ids_are_prefixed_so_two_charts_share_a_page() -> None:
    a = _svg(bar_chart(chart_id="a", title="A", categories=["x"], series=[Series("1", [1]), Series("2", [2])], x_label="", y_label=""))
    b = _svg(bar_chart(chart_id="b", title="B", categories=["x"], series=[Series("1", [1]), Series("2", [2])], x_label="", y_label=""))
    ids_a = {el.get("id") for el in a.iter() if el.get("id")}
    ids_b = {el.get("id") for el in b.iter() if el.get("id")}
    assert ids_a and ids_b and not ids_a & ids_b


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="2 values for 3 categories"):
        bar_chart(chart_id="c", title="t", categories=["a", "b", "c"], series=[Series("s", [1, 2])], x_label="", y_label="")
    with pytest.raises(ValueError, match="chart_id"):
        line_chart(chart_id='x" onload="alert(1)', title="t", categories=["a"], series=[Series("s", [1])], x_label="", y_label="")


def test_data_table_has_the_same_numbers() -> None:
    categories = ["2025", "2026"]
    series = [Series("Beviljat", [400_000, 1_250_000]), Series("Utbetalt", [200_000, None])]
    table = lxml.html.fragment_fromstring(str(data_table(caption="Finansiering", categories=categories, series=series,
                                                         category_label="År", unit="kr")))
    assert table.xpath("string(.//caption)") == "Finansiering"
    assert [th.text_content() for th in table.xpath(".//thead//th")] == ["År", "Beviljat", "Utbetalt"]
    rows = [[c.text_content() for c in tr.xpath("./th|./td")] for tr in table.xpath(".//tbody/tr")]
    assert rows == [["2025", f"400{NBSP}000{NBSP}kr", f"200{NBSP}000{NBSP}kr"], ["2026", f"1{NBSP}250{NBSP}000{NBSP}kr", "–"]]
    empty = lxml.html.fragment_fromstring(str(data_table(caption="Tom", categories=[], series=[Series("Beviljat", [])], category_label="År")))
    assert EMPTY_TEXT in empty.text_content()


def test_chart_figure_holds_chart_and_table() -> None:
    chart = bar_chart(chart_id="f", title="T", categories=["a"], series=[Series("s", [3])], x_label="", y_label="")
    table = data_table(caption="T", categories=["a"], series=[Series("s", [3])], category_label="K")
    folded = lxml.html.fragment_fromstring(str(chart_figure(chart, table, caption="Rubrik")))
    assert folded.tag == "figure" and folded.xpath("string(.//figcaption)") == "Rubrik"
    assert folded.xpath(".//details//table") and folded.xpath(".//*[local-name()='svg']")
    shown = lxml.html.fragment_fromstring(str(chart_figure(chart, table, show_table=True)))
    assert shown.xpath(".//table") and not shown.xpath(".//details")


def test_long_category_labels_wrap_onto_two_lines_instead_of_disappearing() -> None:
    cats = ["Behovsidentifiering till dialog", "Dialog till överenskommelse", "Överenskommelse till uppföljning",
            "Uppföljning till avslutat", "Alla granskningar"]
    root = _svg(bar_chart(chart_id="w", title="T", categories=cats, series=[Series("Median", [5, 4, 6, None, 5])], x_label="", y_label="",
                               width=760))
    labels = [t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "chart__category"]
    shown = [" ".join(span.text for span in t) for t in labels]
    assert shown == cats  # every one, each on at most two lines
    assert max(len(list(t)) for t in labels) == 2
    many = [f"Kategori nummer {n}" for n in range(40)]
    crowded = _svg(bar_chart(chart_id="m", title="T", categories=many, series=[Series("s", list(range(40)))], x_label="", y_label=""))
    assert 0 < len([t for t in crowded.iter() if t.get("class") == "chart__category"]) < 40  # thinned out, never overlapping
