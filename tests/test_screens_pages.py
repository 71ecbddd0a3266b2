"""The screens on the pages: the criteria line, the new filters in the form, the puts
sorted by any column, and position sizing, rendered through the routes."""

from __future__ import annotations

import html
import re
from collections import Counter

import pytest

from scanner_app.screens.query import PUT_SORT_KEYS

from .scan_results import read_results

HX = {"HX-Request": "true"}
SYMBOL = "KO"
DEFAULT_SENTENCE = (
    "Puts with annualized &gt;= 30 % and delta &gt;= -0.20 in the next 4 weekly expirations."
)
WIDE_SENTENCE = (
    "Puts with annualized &gt;= 0 % and delta &gt;= -1.00 in the next 4 weekly expirations."
)


@pytest.fixture
def wide_app(make_app):
    """An app whose scans keep every out-of-the-money put with a bid: many per expiration."""
    return make_app(MIN_ANNUALIZED=0.0, MIN_DELTA=-1.0)


@pytest.fixture
def client(wide_app):
    return wide_app.test_client()


@pytest.fixture
def scanned(wide_app, client) -> list[dict]:
    """The client after one whole scan; returns KO's published rows."""
    assert client.post("/scan", headers=HX).status_code == 200
    rows = read_results(wide_app.extensions["put_scanner"]).options[SYMBOL]
    per_expiration = Counter(row["expiration"] for row in rows)
    assert len(per_expiration) > 1 and max(per_expiration.values()) >= 5
    return rows


def tables(page: str) -> list[str]:
    return re.findall(r'<table class="puts-table">.*?</table>', page, re.S)


def shown_strikes(table: str) -> list[float]:
    """The strikes of a puts table's rows, in the order shown."""
    cells = re.findall(
        r'<th scope="row" class="num">\$([\d,.]+)(?: <span[^>]*>new</span>)?</th>', table
    )
    return [float(cell.replace(",", "")) for cell in cells]


# -- the criteria line -----------------------------------------------------------------------


def test_the_dashboard_says_the_criteria_in_force(make_app):
    client = make_app().test_client()
    assert DEFAULT_SENTENCE in client.get("/").text
    assert DEFAULT_SENTENCE in client.get("/", headers=HX).text  # the filtered fragment too


def test_the_criteria_line_follows_the_filters_and_settings(make_app):
    client = make_app(MIN_DTE=7, WEEKS=6, MIN_DELTA=-0.25).test_client()
    page = client.get("/?min_annualized=45&max_dte=40&min_volume=5").text
    assert (
        "Puts with annualized &gt;= 45 %, delta &gt;= -0.25, 7-40 days to expiration and "
        "volume &gt;= 5 in the next 6 weekly expirations."
    ) in page


def test_the_drilldown_says_the_criteria_in_force(client, scanned):
    assert WIDE_SENTENCE in client.get(f"/ticker/{SYMBOL}").text


# -- the filters in the form -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [("min_dte", "7"), ("min_volume", "10"), ("min_vol_oi", "0.5"), ("max_spread", "12.5")],
)
def test_the_form_has_each_new_filter_and_shows_its_value(client, name, value):
    assert f'name="{name}"' in client.get("/").text
    form = client.get(f"/?{name}={value}").text.split('<form id="filters"')[1].split("</form>")[0]
    assert re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"', form, re.S)


