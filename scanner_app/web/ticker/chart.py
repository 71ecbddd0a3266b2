"""A server-drawn SVG scatter chart of one ticker's puts: annualized return against |delta|.

One series per expiration (its own color and marker shape, named in the legend). With a
fair value, markers of strikes at or below it are filled and the others hollow. No script
and no style attribute, so it passes a strict Content-Security-Policy.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from ...numbers import finite_number
from ...screens.badges import GOOD, strike_badge
from ..display import expiration_label, money

SVG_NAMESPACE = "http://www.w3.org/2000/svg"

WIDTH = 720
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 64, WIDTH - 20, 16, 296
LEGEND_TOP = PLOT_BOTTOM + 56
LEGEND_ROW = 22
LEGEND_LEFT = 8
#: From an entry's left edge to its label: the marker and a little space.
LEGEND_LABEL_OFFSET = 18
#: The space between an entry's label and the next entry's marker.
LEGEND_GAP = 16
#: The chart's text size, in pixels (``font-size`` of the ``<svg>``).
FONT_SIZE = 13
#: An upper bound of a character's advance, as a share of the font size: the fonts of
#: ``system-ui, sans-serif`` average about 0.5 to 0.55 (DejaVu Sans, the widest common one,
#: about 0.6 for digits), so a label measured with it never runs into the next entry.
CHARACTER_WIDTH = 0.62
MARKER_RADIUS = 5.5

#: Okabe-Ito colors, distinguishable with the common color-vision deficiencies.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
SHAPES = ("circle", "square", "triangle", "diamond", "triangle-down", "hexagon")
GRID_COLOR = "#d9dde3"
AXIS_COLOR = "#4a5260"
#: The widest annualized return plotted, in %: a row beyond it holds garbage, not a quote.
MAX_PLOTTED_ANNUALIZED = 1e6
#: Narrower ranges than this are drawn as a single value (floats cannot split them).
MIN_SPAN = 1e-9
_PLOTTED = ("delta", "annualized", "strike")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values (steps of 1, 2, 2.5 or 5 x 10^n) covering low..high."""
    if not high - low >= MIN_SPAN:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    rough = (high - low) / count
    magnitude = 10.0 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= rough)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    return [round(i * step, 10) for i in range(first, last + 1)]


@dataclass(frozen=True)
class _Scale:
    """Maps a data interval onto a pixel interval."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        return round(self.start + share * (self.end - self.start), 2)


def _tick_label(value: float, suffix: str = "") -> str:
    return f"{value:g}{suffix}"


def _marker(shape: str, x: float, y: float, r: float) -> ET.Element:
    """An SVG element drawing ``shape`` centred on (x, y) with radius about ``r``."""
    if shape == "circle":
        return ET.Element("circle", cx=str(x), cy=str(y), r=str(r))
    corners = {
        "square": (45, 4, r * 1.05),
        "triangle": (-90, 3, r * 1.3),
        "diamond": (0, 4, r * 1.3),
        "triangle-down": (90, 3, r * 1.3),
        "hexagon": (0, 6, r * 1.1),
    }
    start, sides, radius = corners[shape]
    points = []
    for i in range(sides):
        angle = math.radians(start + 360 * i / sides)
        points.append(f"{x + radius * math.cos(angle):.2f},{y + radius * math.sin(angle):.2f}")
    return ET.Element("polygon", points=" ".join(points))


def _styled(element: ET.Element, color: str, filled: bool) -> ET.Element:
    element.set("fill", color if filled else "#ffffff")
    element.set("stroke", color)
    element.set("stroke-width", "2")
    return element


def _text(parent: ET.Element, x: float, y: float, content: str, **attributes: str) -> None:
    element = ET.SubElement(parent, "text", x=str(x), y=str(y), **attributes)
    element.text = content


def _usable(row: Any) -> bool:
    """Whether ``row`` can be placed: a |delta| up to 1, a plausible annualized, a strike."""
    if not isinstance(row, Mapping):
        return False
    delta, annualized, strike = (finite_number(row.get(key)) for key in _PLOTTED)
    return (
        delta is not None
        and abs(delta) <= 1
        and annualized is not None
        and abs(annualized) <= MAX_PLOTTED_ANNUALIZED
        and strike is not None
    )


def _series(rows: list[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """The rows grouped by expiration, earliest first."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in sorted(rows, key=lambda row: str(row.get("expiration"))):
        groups.setdefault(str(row.get("expiration")), []).append(row)
    return groups


