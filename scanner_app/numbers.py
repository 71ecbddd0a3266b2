"""The one test of "is this a usable number" that every layer shares."""

from __future__ import annotations

import math
from typing import Any


def finite_number(value: Any) -> float | None:
    """``value`` when it is a finite int or float (a bool is not a number), else None.

    An int beyond the range of a float is not a usable number either.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return value if math.isfinite(value) else None
    except OverflowError:
        return None