def test_the_drilldown_narrows_its_puts_by_the_new_filters(client, scanned):
    volumes = sorted(row["volume"] or 0 for row in scanned)
    limit = volumes[len(volumes) // 2]
    page = client.get(f"/ticker/{SYMBOL}?min_volume={limit}&max_spread=1000").text
    shown = sum(len(shown_strikes(table)) for table in tables(page))
    assert shown == sum(1 for volume in volumes if volume >= limit) < len(scanned)


def test_a_bad_new_filter_is_a_message_not_an_error(client, scanned):
    response = client.get(f"/ticker/{SYMBOL}?min_vol_oi=lots")
    assert response.status_code == 200
    assert "Min volume / open interest must be a number from 0 to 1000; ignored." in response.text


# -- sorting the puts ------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("column", PUT_SORT_KEYS)
def test_each_table_sorts_by_any_column_either_way(client, scanned, column, direction):
    page = client.get(f"/ticker/{SYMBOL}?put_sort={column}&put_dir={direction}").text
    by_strike = {(row["expiration"], row["strike"]): row for row in scanned}
    for table, expiration in zip(
        tables(page), sorted({r["expiration"] for r in scanned}), strict=True
    ):
        values = [by_strike[expiration, strike][column] for strike in shown_strikes(table)]
        known = [value for value in values if value is not None]
        assert values == known + [None] * (len(values) - len(known))  # missing ones last
        assert known == sorted(known, reverse=direction == "desc")


def test_the_sorted_column_has_aria_sort_and_its_link_flips_it(client, scanned):
    page = client.get(f"/ticker/{SYMBOL}?put_sort=annualized&put_dir=desc").text
    table = tables(page)[0]
    assert table.count("aria-sort=") == 1
    header = re.search(
        r'<th scope="col" class="num" aria-sort="descending">(.*?)</th>', table, re.S
    )
    assert 'title="Annualized return on the collateral">Ann.</abbr>' in header.group(1)
    assert f"/ticker/{SYMBOL}?put_sort=annualized&amp;put_dir=asc" in header.group(1)
    assert "sorted by annualized return on the collateral (descending)" in table


def test_by_default_the_puts_are_by_strike_from_highest(client, scanned):
    table = tables(client.get(f"/ticker/{SYMBOL}").text)[0]
    strikes = shown_strikes(table)
    assert strikes == sorted(strikes, reverse=True)
    assert 'aria-sort="descending"' in table


@pytest.mark.parametrize("raw", ["bogus", "strike;drop", "x" * 500])
def test_a_bad_sort_column_is_a_clear_message_and_the_default_order(client, scanned, raw):
    response = client.get(f"/ticker/{SYMBOL}", query_string={"put_sort": raw})
    assert response.status_code == 200
    assert "Puts sort must be one of strike, expiration, bid, spread_pct" in html.unescape(
        response.text
    )
    strikes = shown_strikes(tables(response.text)[0])
    assert strikes == sorted(strikes, reverse=True)


def test_in_the_dashboard_the_sort_links_swap_the_details_in_place(client, scanned):
    fragment = client.get(f"/ticker/{SYMBOL}?cash=5000", headers=HX).text
    link = re.search(r'<a id="sort-[^"]+-bid" href="[^"]+"[^>]*>', fragment).group(0)
    assert 'hx-target="closest .ticker-detail"' in link and "cash=5000" in link
    full = client.get(f"/ticker/{SYMBOL}").text
    assert 'hx-target="closest .ticker-detail"' not in full  # plain links on its own page
    link_id, href = re.search(r'<a id="(sort-[^"]+-bid)" href="([^"]+)"', full).groups()
    assert href.endswith(f"#{link_id}")  # back to the header that was used


def test_the_dashboard_details_carry_the_cash_and_the_sort(client, scanned):
    page = client.get("/?cash=5000&put_sort=iv&min_volume=1").text
    button = re.search(r'<button type="button" class="puts-toggle"[^>]*>', page, re.S).group(0)
    url = html.unescape(re.search(r'hx-get="([^"]+)"', button).group(1))
    assert url.startswith("/ticker/") and {"cash=5000", "put_sort=iv", "min_volume=1"} <= set(
        url.split("?")[1].split("&")
    )


# -- position sizing -------------------------------------------------------------------------


def contracts_shown(page: str) -> list[int]:
    return [int(cell) for cell in re.findall(r'<td class="num contracts">(\d+)</td>', page)]


def test_cash_typed_in_sizes_each_put(client, scanned):
    cash = 12_345
    page = client.get(f"/ticker/{SYMBOL}?cash={cash}").text
    expected = {(row["strike"], cash * 100 // round(row["strike"] * 10_000)) for row in scanned}
    shown = {
        (strike, contracts)
        for table in tables(page)
        for strike, contracts in zip(shown_strikes(table), contracts_shown(table), strict=True)
    }
    assert shown <= expected and len(contracts_shown(page)) == len(scanned)
    assert ">Tot. prem.</abbr>" in page and "$12,345.00" in page
    first_table = tables(page)[0]
    expiration = min(row["expiration"] for row in scanned)
    top = shown_strikes(first_table)[0]
    row = next(r for r in scanned if (r["expiration"], r["strike"]) == (expiration, top))
    contracts = cash * 100 // round(row["strike"] * 10_000)
    assert f"${contracts * row['bid'] * 100:,.0f}</td>" in first_table  # whole dollars


def test_cash_available_setting_sizes_each_put_and_the_form_overrides_it(make_app):
    app = make_app(CASH_AVAILABLE=1_000_000.0)
    client = app.test_client()
    assert client.post("/scan", headers=HX).status_code == 200
    rows = read_results(app.extensions["put_scanner"]).options[SYMBOL]
    page = client.get(f"/ticker/{SYMBOL}").text
    assert sorted(contracts_shown(page)) == sorted(
        1_000_000 * 100 // round(row["strike"] * 10_000) for row in rows
    )
    assert "empty: $1,000,000.00" in client.get("/").text
    assert set(contracts_shown(client.get(f"/ticker/{SYMBOL}?cash=0").text)) == {0}


def test_without_cash_there_is_no_sizing(client, scanned):
    page = client.get(f"/ticker/{SYMBOL}").text
    assert "Contracts" not in page and contracts_shown(page) == []
