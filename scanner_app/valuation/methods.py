"""The two fair-value methods: discounted future earnings, or free cash flow, per share.

Each projects a per-share figure for ``projection_years`` at its growth rate, takes the
last year's figure times its multiple as the terminal value, and discounts every year and
the terminal value at ``desired_return``. A method whose figure is missing or not positive
is skipped with a reason; ``preferred_method`` picks the one shown, the other stands in
when it is skipped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..numbers import finite_number
from .assumptions import METHODS, Assumptions

LABELS = {"eps": "EPS", "fcf": "free cash flow per share"}
#: The inputs of an estimate besides its per-share figure (named by the method).
INPUT_NAMES = ("growth_rate", "multiple", "desired_return", "years")


@dataclass(frozen=True)
class Fundamentals:
    """A company's trailing figures: EPS, free cash flow (TTM) and shares outstanding."""

    eps: float | None = None
    free_cash_flow: float | None = None
    shares: float | None = None

    @property
    def fcf_per_share(self) -> float | None:
        """Free cash flow over shares outstanding, when both are known and shares > 0."""
        if self.free_cash_flow is None or not self.shares:
            return None
        return self.free_cash_flow / self.shares


@dataclass(frozen=True)
class Estimate:
    """A fair value (None when no method could run), the method and inputs behind it, and
    each skipped method's reason; ``reason`` says why there is none."""

    value: float | None
    method: str | None = None
    inputs: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The estimate as JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Estimate | None:
        """The estimate ``to_dict`` made, or None when ``data`` is not one (garbage)."""
        if not isinstance(data, dict):
            return None
        value, method, inputs = data.get("value"), data.get("method"), data.get("inputs")
        skipped, reason = data.get("skipped"), data.get("reason")
        if value is not None and (finite_number(value) is None or value <= 0):
            return None
        if (value is None) != (method is None) or method not in (None, *METHODS):
            return None
        if not _numbers(inputs) or not _texts(skipped):
            return None
        if method is not None and set(inputs) != {method, *INPUT_NAMES}:
            return None
        if reason is not None and not isinstance(reason, str):
            return None
        return cls(value, method, inputs, skipped, reason)


def _numbers(mapping: Any) -> bool:
    """Whether ``mapping`` is a dict of finite numbers."""
    return isinstance(mapping, dict) and all(finite_number(v) is not None for v in mapping.values())


def _texts(mapping: Any) -> bool:
    """Whether ``mapping`` is a dict of texts."""
    return isinstance(mapping, dict) and all(isinstance(v, str) for v in mapping.values())


def discounted_value(
    per_share: float, growth_rate: float, multiple: float, desired_return: float, years: int
) -> float:
    """The sum of ``years`` of ``per_share`` grown at ``growth_rate`` % and the last year
    times ``multiple``, each discounted at ``desired_return`` %."""
    growth, discount = 1 + growth_rate / 100, 1 + desired_return / 100
    yearly = sum(per_share * growth**year / discount**year for year in range(1, years + 1))
    terminal = per_share * growth**years * multiple / discount**years
    return yearly + terminal


def _inputs(method: str, figures: Fundamentals, assumptions: Assumptions) -> dict[str, float]:
    """The figure and assumptions ``method`` runs on."""
    per_share = figures.eps if method == "eps" else figures.fcf_per_share
    return {
        method: per_share,
        "growth_rate": getattr(assumptions, f"{method}_growth_rate"),
        "multiple": getattr(assumptions, f"{method}_multiple"),
        "desired_return": assumptions.desired_return,
        "years": assumptions.projection_years,
    }


def estimate(figures: Fundamentals, assumptions: Assumptions) -> Estimate:
    """The fair value of the preferred method, else of the other; every method without
    usable inputs is named in ``skipped`` with the reason."""
    preferred = assumptions.preferred_method
    usable: dict[str, dict[str, float]] = {}
    skipped: dict[str, str] = {}
    for method in METHODS:
        inputs = _inputs(method, figures, assumptions)
        per_share = inputs[method]
        if per_share is None or per_share <= 0:
            why = "unknown" if per_share is None else f"not positive ({per_share:g})"
            skipped[method] = f"{LABELS[method]} {why}"
        else:
            usable[method] = inputs
    if not usable:
        return Estimate(None, skipped=skipped, reason="; ".join(skipped.values()))
    method = preferred if preferred in usable else next(iter(usable))
    inputs = usable[method]
    value = discounted_value(
        inputs[method],
        inputs["growth_rate"],
        inputs["multiple"],
        inputs["desired_return"],
        inputs["years"],
    )
    return Estimate(value, method, inputs, skipped)
