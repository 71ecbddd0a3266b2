"""The registry of market providers: the names MARKET_DATA accepts, how a provider is built,
and the capabilities the app reads instead of asking which provider it is."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from scanner_app import create_app
from scanner_app.config import SETTINGS, ConfigError, load_settings
from scanner_app.market import registry
from scanner_app.market.base import BaseProvider
from scanner_app.market.demo import DemoProvider
from scanner_app.market.marketdata import MarketDataProvider
from scanner_app.market.registry import PROVIDERS, create_provider, fundamentals_source
from scanner_app.market.yahoo import YahooProvider

from .conftest import FROZEN_NOW
from .scan_results import read_results

DEMO_BANNER = "Demo market data: synthetic prices, not real quotes."


class PaperMarket(BaseProvider):
    """A provider of this test's own: no feeds, one setting it insists on."""

    name = "paper"
    required_settings = {"CASH_AVAILABLE": "the cash it trades with"}
    rate_setting = "YAHOO_REQUESTS_PER_SECOND"

    @classmethod
    def from_settings(cls, settings):
        """One request at a time, at the settings' rate."""
        return cls(max_concurrent=1, rate_limiter=cls.rate_limiter(settings))

    def open(self, ticker, *, calls=False):
        """No feeds on paper."""
        raise NotImplementedError


class LookalikeMarket(DemoProvider):
    """The demo's chains, declared as real data."""

    is_demo = False


class NoEarningsMarket(DemoProvider):
    """The demo's chains, declared without earnings dates."""

    has_earnings = False


def test_the_registry_names_each_provider_by_its_own_name():
    assert list(PROVIDERS) == ["demo", "yahoo", "marketdata"]
    assert all(provider.name == name for name, provider in PROVIDERS.items())
    assert all(issubclass(provider, BaseProvider) for provider in PROVIDERS.values())


def test_each_provider_builds_from_the_settings_that_name_it():
    settings = load_settings({"MARKETDATA_TOKEN": "md-test"})
    for name, expected in [
        ("demo", DemoProvider),
        ("yahoo", YahooProvider),
        ("marketdata", MarketDataProvider),
    ]:
        assert type(create_provider({**settings, "MARKET_DATA": name})) is expected


def test_market_data_is_read_as_a_lower_case_name():
    settings = load_settings({"MARKET_DATA": " Yahoo "})
    assert settings["MARKET_DATA"] == "yahoo"
    assert isinstance(create_provider(settings), YahooProvider)


def test_a_provider_missing_from_the_registry_is_refused_with_the_registered_names():
    settings = load_settings({"MARKET_DATA": "bloomberg"})
    with pytest.raises(ConfigError) as error:
        create_provider(settings)
    assert str(error.value) == (
        "MARKET_DATA='bloomberg' is not valid: expected one of demo, yahoo, marketdata."
    )


def test_the_accepted_names_are_the_registrys(monkeypatch):
    monkeypatch.setattr(registry, "PROVIDERS", MappingProxyType({"demo": DemoProvider}))
    with pytest.raises(
        ConfigError, match=r"MARKET_DATA='yahoo' is not valid: expected one of demo\.$"
    ):
        create_provider(load_settings({"MARKET_DATA": "yahoo"}))


def test_a_registered_provider_is_built_after_its_own_settings_check(monkeypatch):
    monkeypatch.setattr(
        registry, "PROVIDERS", MappingProxyType({**PROVIDERS, "paper": PaperMarket})
    )
    with pytest.raises(
        ConfigError, match="MARKET_DATA=paper needs CASH_AVAILABLE: the cash it trades with"
    ):
        create_provider(load_settings({"MARKET_DATA": "paper"}))

    provider = create_provider(load_settings({"MARKET_DATA": "paper", "CASH_AVAILABLE": "5000"}))

    assert isinstance(provider, PaperMarket)
    assert provider.request_count == 0
    assert provider.rate_limiter(load_settings({})).name == "paper"  # its own alias: 2 a second


def test_an_unknown_market_stops_the_app_at_start_up(app_config):
    with pytest.raises(ConfigError, match="expected one of demo, yahoo, marketdata"):
        create_app({**app_config, "MARKET_PROVIDER": None, "MARKET_DATA": "bloomberg"})


def test_every_rate_setting_is_a_known_setting():
    for provider in PROVIDERS.values():
        assert provider.rate_setting is None or provider.rate_setting in SETTINGS


def test_the_capabilities_each_provider_declares():
    assert [name for name, provider in PROVIDERS.items() if provider.is_demo] == ["demo"]
    assert [name for name, p in PROVIDERS.items() if p.has_fundamentals] == ["demo", "yahoo"]
    assert MarketDataProvider.fundamentals_from == "yahoo"
    assert all(provider.has_earnings for provider in PROVIDERS.values())


def test_a_provider_without_fundamentals_or_a_source_of_them_has_none():
    provider = PaperMarket(max_concurrent=1, rate_limiter=None)
    assert fundamentals_source(load_settings({}), provider) is None


def test_a_negative_retry_count_is_refused():
    with pytest.raises(ValueError, match="retries must be 0 or more"):
        PaperMarket(max_concurrent=1, rate_limiter=None, retries=-1)


@pytest.mark.parametrize(("market", "asked"), [(DemoProvider, True), (NoEarningsMarket, False)])
def test_has_earnings_decides_whether_a_scan_asks_for_earnings_dates(
    make_app, redis_client, key_prefix, market, asked
):
    provider = market(latency_ms=0, today=lambda: FROZEN_NOW.date())
    scanner = make_app(MARKET_PROVIDER=provider).extensions["put_scanner"]
    assert scanner.store.acquire_lock("scan-1")

    scanner.engine().run("scan-1")

    rows = [row for rows in read_results(scanner).options.values() for row in rows]
    assert rows
    assert any(row["earnings_date"] for row in rows) is asked
    assert bool(redis_client.keys(f"{key_prefix}earnings:*")) is asked


@pytest.mark.parametrize(
    ("market", "banner"),
    [
        (lambda: DemoProvider(latency_ms=0, today=lambda: FROZEN_NOW.date()), True),
        (lambda: LookalikeMarket(latency_ms=0, today=lambda: FROZEN_NOW.date()), False),
        (YahooProvider, False),
    ],
    ids=["demo", "lookalike", "yahoo"],
)
def test_is_demo_drives_the_demo_data_banner(app_config, redis_client, market, banner):
    client = create_app({**app_config, "MARKET_PROVIDER": market()}).test_client()
    assert (DEMO_BANNER in client.get("/").text) is banner