def _line(
    parent: ET.Element, x1: float, x2: float, y1: float, y2: float, color: str = GRID_COLOR
) -> None:
    """A line from (x1, y1) to (x2, y2), a light grid line unless ``color`` says otherwise."""
    ET.SubElement(parent, "line", x1=str(x1), x2=str(x2), y1=str(y1), y2=str(y2), stroke=color)


def _axes(svg: ET.Element, x: _Scale, y: _Scale, x_ticks: list[float], y_ticks: list[float]):
    axes = ET.SubElement(svg, "g", {"class": "axes", "font-size": "12", "fill": AXIS_COLOR})
    for tick in y_ticks:
        position = y(tick)
        _line(axes, PLOT_LEFT, PLOT_RIGHT, position, position)
        _text(axes, PLOT_LEFT - 8, position + 4, _tick_label(tick, "%"), **{"text-anchor": "end"})
    for tick in x_ticks:
        position = x(tick)
        _line(axes, position, position, PLOT_TOP, PLOT_BOTTOM)
        _text(axes, position, PLOT_BOTTOM + 18, _tick_label(tick), **{"text-anchor": "middle"})
    _line(axes, PLOT_LEFT, PLOT_RIGHT, PLOT_BOTTOM, PLOT_BOTTOM, AXIS_COLOR)
    _line(axes, PLOT_LEFT, PLOT_LEFT, PLOT_TOP, PLOT_BOTTOM, AXIS_COLOR)
    middle_x = (PLOT_LEFT + PLOT_RIGHT) / 2
    _text(
        axes,
        middle_x,
        PLOT_BOTTOM + 40,
        "|delta| (lower: further out of the money)",
        **{"text-anchor": "middle"},
    )
    middle_y = (PLOT_TOP + PLOT_BOTTOM) / 2
    _text(
        axes,
        16,
        middle_y,
        "Annualized return",
        transform=f"rotate(-90 16 {middle_y})",
        **{"text-anchor": "middle"},
    )


@dataclass(frozen=True)
class _LegendEntry:
    shape: str
    color: str
    filled: bool
    label: str


def label_width(label: str) -> float:
    """An upper bound of the width ``label`` takes in the chart's font, in pixels."""
    return len(label) * FONT_SIZE * CHARACTER_WIDTH


