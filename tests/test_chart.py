"""The server-drawn SVG chart: well-formed, accessible, one series per expiration, fair value."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from scanner_app.web.ticker.chart import COLORS, SHAPES, nice_ticks, put_chart

NS = {"svg": "http://www.w3.org/2000/svg"}


def _row(expiration: str, strike: float, annualized: float, delta: float, dte: int = 9) -> dict:
    return {
        "expiration": expiration,
        "strike": strike,
        "annualized": annualized,
        "delta": delta,
        "dte": dte,
    }


ROWS = [
    _row("2026-11-20", 95.0, 62.0, -0.19, dte=2),
    _row("2026-11-20", 90.0, 41.0, -0.08, dte=2),
    _row("2026-11-27", 95.0, 48.0, -0.17),
    _row("2026-11-27", 92.5, 39.0, -0.11),
    _row("2026-11-27", 90.0, 33.0, -0.06),
    _row("2026-12-04", 85.0, 31.0, -0.04, dte=16),
]


def _parse(rows=ROWS, fair_value=None, symbol="ABC") -> ET.Element:
    return ET.fromstring(str(put_chart(symbol, rows, fair_value)))


def _points(svg: ET.Element) -> list[ET.Element]:
    return [
        element
        for group in svg.findall("svg:g[@class='series']", NS)
        for element in group
        if "point" in element.get("class", "").split()
    ]


def test_the_svg_is_well_formed_and_accessible():
    svg = _parse()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.get("role") == "img"
    title = svg.find("svg:title", NS)
    desc = svg.find("svg:desc", NS)
    assert title is not None and "ABC" in title.text
    assert desc is not None and "one series per expiration" in desc.text
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_there_is_one_series_per_expiration_in_date_order():
    groups = _parse().findall("svg:g[@class='series']", NS)
    assert [g.get("data-expiration") for g in groups] == ["2026-11-20", "2026-11-27", "2026-12-04"]


def test_every_row_is_one_point_in_its_series():
    svg = _parse()
    assert len(_points(svg)) == len(ROWS)
    counts = [
        len([e for e in group if "point" in e.get("class", "")])
        for group in svg.findall("svg:g[@class='series']", NS)
    ]
    assert counts == [2, 3, 1]


def test_series_differ_in_color_and_marker_shape():
    groups = _parse().findall("svg:g[@class='series']", NS)
    styles = [
        (group[0].tag, group[0].get("stroke"), len(group[0].get("points", ""))) for group in groups
    ]
    assert len({(tag, stroke) for tag, stroke, _ in styles}) == len(groups)
    assert {stroke for _, stroke, _ in styles} <= set(COLORS)
    assert len(COLORS) > 1 and len(SHAPES) > 1


def test_points_at_or_below_the_fair_value_are_filled_and_the_others_hollow():
    svg = _parse(fair_value=92.5)
    points = _points(svg)
    filled = [p for p in points if "filled" in p.get("class")]
    hollow = [p for p in points if "hollow" in p.get("class")]
    assert len(filled) == sum(1 for row in ROWS if row["strike"] <= 92.5) == 4
    assert len(hollow) == 2
    for point in filled:
        assert point.get("fill") == point.get("stroke")
    for point in hollow:
        assert point.get("fill") == "#ffffff" != point.get("stroke")


def test_each_point_says_what_it_is_in_its_tooltip():
    titles = [p.find("svg:title", NS).text for p in _points(_parse())]
    assert any("Strike $92.50" in t and "39.0% annualized" in t for t in titles)


def test_the_legend_names_each_expiration_and_the_fair_value_marking():
    legend = _parse(fair_value=92.5).find("svg:g[@class='legend']", NS)
    labels = [entry.find("svg:text", NS).text for entry in legend]
    assert len(labels) == 3 + 2
    assert "Fri Nov 20, 2026 (2 DTE)" in labels
    assert "filled: strike ≤ fair value $92.50" in labels
    assert "hollow: strike > fair value $92.50" in labels


def test_without_a_fair_value_every_point_is_filled_and_the_legend_says_nothing_of_it():
    svg = _parse(fair_value=None)
    assert all("filled" in p.get("class") for p in _points(svg))
    legend = svg.find("svg:g[@class='legend']", NS)
    assert len(legend) == 3
    assert "No fair value" in svg.find("svg:desc", NS).text


#: A generous advance per character at the chart's 13 px: wider than DejaVu Sans's average
#: (the widest of the usual sans-serif fonts), so a real label is never longer than this says.
TEXT_ADVANCE = 13 * 0.6
TEXT_HALF_HEIGHT = 8


def _legend_boxes(svg: ET.Element) -> list[tuple[str, float, float, float, float]]:
    """Each legend entry's label and bounding box (left, right, top, bottom): its marker
    and its label, at ``TEXT_ADVANCE`` per character."""
    boxes = []
    for entry in svg.find("svg:g[@class='legend']", NS):
        marker, text = entry[0], entry.find("svg:text", NS)
        x, y = _center(marker)
        left = x - 8
        right = float(text.get("x")) + len(text.text) * TEXT_ADVANCE
        top = min(y - 8, float(text.get("y")) - TEXT_HALF_HEIGHT * 1.5)
        bottom = max(y + 8, float(text.get("y")) + TEXT_HALF_HEIGHT / 2)
        boxes.append((text.text, left, right, top, bottom))
    return boxes


def _overlap(a, b) -> bool:
    _, a_left, a_right, a_top, a_bottom = a
    _, b_left, b_right, b_top, b_bottom = b
    return a_left < b_right and b_left < a_right and a_top < b_bottom and b_top < a_bottom


WEEKLY = [f"2026-{month}-{day:02d}" for month in (11, 12) for day in (6, 13, 20, 27)]


@pytest.mark.parametrize(
    ("rows", "fair_value"),
    [
        (ROWS, 128.72),  # the drilldown whose "filled" label ran into the "hollow" marker
        (ROWS, 12345.67),
        (ROWS, None),
        ([_row(day, 95.0, 40.0, -0.1, dte=100 + i) for i, day in enumerate(WEEKLY)], 1234.5),
        ([{**_row(day, 95.0, 40.0, -0.1), "dte": None} for day in WEEKLY[:3]], 92.5),
    ],
    ids=["fair-value", "large-fair-value", "no-fair-value", "eight-expirations", "no-dte"],
)
def test_legend_entries_neither_overlap_nor_leave_the_chart(rows, fair_value):
    svg = _parse(rows=rows, fair_value=fair_value)
    width, height = map(float, svg.get("viewBox").split()[2:])
    boxes = _legend_boxes(svg)
    assert len(boxes) == len({row["expiration"] for row in rows}) + (fair_value is not None) * 2
    for index, box in enumerate(boxes):
        label, left, right, top, bottom = box
        assert 0 <= left and right <= width, f"{label!r} leaves the chart: {left}..{right}"
        assert bottom <= height, f"{label!r} is below the chart: {bottom} > {height}"
        for other in boxes[index + 1 :]:
            assert not _overlap(box, other), f"{label!r} overlaps {other[0]!r}"


def test_the_fair_value_marking_gets_a_legend_row_of_its_own():
    rows_of = {}
    for entry in _parse(fair_value=128.72).find("svg:g[@class='legend']", NS):
        text = entry.find("svg:text", NS)
        rows_of[text.text] = float(text.get("y"))
    filled, hollow = (
        rows_of.pop("filled: strike ≤ fair value $128.72"),
        rows_of.pop("hollow: strike > fair value $128.72"),
    )
    assert filled == hollow > max(rows_of.values())


def _center(marker: ET.Element) -> tuple[float, float]:
    """The centre of a circle or of a regular polygon marker."""
    if marker.get("cx") is not None:
        return float(marker.get("cx")), float(marker.get("cy"))
    corners = [tuple(map(float, pair.split(","))) for pair in marker.get("points").split()]
    return (
        sum(x for x, _ in corners) / len(corners),
        sum(y for _, y in corners) / len(corners),
    )


def test_points_lie_inside_the_plot_where_their_values_say():
    svg = _parse()
    width, height = map(float, svg.get("viewBox").split()[2:])
    by_title = {p.find("svg:title", NS).text: _center(p) for p in _points(svg)}
    centers = list(by_title.values())
    assert all(0 < x < width and 0 < y < height for x, y in centers)
    top = next(c for t, c in by_title.items() if "62.0% annualized" in t)  # |delta| 0.19
    bottom = next(c for t, c in by_title.items() if "31.0% annualized" in t)  # |delta| 0.04
    assert top[1] < bottom[1]  # SVG y grows downwards: the higher return is drawn higher
    assert top[0] > bottom[0]  # the larger |delta| further right


def test_no_drawable_row_gives_no_chart():
    assert str(put_chart("ABC", [], 10.0)) == ""
    assert str(put_chart("ABC", [{"strike": 1.0, "delta": None, "annualized": 3.0}], None)) == ""


def test_text_in_the_chart_is_escaped():
    svg = _parse(symbol="A<B&C")
    assert "A<B&C" in svg.find("svg:title", NS).text


def test_a_single_point_still_gets_a_usable_axis():
    svg = _parse(rows=[_row("2026-11-20", 95.0, 50.0, -0.1)])
    assert len(_points(svg)) == 1


@pytest.mark.parametrize(
    "absurd",
    [
        {"delta": -1.7976931348623157e308},
        {"delta": 1.5},
        {"annualized": 1.7976931348623157e308},
        {"annualized": -1e7},
        {"strike": 10**400},
    ],
)
def test_a_row_with_absurd_values_is_left_out_of_the_chart(absurd):
    svg = _parse(rows=[*ROWS, {**_row("2026-12-04", 80.0, 30.0, -0.03), **absurd}])
    assert len(_points(svg)) == len(ROWS)
    axes = ET.tostring(svg.find("svg:g[@class='axes']", NS))
    assert axes == ET.tostring(_parse(rows=ROWS).find("svg:g[@class='axes']", NS))


def test_values_too_close_to_tell_apart_still_get_an_axis():
    ticks = nice_ticks(0.0, 5e-324)
    assert len(ticks) >= 2 and ticks[0] < ticks[-1]
    assert len(_points(_parse(rows=[_row("2026-11-20", 95.0, 5e-324, -5e-324)]))) == 1


@pytest.mark.parametrize(
    ("low", "high"), [(0, 0.187), (31.2, 88.7), (5, 5), (0, 1234), (0.001, 0.0013)]
)
def test_nice_ticks_cover_the_range_with_round_even_steps(low, high):
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1
    step = steps.pop()
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 6) in (1, 2, 2.5, 5)
    assert 2 <= len(ticks) <= 12
