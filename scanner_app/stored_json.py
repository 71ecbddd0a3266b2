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


#: One decoder for every read (``json.loads`` with options builds one per call).
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def load_json(raw: bytes | str | None) -> Any:
    """The JSON value in ``raw`` (UTF-8 when bytes); None for a missing value or one that is
    not strict JSON.

    NaN, Infinity and numbers beyond a float (``1e999``) are refused, as a browser's
    ``JSON.parse`` refuses them, and so is nesting too deep to parse.
    """
    if raw is None:
        return None
    try:
        return _DECODER.decode(raw.decode() if isinstance(raw, bytes) else raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
