"""The one test of a usable number."""

from __future__ import annotations

import pytest

from scanner_app.numbers import finite_number


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.5, 1.5),
        (-3, -3),
        (10**400, None),
        (float("inf"), None),
        (float("nan"), None),
        (True, None),
    ],
)
def test_finite_number_refuses_what_no_float_can_hold(value, expected):
    assert finite_number(value) == expected
