"""The assumptions of a fair-value estimate, their defaults and their valid values.

Rates are percentages written as numbers (10 = 10 %). The same rules check the environment
(``EPS_GROWTH_RATE``...) and the watchlist (``eps_growth_rate``...).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

METHODS = ("eps", "fcf")


@dataclass(frozen=True)
class Rule:
    """The valid values of one assumption: a number from ``low`` to ``high`` (a whole one
    when ``whole``), or one of ``choices``."""

    default: float | int | str
    low: float = 0.0
    high: float = 0.0
    whole: bool = False
    choices: tuple[str, ...] = ()

    @property
    def expected(self) -> str:
        """What a valid value is, for error messages."""
        if self.choices:
            return f"one of {', '.join(self.choices)}"
        kind = "a whole number" if self.whole else "a number"
        return f"{kind} from {self.low:g} to {self.high:g}"

    def check(self, value: Any) -> float | int | str:
        """``value`` if valid (a text choice lower-cased), else ValueError saying what is."""
        if self.choices:
            if isinstance(value, str) and value.strip().lower() in self.choices:
                return value.strip().lower()
            raise ValueError(self.expected)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or not self.low <= value <= self.high:
            raise ValueError(self.expected)
        if self.whole:
            if value != int(value):
                raise ValueError(self.expected)
            return int(value)
        return float(value)

    def parse_text(self, raw: str) -> float | int | str:
        """``raw`` text (an environment variable) checked like a TOML value."""
        if self.choices:
            return self.check(raw)
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(self.expected) from None
        return self.check(value)


RULES: dict[str, Rule] = {
    "eps_growth_rate": Rule(10, -50, 100),
    "eps_multiple": Rule(20, 1, 200),
    "fcf_growth_rate": Rule(10, -50, 100),
    "fcf_multiple": Rule(20, 1, 200),
    "desired_return": Rule(15, 1, 100),
    "projection_years": Rule(5, 1, 30, whole=True),
    "preferred_method": Rule("eps", choices=METHODS),
}


@dataclass(frozen=True)
class Assumptions:
    """What a fair-value estimate assumes; the defaults are ``RULES``'."""

    eps_growth_rate: float = RULES["eps_growth_rate"].default
    eps_multiple: float = RULES["eps_multiple"].default
    fcf_growth_rate: float = RULES["fcf_growth_rate"].default
    fcf_multiple: float = RULES["fcf_multiple"].default
    desired_return: float = RULES["desired_return"].default
    projection_years: int = RULES["projection_years"].default
    preferred_method: str = RULES["preferred_method"].default

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Assumptions:
        """The global assumptions: the ``EPS_GROWTH_RATE``... settings."""
        return cls(**{field.name: settings[field.name.upper()] for field in fields(cls)})

    def overridden(self, overrides: Mapping[str, Any]) -> Assumptions:
        """These assumptions with a ticker's own (already checked) ones in their place."""
        return replace(self, **overrides)
