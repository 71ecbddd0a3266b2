"""Reading back JSON that anyone with access to Redis may have written: strict JSON or nothing."""

from __future__ import annotations

import json
import math
from typing import Any


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is beyond a float")
    return value


def load_json(raw: bytes | str | None) -> Any:
    """The JSON value in ``raw``; None for a missing value or one that is not strict JSON.

    NaN, Infinity and numbers beyond a float (``1e999``) are refused, as a browser's
    ``JSON.parse`` refuses them, and so is nesting too deep to parse.
    """
    if raw is None:
        return None
    try:
        return json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
