"""A model of the dashboard's results table as htmx changes it, for poll tests.

It reads the table's rows (``<tbody id="ticker-...">``) from a page and applies a poll's
out-of-band swaps the way htmx 2 does: ``delete`` and ``true`` (outerHTML) by id, and
``afterend:#id`` inserting the wrapper's children. The browser tests check the same thing
in a real Chromium.
"""

from __future__ import annotations

import re

_ROW = re.compile(
    r'<tbody class="ticker-group" id="([^"]+)"( hx-swap-oob="true")?>.*?</tbody>', re.S
)
_DELETE = re.compile(r'<tbody id="([^"]+)" hx-swap-oob="delete"></tbody>')
_INSERT = re.compile(r'<table hx-swap-oob="afterend:#([^"]+)">(.*?)</table>', re.S)
_RESULTS = re.compile(r'<section id="results".*?</section>', re.S)
_TEMPLATE = re.compile(r"<template>(.*?)</template>", re.S)
_SHOWN = re.compile(r'<input type="hidden" name="s" value="([^"]+)"')


def _clean(html: str) -> str:
    return re.sub(r"\s+", " ", html.replace(' hx-swap-oob="true"', "")).strip()


def rows_of(html: str) -> list[tuple[str, str]]:
    """The (id, normalized html) of every table row group in ``html``, in order."""
    section = _RESULTS.search(html)
    if section is None:
        return []
    return [(match.group(1), _clean(match.group(0))) for match in _ROW.finditer(section.group(0))]


def shown_symbols(rows: list[tuple[str, str]]) -> list[str]:
    """The symbols a table shows, as the browser sends them with a poll."""
    return [_SHOWN.search(html).group(1) for _id, html in rows]


def apply_poll(rows: list[tuple[str, str]], poll_html: str) -> list[tuple[str, str]]:
    """``rows`` after the out-of-band swaps of one poll's answer."""
    if _RESULTS.search(poll_html):
        return rows_of(poll_html)
    template = _TEMPLATE.search(poll_html)
    if template is None:
        return rows
    table = list(rows)
    ops = sorted(
        [(m.start(), "delete", m) for m in _DELETE.finditer(template.group(1))]
        + [(m.start(), "replace", m) for m in _ROW.finditer(template.group(1)) if m.group(2)]
        + [(m.start(), "insert", m) for m in _INSERT.finditer(template.group(1))],
        key=lambda op: op[0],
    )
    for _start, kind, match in ops:
        ids = [row_id for row_id, _html in table]
        if kind == "delete":
            table.pop(ids.index(match.group(1)))
        elif kind == "replace":
            table[ids.index(match.group(1))] = (match.group(1), _clean(match.group(0)))
        else:
            after, body = match.group(1), _ROW.search(match.group(2))
            place = 0 if after == "summary-head" else ids.index(after) + 1
            table.insert(place, (body.group(1), _clean(body.group(0))))
    return table
