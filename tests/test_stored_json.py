"""Stored JSON is read strictly: anything a browser's JSON.parse would refuse reads as None."""

from __future__ import annotations

import pytest

from scanner_app.stored_json import load_json


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"a": [1, 2.5, "x", null]}', {"a": [1, 2.5, "x", None]}),
        ('"text"', "text"),
        (b"1" + b"0" * 30, 10**30),
        (None, None),
    ],
)
def test_valid_json_reads_back(raw, expected):
    assert load_json(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"NaN",
        b'{"spot": Infinity}',
        b"[-Infinity]",
        b"[1e999]",
        b"[" * 100_000 + b"]" * 100_000,
        b"\x80\x81",
        b'{"a": 1',
        b"",
        b"1" + b"0" * 5000,  # more digits than Python converts
    ],
)
def test_what_is_not_strict_json_reads_as_none(raw):
    assert load_json(raw) is None