def _legend_rows(sections: list[list[_LegendEntry]]) -> list[list[tuple[float, _LegendEntry]]]:
    """The legend's rows of (left edge, entry). Each section starts on a row of its own, in
    columns as wide as its widest entry, as many to a row as the chart's width holds."""
    rows: list[list[tuple[float, _LegendEntry]]] = []
    for entries in sections:
        if not entries:
            continue
        column = LEGEND_GAP + max(
            LEGEND_LABEL_OFFSET + label_width(entry.label) for entry in entries
        )
        per_row = max(1, min(len(entries), int((WIDTH - LEGEND_LEFT) // column)))
        for start in range(0, len(entries), per_row):
            row = entries[start : start + per_row]
            rows.append(
                [(round(LEGEND_LEFT + i * column, 2), entry) for i, entry in enumerate(row)]
            )
    return rows


def _legend(rows: list[list[tuple[float, _LegendEntry]]]) -> ET.Element:
    legend = ET.Element("g", {"class": "legend"})
    for number, row in enumerate(rows):
        top = LEGEND_TOP + number * LEGEND_ROW
        for left, item in row:
            entry = ET.SubElement(legend, "g", {"class": "legend-entry"})
            marker = _marker(item.shape, left + 6, top, MARKER_RADIUS)
            entry.append(_styled(marker, item.color, item.filled))
            _text(entry, left + LEGEND_LABEL_OFFSET, top + 4, item.label)
    return legend


def put_chart(symbol: str, rows: list[Mapping[str, Any]], fair_value: float | None) -> Markup:
    """The chart of ``symbol``'s ``rows`` as inline SVG markup; empty when no row can be drawn."""
    rows = [row for row in rows if _usable(row)]
    if not rows:
        return Markup("")
    series = _series(rows)
    x_ticks = nice_ticks(0.0, max(abs(row["delta"]) for row in rows))
    y_ticks = nice_ticks(min(r["annualized"] for r in rows), max(r["annualized"] for r in rows))
    x = _Scale(x_ticks[0], x_ticks[-1], PLOT_LEFT, PLOT_RIGHT)
    y = _Scale(y_ticks[0], y_ticks[-1], PLOT_BOTTOM, PLOT_TOP)
    legend_rows = _legend_rows(
        [
            [
                _LegendEntry(*_series_style(index), True, _series_label(expiration, members))
                for index, (expiration, members) in enumerate(series.items())
            ],
            _fair_value_entries(fair_value),
        ]
    )
    height = LEGEND_TOP + len(legend_rows) * LEGEND_ROW
    svg = accessible_svg(
        f"chart-{symbol}",
        "put-chart",
        height,
        f"{symbol}: annualized return against |delta| of {len(rows)} puts",
        _description(symbol, series, fair_value),
    )
    _axes(svg, x, y, x_ticks, y_ticks)
    for index, (expiration, members) in enumerate(series.items()):
        shape, color = _series_style(index)
        group = ET.SubElement(svg, "g", {"class": "series", "data-expiration": expiration})
        for row in members:
            filled = fair_value is None or strike_badge(row["strike"], fair_value) == GOOD
            point = _styled(
                _marker(shape, x(abs(row["delta"])), y(row["annualized"]), MARKER_RADIUS),
                color,
                filled,
            )
            point.set("class", "point filled" if filled else "point hollow")
            ET.SubElement(point, "title").text = _point_label(row)
            group.append(point)
    svg.append(_legend(legend_rows))
    return Markup(ET.tostring(svg, encoding="unicode"))


def _series_style(index: int) -> tuple[str, str]:
    """The marker shape and color of the ``index``-th series."""
    return SHAPES[index % len(SHAPES)], COLORS[index % len(COLORS)]


def _fair_value_entries(fair_value: float | None) -> list[_LegendEntry]:
    """The legend's entries saying what filled and hollow markers mean; none without a fair
    value (every marker is filled then)."""
    if fair_value is None:
        return []
    value = money(fair_value)
    return [
        _LegendEntry("circle", AXIS_COLOR, True, f"filled: strike ≤ fair value {value}"),
        _LegendEntry("circle", AXIS_COLOR, False, f"hollow: strike > fair value {value}"),
    ]


def _series_label(expiration: str, members: list[Mapping[str, Any]]) -> str:
    dte = members[0].get("dte")
    return f"{expiration_label(expiration)} ({dte} DTE)" if dte is not None else expiration


def _point_label(row: Mapping[str, Any]) -> str:
    return (
        f"Strike {money(row['strike'])}, expires {row.get('expiration')}: "
        f"{row['annualized']:.1f}% annualized, delta {row['delta']:.3f}"
    )


def _description(
    symbol: str, series: dict[str, list[Mapping[str, Any]]], fair_value: float | None
) -> str:
    expirations = ", ".join(
        f"{expiration_label(expiration)} ({len(members)} puts)"
        for expiration, members in series.items()
    )
    marking = (
        f"Filled markers: strike at or below the fair value of {money(fair_value)}; "
        "hollow markers: strike above it."
        if fair_value is not None
        else "No fair value is set, so every marker is filled."
    )
    return (
        f"Scatter chart of {symbol}'s qualifying puts: annualized return (vertical) "
        f"against |delta| (horizontal), one series per expiration: {expirations}. {marking}"
    )


def accessible_svg(
    element_id: str, css_class: str, height: float, title: str, desc: str
) -> ET.Element:
    """An ``<svg role="img">`` of the chart's width, named by its title and description."""
    title_id, desc_id = f"{element_id}-title", f"{element_id}-desc"
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NAMESPACE,
            "class": css_class,
            "viewBox": f"0 0 {WIDTH} {height}",
            "role": "img",
            "aria-labelledby": f"{title_id} {desc_id}",
            "font-family": "system-ui, sans-serif",
            "font-size": "13",
        },
    )
    ET.SubElement(svg, "title", id=title_id).text = title
    ET.SubElement(svg, "desc", id=desc_id).text = desc
    return svg
