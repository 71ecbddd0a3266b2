"""The market providers by name (the values ``MARKET_DATA`` accepts), and the builders of a
provider and of a source of fundamentals from the settings.

A new provider is a ``BaseProvider`` subclass in a module of its own, one line below, and
its settings in ``config.SETTINGS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..config import ConfigError
from .base import BaseProvider
from .demo import DemoProvider
from .marketdata import MarketDataProvider
from .provider import FundamentalsSource, MarketProvider
from .yahoo import YahooProvider

#: name (``MARKET_DATA``) -> provider class, in the order the error message lists them.
PROVIDERS: Mapping[str, type[BaseProvider]] = MappingProxyType(
    {
        provider.name: provider
        for provider in (
            DemoProvider,
            YahooProvider,
            MarketDataProvider,
        )
    }
)


def provider_class(name: str) -> type[BaseProvider]:
    """The provider registered as ``name``; ``ConfigError`` listing the registered names
    when there is none."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ConfigError(
            f"MARKET_DATA={name!r} is not valid: expected one of {', '.join(PROVIDERS)}."
        ) from None


def build_provider(name: str, settings: Mapping[str, Any]) -> BaseProvider:
    """The provider registered as ``name``, configured by ``settings`` once its own check
    of them passes (``ConfigError`` otherwise)."""
    provider = provider_class(name)
    provider.check_settings(settings)
    return provider.from_settings(settings)


def create_provider(settings: Mapping[str, Any]) -> BaseProvider:
    """The provider named by ``MARKET_DATA`` in ``settings``."""
    return build_provider(settings["MARKET_DATA"], settings)


def fundamentals_source(
    settings: Mapping[str, Any], provider: MarketProvider
) -> FundamentalsSource | None:
    """Where fundamentals come from: ``provider`` itself when it has them (Yahoo, the demo);
    else the provider it names as their source (Yahoo for Market Data, whose API has none),
    built from ``settings``; else None, as for a stand-in declaring no capabilities."""
    if getattr(provider, "has_fundamentals", False):
        return provider
    source = getattr(provider, "fundamentals_from", None)
    if source is not None:
        return build_provider(source, settings)
    return None
