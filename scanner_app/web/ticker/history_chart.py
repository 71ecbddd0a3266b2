"""A server-drawn SVG line chart of one ticker's stored year: IV30 and HV20 by day.

Two series (their own color and dash, named in the legend), dates along the bottom with a
tick per month. No script and no style attribute, so it passes a strict
Content-Security-Policy, like the put chart.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import date

from markupsafe import Markup

from ...db import StoredDay
from .chart import (
    AXIS_COLOR,
    COLORS,
    PLOT_BOTTOM,
    PLOT_LEFT,
    PLOT_RIGHT,
    PLOT_TOP,
    _line,
    _Scale,
    _text,
    accessible_svg,
    nice_ticks,
)

HEIGHT = PLOT_BOTTOM + 64
#: name, label, color, dash pattern ('' for solid)
SERIES = (
    ("iv30", "IV30 (30-day at-the-money implied volatility)", COLORS[0], ""),
    ("hv20", "HV20 (20-day historical volatility)", COLORS[1], "6 4"),
)
MAX_MONTH_TICKS = 13


def _months(first: date, last: date) -> list[date]:
    """The first day of each month after ``first`` up to ``last``, thinned to fit."""
    months = []
    day = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    while day <= last:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    step = max(1, -(-len(months) // MAX_MONTH_TICKS))
    return months[::step]


def history_chart(symbol: str, days: Sequence[StoredDay]) -> Markup:
    """IV30 and HV20 of ``days`` (oldest first) as inline SVG; empty with fewer than two
    days that have either."""
    drawn = [day for day in days if day.iv30 is not None or day.hv20 is not None]
    if len(drawn) < 2:
        return Markup("")
    values = [value * 100 for day in drawn for value in (day.iv30, day.hv20) if value is not None]
    y_ticks = nice_ticks(min(0.0, min(values)), max(values))
    first, last = drawn[0].day, drawn[-1].day
    x = _Scale(
        first.toordinal(), max(last.toordinal(), first.toordinal() + 1), PLOT_LEFT, PLOT_RIGHT
    )
    y = _Scale(y_ticks[0], y_ticks[-1], PLOT_BOTTOM, PLOT_TOP)
    svg = accessible_svg(
        f"history-{symbol}",
        "history-chart",
        HEIGHT,
        f"{symbol}: IV30 and HV20 by day",
        f"Line chart of {symbol}'s stored IV30 and HV20, in percent, from {first.isoformat()} "
        f"to {last.isoformat()} ({len(drawn)} days).",
    )
    axes = ET.SubElement(svg, "g", {"class": "axes", "font-size": "12", "fill": AXIS_COLOR})
    for tick in y_ticks:
        _line(axes, PLOT_LEFT, PLOT_RIGHT, y(tick), y(tick))
        _text(axes, PLOT_LEFT - 8, y(tick) + 4, f"{tick:g}%", **{"text-anchor": "end"})
    for month in _months(first, last):
        position = x(month.toordinal())
        _line(axes, position, position, PLOT_TOP, PLOT_BOTTOM)
        _text(axes, position, PLOT_BOTTOM + 18, f"{month:%b %y}", **{"text-anchor": "middle"})
    _line(axes, PLOT_LEFT, PLOT_RIGHT, PLOT_BOTTOM, PLOT_BOTTOM, AXIS_COLOR)
    _line(axes, PLOT_LEFT, PLOT_LEFT, PLOT_TOP, PLOT_BOTTOM, AXIS_COLOR)
    legend = ET.SubElement(svg, "g", {"class": "legend"})
    for index, (name, label, color, dash) in enumerate(SERIES):
        points = [
            f"{x(day.day.toordinal())},{y(getattr(day, name) * 100)}"
            for day in drawn
            if getattr(day, name) is not None
        ]
        attributes = {"class": f"line {name}", "fill": "none", "stroke": color}
        attributes["stroke-width"] = "2"
        if dash:
            attributes["stroke-dasharray"] = dash
        if points:
            ET.SubElement(svg, "polyline", points=" ".join(points), **attributes)
        left = 8 + index * 340
        _line(legend, left, left + 24, PLOT_BOTTOM + 44, PLOT_BOTTOM + 44, color)
        _text(legend, left + 30, PLOT_BOTTOM + 48, label)
    return Markup(ET.tostring(svg, encoding="unicode"))
