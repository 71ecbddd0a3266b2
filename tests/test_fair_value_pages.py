"""Fair values on the pages: the user's own figure or the scan's estimate ("est."), the
price's discount to it, the reason for n/a, and the at-or-below-fair-value filter on the
dashboard, the API and the CSV."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest

from scanner_app.market.demo import demo_fundamentals
from scanner_app.valuation.assumptions import Assumptions
from scanner_app.valuation.methods import estimate

HX = {"HX-Request": "true"}
#: TSLA's own fair value sits inside its strikes; KO and ABC are left to the estimate
#: (ABC's demo company loses money and burns cash: no method can run).
WATCHLIST = """
[[tickers]]
symbol = "TSLA"
fair_value = 215

[[tickers]]
symbol = "KO"
desired_return = 10

[[tickers]]
symbol = "ABC"
"""
KO_ESTIMATE = estimate(demo_fundamentals("KO"), Assumptions(desired_return=10))


@pytest.fixture
def client(make_app, tmp_path):
    path = tmp_path / "watch.toml"
    path.write_text(WATCHLIST)
    client = make_app(WATCHLIST_FILE=path).test_client()
    assert client.post("/scan", headers=HX).status_code == 200
    return client


def _group(page: str, symbol: str) -> str:
    match = re.search(rf'<tbody class="ticker-group" id="ticker-{symbol}">.*?</tbody>', page, re.S)
    assert match, f"no row for {symbol}"
    return html.unescape(match.group(0))


def test_an_estimate_says_est_with_its_method_and_inputs_and_the_discount(client):
    row = _group(client.get("/").text, "KO")
    spot = client.get("/api/options/KO").get_json()["options"][0]["spot"]

    assert f"${KO_ESTIMATE.value:,.2f}" in row and ">est.</abbr>" in row
    assert "Estimated from EPS 1.95, grown 10 % a year for 5 years" in row
    assert "discounted at 10 %" in row  # KO's own desired return
    discount = (KO_ESTIMATE.value - spot) / KO_ESTIMATE.value * 100
    side = "below" if discount >= 0 else "above"
    assert f"spot {abs(discount):,.0f}% {side}</span>" in row and f"The spot, ${spot:,.2f}" in row


def test_the_users_own_fair_value_is_not_an_estimate(client):
    row = _group(client.get("/").text, "TSLA")

    assert "$215.00" in row and "est." not in row
    assert "Your own fair value, from the watchlist." in row


def test_without_a_usable_method_the_badge_is_na_with_the_reasons(client):
    row = _group(client.get("/").text, "ABC")

    assert "badge-na" in row and "est." not in row
    assert re.search(r'<span class="badge badge-na" title="No estimate: [^"]*">no FV</span>', row)
    assert "No estimate: EPS not positive" in row
    assert "free cash flow per share not positive" in row


def test_the_drilldown_explains_the_estimate(client):
    page = html.unescape(client.get("/ticker/KO").text)

    assert "est." in page and "Estimated from EPS 1.95" in page
    assert client.get("/api/options/KO").get_json()["fair_value_estimate"] == (
        KO_ESTIMATE.to_dict()
    )


def test_the_filter_keeps_strikes_at_or_below_the_fair_value(client):
    everything = client.get("/api/options").get_json()["options"]
    tsla = [row["strike"] for row in everything["TSLA"]]
    assert min(tsla) <= 215 < max(tsla)  # the filter has something to cut

    kept = client.get("/api/options?at_or_below_fair_value=1").get_json()
    assert kept["filters"]["at_or_below_fair_value"] is True
    assert [row["strike"] for row in kept["options"]["TSLA"]] == [s for s in tsla if s <= 215]
    assert "ABC" not in kept["options"]  # n/a: nothing is at or below it
    assert all(row["strike"] <= KO_ESTIMATE.value for row in kept["options"].get("KO", []))

    lines = client.get("/options.csv?at_or_below_fair_value=1").text
    rows = list(csv.DictReader(io.StringIO(lines)))
    assert {row["ticker"] for row in rows} <= {"TSLA", "KO"}
    assert all(float(row["strike"]) <= 215 for row in rows if row["ticker"] == "TSLA")

    page = client.get("/?at_or_below_fair_value=1").text
    assert "ticker-ABC" not in page and "ticker-TSLA" in page
    assert re.search(r'name="at_or_below_fair_value"[^>]*checked', page)
    detail = client.get("/ticker/TSLA?at_or_below_fair_value=1").text
    assert f"{len(kept['options']['TSLA'])} of {len(tsla)} (filtered)" in detail


@pytest.mark.parametrize("garbage", ["string", "hash"])
def test_garbage_estimates_leave_na_never_a_500(client, redis_client, key_prefix, garbage):
    key = f"{key_prefix}fair_values"
    redis_client.delete(key)
    if garbage == "string":
        redis_client.set(key, "not a hash")  # HMGET answers WRONGTYPE
    else:
        redis_client.hset(key, "KO", '{"value": 5, "method": "eps", "inputs": {}}')

    page = client.get("/")
    assert page.status_code == 200
    assert "badge-na" in _group(page.text, "KO") and "est." not in _group(page.text, "KO")
    assert client.get("/ticker/KO").status_code == 200
    assert client.get("/api/options?at_or_below_fair_value=1").status_code == 200


def test_the_environments_assumptions_apply_where_the_watchlist_sets_none(make_app, tmp_path):
    path = tmp_path / "watch.toml"
    path.write_text(WATCHLIST)
    client = make_app(WATCHLIST_FILE=path, PREFERRED_METHOD="fcf", FCF_MULTIPLE=12.0).test_client()
    assert client.post("/scan", headers=HX).status_code == 200

    found = client.get("/api/options/KO").get_json()["fair_value_estimate"]

    expected = Assumptions(desired_return=10, preferred_method="fcf", fcf_multiple=12)
    assert found == estimate(demo_fundamentals("KO"), expected).to_dict()
    assert found["method"] == "fcf" and found["inputs"]["multiple"] == 12
