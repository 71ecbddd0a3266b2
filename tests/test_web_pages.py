"""The dashboard, the ticker drilldown and the error pages, rendered through the routes."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, date, datetime
from pathlib import Path
from statistics import median

import pytest

from scanner_app import create_app
from scanner_app.market.demo import DemoProvider
from scanner_app.web.dashboard.routes import DATA_LOST_NOTE

from .conftest import FROZEN_NOW
from .scan_results import read_results

HX = {"HX-Request": "true"}
STATIC = Path(__file__).resolve().parents[1] / "scanner_app" / "static"
#: FROZEN_NOW (16:00 UTC, November) in New York, as the pages write it.
SCAN_TIME_ET = "Wed Nov 18, 2026 11:00 AM EST"
UNAVAILABLE = "Data temporarily unavailable. Please refresh the page."


def _watchlist(path: Path, fair_values: dict[str, float | None]) -> Path:
    lines = []
    for symbol, value in fair_values.items():
        lines.append(f'[[tickers]]\nsymbol = "{symbol}"\n')
        if value is not None:
            lines.append(f"fair_value = {value}\n")
    path.write_text("\n".join(lines))
    return path


@pytest.fixture
def app_config(app_config, tmp_path):
    """Three tickers: KO's fair value above every strike, AAPL's below, TSLA's estimated
    (below every strike)."""
    fair_values = {"KO": 1_000_000, "AAPL": 0.01, "TSLA": None}
    return {**app_config, "WATCHLIST_FILE": _watchlist(tmp_path / "watch.toml", fair_values)}


@pytest.fixture
def scanned(app, client):
    """The client after one whole scan; returns the published rows per ticker."""
    assert client.post("/scan", headers=HX).status_code == 200
    options = read_results(app.extensions["put_scanner"]).options
    # the frozen demo market has qualifying puts for all three, so every badge shows up
    assert set(options) == {"KO", "AAPL", "TSLA"}
    return options


def _section(page: str, element_id: str) -> str:
    """The outer HTML of the <section> or <form> with ``element_id``."""
    match = re.search(rf'<(section|form) id="{element_id}".*?</\1>', page, re.S)
    assert match, f"no {element_id} in the page"
    return match.group(0)


def _ticker_group(page: str, symbol: str) -> str:
    match = re.search(rf'<tbody class="ticker-group" id="ticker-{symbol}">.*?</tbody>', page, re.S)
    assert match, f"no summary row for {symbol}"
    return match.group(0)


def _row_symbols(page: str) -> list[str]:
    """The symbols of the table's rows, in order (from their drilldown links)."""
    groups = re.findall(
        r'<tbody class="ticker-group" id="ticker-[A-Z0-9_\-]+">.*?</tbody>', page, re.S
    )
    return [
        re.search(r'<th scope="row">(?:<input[^>]*>)?<a href="/ticker/([^"]+)">', group).group(1)
        for group in groups
    ]


def _cells(group: str) -> list[str]:
    """The text of the summary row's cells (th and td), tags stripped."""
    first_row = re.search(r"<tr>.*?</tr>", group, re.S).group(0)
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", first_row, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


# -- the dashboard -------------------------------------------------------------------------


def test_the_dashboard_before_any_scan(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.text
    assert "Last scan: Never" in page
    assert "No qualifying puts yet — press Scan." in page
    scan_form = re.search(r'<form id="scan-form" class="scan-form".*?</form>', page, re.S).group(0)
    assert 'hx-post="/scan"' in scan_form and '<button type="submit"' in scan_form
    region = re.search(
        r'<div class="status-region" aria-live="polite">\s*<div id="scan-status"', page
    )
    assert region, "the status sits in a polite live region"
    filters = _section(page, "filters")
    for attribute in ('hx-get="/"', 'hx-target="#results"', 'hx-push-url="true"'):
        assert attribute in filters
    assert 'href="/options.csv"' in page


def test_a_scan_that_finds_nothing_invites_another(app_config, redis_client):
    client = create_app({**app_config, "MIN_ANNUALIZED": 10_000}).test_client()
    client.post("/scan", headers=HX)
    page = client.get("/").text
    # worded by the web layer from the stored facts, in the page's time format
    assert f"Last scan: Scan completed successfully at {SCAN_TIME_ET} — 3 tickers, 0 puts" in page
    assert "No qualifying puts yet — press Scan." in page
    assert "<table" not in page
    assert "of 0 tickers" not in page
    # the tickers scanned without a qualifying put are named, each with its page
    assert re.search(
        r'3 tickers have no qualifying put:\s*<a href="/ticker/AAPL">AAPL</a>, '
        r'<a href="/ticker/KO">KO</a>, <a href="/ticker/TSLA">TSLA</a>\.',
        page,
    )


def test_while_the_market_is_closed_the_scan_button_says_when_it_opens(make_app):
    from .production import PRODUCTION, log_in

    saturday = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
    client = make_app(**PRODUCTION, CLOCK=lambda: saturday).test_client()
    log_in(client)
    page = client.get("/").text
    button = re.search(r'<button type="submit" class="button-primary"[^>]*>', page).group(0)
    assert "disabled" in button and 'aria-describedby="scan-closed"' in button
    opens = "Mon Nov 23, 2026 9:30 AM EST"
    assert f"Market closed: Scan opens {opens}." in page
    assert f"The market is closed: a scan can run when it opens, {opens}." in page
    assert "press Scan" not in page


def test_while_the_market_is_closed_no_page_says_press_scan(make_app, watchlist_file):
    from .production import PRODUCTION, log_in

    saturday = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
    held = '[[tickers]]\nsymbol = "AAPL"\nshares = 300\n\n[[tickers]]\nsymbol = "KO"\n'
    app = make_app(**PRODUCTION, CLOCK=lambda: saturday, WATCHLIST_FILE=watchlist_file(held))
    client = app.test_client()
    log_in(client)
    waits = "The market is closed: a scan can run when it opens, Mon Nov 23, 2026 9:30 AM EST."

    calls = client.get("/calls").text
    assert f"No qualifying calls for AAPL yet. {waits}" in calls
    ticker = client.get("/ticker/KO").text
    assert f"No qualifying puts for KO. {waits}" in ticker
    # a poll from a version Redis no longer has: the lost results, and when a scan can run
    poll = client.get("/scan/status?v=999&s=KO&n=1", headers=HX).text
    assert f"{DATA_LOST_NOTE} {waits}" in poll
    for page in (calls, ticker, poll):
        assert "press scan" not in page.lower()


def test_on_an_open_market_the_empty_pages_say_press_scan(make_app, watchlist_file):
    held = '[[tickers]]\nsymbol = "AAPL"\nshares = 300\n\n[[tickers]]\nsymbol = "KO"\n'
    client = make_app(WATCHLIST_FILE=watchlist_file(held)).test_client()
    dashboard = '<a href="/">dashboard</a>.'
    assert (
        f"No qualifying calls for AAPL yet — press Scan on the {dashboard}"
        in client.get("/calls").text
    )
    assert (
        f"No qualifying puts for KO. Press Scan on the {dashboard}" in client.get("/ticker/KO").text
    )
    poll = client.get("/scan/status?v=999&s=KO&n=1", headers=HX).text
    assert f"{DATA_LOST_NOTE} Press Scan to fetch them again." in poll


def test_every_page_shows_the_local_mode_and_demo_data_banners(client):
    for path in ("/", "/ticker/KO", "/no-such-page"):
        page = client.get(path).text
        assert "Local mode: scans run outside market hours; data may be stale." in page
        assert "Demo market data: synthetic prices, not real quotes." in page


def test_after_a_scan_each_ticker_has_one_summary_row(client, scanned):
    page = client.get("/").text
    assert _row_symbols(page) == sorted(scanned)  # the default view: by symbol, ascending
    assert '<p class="results-count">1–3 of 3 tickers</p>' in page
    assert 'class="pager"' not in page  # one page only
    for symbol, rows in scanned.items():
        cells = _cells(_ticker_group(page, symbol))
        best = max(rows, key=lambda row: row["annualized"])  # the line names the best put
        assert cells[:4] == [
            symbol,
            f"{best['annualized']:,.1f}%",
            f"${best['strike']:,.2f}",
            f"{best['delta']:.2f}",
        ]
        day = date.fromisoformat(best["expiration"])
        assert cells[4:8] == [
            f"{day:%b} {day.day}",
            str(best["dte"]),
            f"${best['bid']:,.2f}",
            f"${rows[0]['spot']:,.2f}",
        ]
        assert re.fullmatch(r"\d+ \(\d+ %ile\)", cells[9])  # the ticker's IV rank
        assert cells[10].startswith(str(len(rows)))
        assert SCAN_TIME_ET not in _ticker_group(page, symbol)  # said once, not per line
        assert f'href="/ticker/{symbol}"' in _ticker_group(page, symbol)


def _pager(page: str) -> list[tuple[str, str]]:
    """The pager's entries in order: (link target or "current", text)."""
    nav = re.search(r'<nav class="pager" aria-label="Pages of results".*?</nav>', page, re.S)
    assert nav, "no pager"
    entries = re.findall(
        r'<a href="([^"]*)"[^>]*>([^<]*)</a>|<span aria-current="page">(\d+)</span>', nav.group(0)
    )
    return [
        (html.unescape(href), text) if href else ("current", current)
        for href, text, current in entries
    ]


def test_the_pager_has_previous_and_next_around_the_page_numbers(client, scanned):
    on = "/?sort=spot&per_page=1"
    first, second, third = on, "/?sort=spot&page=2&per_page=1", "/?sort=spot&page=3&per_page=1"
    assert _pager(client.get(on).text) == [
        ("current", "1"),
        (second, "2"),
        (third, "3"),
        (second, "Next"),
    ]
    middle = client.get(second).text
    assert '<p class="results-count">2–2 of 3 tickers</p>' in middle
    assert _pager(middle) == [
        (first, "Previous"),
        (first, "1"),
        ("current", "2"),
        (third, "3"),
        (third, "Next"),
    ]
    assert 'rel="prev">Previous</a>' in middle and 'rel="next">Next</a>' in middle
    assert _pager(client.get(third).text) == [
        (second, "Previous"),
        (first, "1"),
        (second, "2"),
        ("current", "3"),
    ]


def test_per_page_offers_10_25_50_and_100(client, scanned):
    def options(page: str) -> list[tuple[str, bool]]:
        select = re.search(r'<select id="filter-per-page" name="per_page">.*?</select>', page, re.S)
        found = re.findall(r'<option value="(\d+)"( selected)?>\1</option>', select.group(0))
        return [(value, bool(selected)) for value, selected in found]

    assert options(client.get("/").text) == [
        ("10", False),
        ("25", False),
        ("50", True),
        ("100", False),
    ]  # 50 by default
    assert options(client.get("/?per_page=25").text) == [
        ("10", False),
        ("25", True),
        ("50", False),
        ("100", False),
    ]
    # a size from the URL that the form does not offer is kept, in its place
    assert options(client.get("/?per_page=1").text) == [
        ("1", True),
        ("10", False),
        ("25", False),
        ("50", False),
        ("100", False),
    ]


def test_sorting_by_delta_names_the_put_of_the_lowest_delta(client, scanned):
    page = client.get("/?sort=delta").text
    for symbol, rows in scanned.items():
        cells = _cells(_ticker_group(page, symbol))
        safest = min(rows, key=lambda row: abs(row["delta"]))
        assert cells[2:4] == [f"${safest['strike']:,.2f}", f"{safest['delta']:.2f}"]


#: A fair-value badge: its class, its hover, its text.
VALUE_BADGE = re.compile(
    r'<span class="badge (badge-(?:good|high|na))" title="([^"]*)">([^<]*)</span>'
)


def test_the_summary_badge_compares_strikes_with_the_fair_value(client, scanned):
    page = client.get("/").text
    expected = {
        "KO": (
            "badge-good",
            "The lowest qualifying strike is at or below the fair value of $1,000,000.00",
            "a strike ≤ FV",
        ),
        "AAPL": (
            "badge-high",
            "Every qualifying strike is above the fair value of $0.01",
            "strikes &gt; FV",
        ),
    }
    for symbol, badge in expected.items():
        assert VALUE_BADGE.search(_ticker_group(page, symbol)).groups() == badge
    kind, title, text = VALUE_BADGE.search(_ticker_group(page, "TSLA")).groups()  # est.
    assert (kind, text) == ("badge-high", "strikes &gt; FV")
    assert title.startswith("Every qualifying strike is above the fair value of $")
    # beside the badge, the spot against the same fair value: said to be the spot's
    assert re.search(
        r'class="discount" title="The spot, \$[\d,.]+, against the fair value">'
        r"spot 100% below</span>",
        _ticker_group(page, "KO"),
    )
    assert re.search(r">spot [\d,]+% above</span>", _ticker_group(page, "AAPL"))


def test_puts_load_lazily_so_the_page_grows_with_tickers_not_puts(client, scanned):
    page = client.get("/").text
    assert "puts-table" not in page
    symbol = next(iter(scanned))
    group = _ticker_group(page, symbol)
    button = re.search(r'<button type="button" class="puts-toggle"[^>]*>', group, re.S).group(0)
    assert f'hx-get="/ticker/{symbol}"' in button
    assert 'hx-trigger="click once"' in button and 'aria-expanded="false"' in button
    assert f'<tr class="puts-row" id="puts-ticker-{symbol}" hidden>' in group


def test_filters_from_htmx_return_the_results_and_the_canonical_url(client, scanned):
    response = client.get("/?min_annualized=50&min_delta=&max_dte=&min_oi=", headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="results"')
    assert "<html" not in response.text
    assert response.headers["HX-Push-Url"] == "/?min_annualized=50"
    expected = sorted(s for s, rows in scanned.items() if any(r["annualized"] >= 50 for r in rows))
    assert sorted(_row_symbols(response.text)) == expected
    # the form comes back out of band, holding the value that was applied
    form = _section(response.text, "filters")
    assert 'hx-swap-oob="true"' in form and 'value="50"' in form


def test_a_full_page_with_the_same_query_shows_the_same_results(client, scanned):
    query = "/?min_annualized=40&max_dte=20&sort=puts&dir=desc"
    fragment = _section(client.get(query, headers=HX).text, "results")
    page = client.get(query).text
    assert _section(page, "results") == fragment
    assert 'value="40"' in _section(page, "filters") and 'value="20"' in _section(page, "filters")


def test_a_history_restore_gets_the_whole_page(client):
    headers = {**HX, "HX-History-Restore-Request": "true"}
    response = client.get("/?max_dte=9", headers=headers)
    assert "<html" in response.text and 'id="results"' in response.text


def test_the_dashboard_varies_on_the_htmx_header(client):
    assert "HX-Request" in client.get("/").headers["Vary"]


def test_bad_filter_values_show_messages_and_drop_out_of_the_url(client, scanned):
    response = client.get("/?min_annualized=abc&max_dte=30&sort=nope", headers=HX)
    assert response.status_code == 200
    assert "Min annualized % must be a number from 0 to 10000; ignored." in response.text
    assert "Sort must be one of" in response.text
    assert response.headers["HX-Push-Url"] == "/?max_dte=30"


@pytest.mark.parametrize(
    "query",
    [
        "min_annualized=" + "9" * 5000,
        "min_delta=%F0%9F%92%A5",
        "max_dte=1e400",
        "min_oi=-0",
        "sort=%3Cscript%3Ealert(1)%3C/script%3E",
        "dir=%00%01",
        "min_annualized=1&min_annualized=x",
        "sort=" + "a" * 10_000,
        "%FF%FE=%FF",
    ],
)
def test_garbage_query_parameters_never_break_the_dashboard(client, scanned, query):
    for headers in ({}, HX):
        response = client.get(f"/?{query}", headers=headers)
        assert response.status_code == 200
        assert "<script>alert" not in response.text


def test_the_csv_link_carries_the_same_filters(client, scanned):
    # the download has every ticker's rows: the filters apply, the sort and the page do not
    page = client.get("/?min_annualized=35&max_dte=20&sort=spot&per_page=25").text
    assert 'href="/options.csv?min_annualized=35&amp;max_dte=20"' in page


def test_sorting_by_a_column_orders_the_rows(client, scanned):
    page = client.get("/?sort=annualized&dir=desc").text
    best = {symbol: max(row["annualized"] for row in rows) for symbol, rows in scanned.items()}
    assert _row_symbols(page) == sorted(best, key=best.get, reverse=True)
    header = re.search(r'<th scope="col" class="num" aria-sort="descending">.*?</th>', page, re.S)
    assert header and 'title="Annualized return of the best put">Ann.' in header.group(0)
    assert 'href="/?sort=annualized"' in header.group(0)  # clicking again sorts ascending
    ascending = client.get("/?sort=annualized").text
    assert _row_symbols(ascending) == list(reversed(_row_symbols(page)))


def test_tickers_that_failed_show_their_error(app_config, redis_client):
    provider = DemoProvider(
        latency_ms=0, failures={"TSLA": "rate_limit"}, today=lambda: FROZEN_NOW.date()
    )
    client = create_app({**app_config, "MARKET_PROVIDER": provider}).test_client()
    client.post("/scan", headers=HX)
    page = client.get("/").text
    assert "The last scan could not fetch 1 ticker:" in page
    assert "<li>TSLA: demo failure injected (rate_limit)</li>" in page
    group = _ticker_group(page, "TSLA")
    assert "Last scan failed for TSLA: demo failure injected (rate_limit)" in group
    assert "demo failure injected" in client.get("/ticker/TSLA").text


def test_the_failed_banner_names_ten_tickers_and_counts_the_rest(app_config, tmp_path):
    symbols = [f"F{number:02d}" for number in range(12)]
    watchlist = _watchlist(tmp_path / "failing.toml", dict.fromkeys(symbols))
    provider = DemoProvider(
        latency_ms=0, failures=dict.fromkeys(symbols, "timeout"), today=lambda: FROZEN_NOW.date()
    )
    client = create_app(
        {**app_config, "WATCHLIST_FILE": watchlist, "MARKET_PROVIDER": provider}
    ).test_client()
    client.post("/scan", headers=HX)
    page = client.get("/").text
    banner = re.search(r'<div class="banner banner-warning">.*?</div>', page, re.S).group(0)
    assert "The last scan could not fetch 12 tickers:" in banner
    named = re.findall(r"<li>(F\d\d): ", banner)
    assert named == symbols[:10]
    assert "<li>… and 2 more.</li>" in banner


def test_a_dotted_symbol_gets_a_row_id_without_dots(app_config, tmp_path):
    watchlist = _watchlist(tmp_path / "dotted.toml", {"BRK.B": None, "KO": None})
    client = create_app({**app_config, "WATCHLIST_FILE": watchlist}).test_client()
    client.post("/scan", headers=HX)
    page = client.get("/").text
    group = _ticker_group(page, "BRK_B")
    assert 'href="/ticker/BRK.B"' in group and 'value="BRK.B"' in group
    assert 'id="ticker-BRK.B"' not in page
    assert _row_symbols(page) == ["BRK.B", "KO"]


def _import(app, path: Path) -> None:
    """Make the watchlist exactly the file at ``path`` (the database is the source)."""
    result = app.test_cli_runner().invoke(args=["watchlist", "import", str(path), "--replace"])
    assert result.exit_code == 0, result.output


def test_the_badge_follows_the_fair_value_without_a_new_scan(app, app_config, client, scanned):
    # the store keeps facts (the lowest strike); the badge is judged when the page renders
    lowest = {symbol: min(row["strike"] for row in rows) for symbol, rows in scanned.items()}
    flipped = {"KO": 0.01, "AAPL": 1_000_000, "TSLA": lowest["TSLA"]}
    _import(app, _watchlist(Path(app_config["WATCHLIST_FILE"]).with_name("flip.toml"), flipped))
    page = client.get("/").text
    expected = {"KO": "badge-high", "AAPL": "badge-good", "TSLA": "badge-good"}
    for symbol, badge in expected.items():
        assert badge in _ticker_group(page, symbol)


# -- the drilldown -------------------------------------------------------------------------

PUT_COLUMNS = (
    "Strike", "vs FV", "Bid × Ask", "Sprd", "Ann.", "OTM", "Exp. moves", "Delta", "P(OTM)",
    "Prem.", "Coll.", "IV", "DTE", "Vol.", "OI", "Earn.",
)  # fmt: skip


def column_headers(table: str) -> list[str]:
    """The text of each column header of ``table``, without the hidden sort mark."""
    cells = re.findall(r'<th scope="col".*?</th>', table, re.S)
    return [" ".join(re.sub(r"<[^>]+>|[▲▼]", " ", cell).split()) for cell in cells]


def test_the_drilldown_lists_every_put_by_expiration(client, scanned):
    symbol, rows = "KO", scanned["KO"]
    response = client.get(f"/ticker/{symbol}")
    assert response.status_code == 200
    page = response.text
    assert f"<h1>{symbol} puts</h1>" in page
    assert "Local mode" in page  # a full page, with the banners
    tables = re.findall(r'<table class="puts-table">.*?</table>', page, re.S)
    assert len(tables) == len({row["expiration"] for row in rows})
    assert set(PUT_COLUMNS) <= set(column_headers(tables[0]))
    body_rows = [r for table in tables for r in re.findall(r"<tbody>.*?</tbody>", table, re.S)]
    assert sum(group.count("<tr>") for group in body_rows) == len(rows)
    assert f"${rows[0]['strike']:,.2f}" in page


def test_the_drilldown_badges_each_strike(client, scanned):
    expected = {"KO": "badge-good", "AAPL": "badge-high", "TSLA": "badge-high"}  # TSLA: est.
    for symbol, rows in scanned.items():
        tables = "".join(
            re.findall(r"<table.*?</table>", client.get(f"/ticker/{symbol}").text, re.S)
        )
        assert tables.count(expected[symbol]) == len(rows)
        badges = set(VALUE_BADGE.findall(tables))
        assert len(badges) == 1, badges  # one strike's wording per row, the same on each
        ((kind, title, text),) = badges
        assert kind == expected[symbol]
        if symbol == "KO":
            assert title == "The strike is at or below the fair value of $1,000,000.00"
            assert text == "strike ≤ FV"
        else:
            assert title.startswith("The strike is above the fair value of $")
            assert text == "strike &gt; FV"


def _body_cells(table: str) -> list[list[str]]:
    """The text of each body row's cells (th and td), tags stripped."""
    body = re.search(r"<tbody>.*?</tbody>", table, re.S).group(0)
    return [_cells(row) for row in re.findall(r"<tr>.*?</tr>", body, re.S)]


def test_the_drilldown_shows_one_table_sorted_across_expirations(client, scanned):
    symbol, rows = "KO", scanned["KO"]
    assert len({row["expiration"] for row in rows}) > 1
    page = client.get(f"/ticker/{symbol}?layout=table&put_sort=annualized&put_dir=desc").text

    tables = re.findall(r'<table class="puts-table">.*?</table>', page, re.S)
    assert len(tables) == 1
    table = tables[0]
    assert f"{symbol} · {len(rows)} puts across expirations" in table
    assert "sorted by annualized return on the collateral (descending)" in table
    headers = column_headers(table)
    assert headers[:2] == ["Strike", "Exp."]  # the expiration has a column of its own
    annualized, dte = headers.index("Ann."), headers.index("DTE")
    shown = [(cells[annualized], cells[dte]) for cells in _body_cells(table)]
    best_first = sorted(rows, key=lambda row: row["annualized"], reverse=True)
    assert shown == [(f"{row['annualized']:,.1f}%", str(row["dte"])) for row in best_first]
    # every column sorts the one table: its links keep the layout
    assert (
        f'href="/ticker/{symbol}?put_sort=dte&amp;put_dir=asc&amp;layout=table'
        f'#sort-ticker-{symbol}-dte"' in table
    )
    assert (
        f'href="/ticker/{symbol}?put_sort=annualized&amp;put_dir=asc&amp;layout=table'
        f'#sort-ticker-{symbol}-annualized"' in table
    )  # the sorted column: the other way
    switch = re.search(r'<p class="layout-switch">.*?</p>', page, re.S).group(0)
    assert '<strong aria-current="true">one table</strong>' in switch
    grouped = f"/ticker/{symbol}?put_sort=annualized&amp;put_dir=desc"
    assert f'<a href="{grouped}">a table per expiration</a>' in switch  # keeping the sort


def test_the_drilldown_is_grouped_by_expiration_by_default(client, scanned):
    symbol, rows = "KO", scanned["KO"]
    page = client.get(f"/ticker/{symbol}").text
    tables = re.findall(r'<table class="puts-table">.*?</table>', page, re.S)
    assert len(tables) == len({row["expiration"] for row in rows})
    assert "Exp." not in column_headers(tables[0])
    switch = re.search(r'<p class="layout-switch">.*?</p>', page, re.S).group(0)
    assert '<strong aria-current="true">a table per expiration</strong>' in switch
    assert f'<a href="/ticker/{symbol}?layout=table">one table</a>' in switch


def test_the_drilldown_has_its_own_csv_and_json_links(client, scanned):
    symbol = "KO"
    page = client.get(f"/ticker/{symbol}?min_annualized=50&layout=table").text
    exports = re.search(r'<p class="exports">.*?</p>', page, re.S).group(0)
    links = {
        text: html.unescape(href)
        for href, text in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', exports)
    }
    # the CSV holds the puts the page shows: this ticker's, under the same filters
    assert links == {
        f"{symbol} CSV": f"/options.csv?symbol={symbol}&min_annualized=50",
        f"{symbol} JSON": f"/api/options/{symbol}",
    }
    assert "download" in re.search(r"<a [^>]*>KO CSV</a>", exports).group(0)
    csv = client.get(links[f"{symbol} CSV"])
    assert csv.status_code == 200
    lines = csv.text.splitlines()
    expected = [row for row in scanned[symbol] if row["annualized"] >= 50]
    assert expected and len(lines) == 1 + len(expected)
    assert all(line.startswith(f"{symbol},") for line in lines[1:])
    body = client.get(links[f"{symbol} JSON"]).get_json()
    assert body["symbol"] == symbol and len(body["options"]) == len(scanned[symbol])


def test_the_drilldown_has_an_accessible_chart_of_all_its_puts(client, scanned):
    symbol, rows = next(iter(scanned.items()))
    page = client.get(f"/ticker/{symbol}").text
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert svg.count('class="series"') == len({row["expiration"] for row in rows})
    assert len(re.findall(r'class="point (?:filled|hollow)"', svg)) == len(rows)
    assert "<figcaption>" in page


def test_the_chart_and_rows_mark_strikes_against_a_fair_value_between_them(
    app, app_config, client, scanned
):
    symbol, rows = max(scanned.items(), key=lambda item: len(item[1]))
    fair_value = median(row["strike"] for row in rows)
    path = _watchlist(
        Path(app_config["WATCHLIST_FILE"]).with_name("mid.toml"), {symbol: fair_value}
    )
    _import(app, path)
    page = client.get(f"/ticker/{symbol}").text
    at_or_below = sum(1 for row in rows if row["strike"] <= fair_value)
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert svg.count('class="point filled"') == at_or_below
    assert svg.count('class="point hollow"') == len(rows) - at_or_below
    tables = "".join(re.findall(r"<table.*?</table>", page, re.S))
    assert tables.count("badge-good") == at_or_below
    assert tables.count("badge-high") == len(rows) - at_or_below
    assert "Filled markers: strike at or below the fair value" in page


def test_htmx_gets_the_drilldown_fragment_and_both_vary(client, scanned):
    symbol = next(iter(scanned))
    fragment = client.get(f"/ticker/{symbol}", headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<svg" in fragment.text
    assert fragment.text.lstrip().startswith('<div class="ticker-detail"')
    page = client.get(f"/ticker/{symbol}")
    assert "<html" in page.text
    for response in (fragment, page):
        assert "HX-Request" in response.headers["Vary"]


def test_the_drilldown_accepts_any_case_and_applies_filters(client, scanned):
    symbol, rows = max(scanned.items(), key=lambda item: len(item[1]))
    shortest = min(row["dte"] for row in rows)
    kept = sum(1 for row in rows if row["dte"] <= shortest)
    page = client.get(f"/ticker/{symbol.lower()}?max_dte={shortest}").text
    assert f"{kept} of {len(rows)} (filtered)" in page


def test_a_watched_ticker_without_results_says_so(client):
    response = client.get("/ticker/KO")
    assert response.status_code == 200
    assert "No qualifying puts for KO" in response.text
    assert "put-chart" not in response.text


def test_an_invalid_symbol_is_a_404_with_the_input_escaped(client):
    response = client.get("/ticker/<script>alert(1)</script>")
    assert response.status_code == 404
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>alert" not in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_a_symbol_not_in_the_watchlist_is_a_404(client):
    for headers in ({}, HX):
        response = client.get("/ticker/ZZZZ", headers=headers)
        assert response.status_code == 404
        assert "“ZZZZ” is not in the watchlist." in response.text
    assert "<html" not in response.text  # the htmx answer is a short alert


def test_a_very_long_symbol_is_cut_in_the_message(client):
    response = client.get("/ticker/" + "A" * 5000)
    assert response.status_code == 404
    assert "A" * 5000 not in response.text and "A" * 100 + "…" in response.text


# -- Redis down ----------------------------------------------------------------------------


@pytest.fixture
def down_client(app_config):
    """A client of an app whose Redis does not answer."""
    return create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"}).test_client()


@pytest.mark.parametrize("path", ["/", "/?min_annualized=50&sort=spot", "/ticker/KO"])
def test_with_redis_down_pages_still_render_with_the_banner(down_client, path):
    for headers in ({}, HX):
        response = down_client.get(path, headers=headers)
        assert response.status_code == 200
    page = down_client.get(path).text
    assert re.search(rf'<div class="banner banner-error" role="alert">\s*<p>{UNAVAILABLE}', page)


# -- errors and static files ---------------------------------------------------------------


def test_an_unknown_page_is_the_html_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "<h1" in response.text and "Not Found" in response.text
    assert 'href="/"' in response.text


def test_an_unhandled_exception_is_a_500_page_without_a_traceback(app_config, redis_client):
    app = create_app({**app_config, "TESTING": False})

    def explode():
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/explode", view_func=explode)
    response = app.test_client().get("/explode")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "secret internal detail" not in response.text and "Traceback" not in response.text


def test_pages_have_no_inline_script_or_style(client, scanned):
    symbol = next(iter(scanned))
    for path in ("/", f"/ticker/{symbol}", "/nope"):
        page = client.get(path).text
        assert not re.search(r"<script(?![^>]*\ssrc=)", page)
        assert not re.search(r"\sstyle=|<style|\shx-on", page)
    assert '<meta name="htmx-config"' in client.get("/").text


def test_the_stylesheet_and_htmx_are_served(client):
    for name in ("app.css", "htmx-2.0.11.min.js"):
        with client.get(f"/static/{name}") as response:
            assert response.status_code == 200
            assert response.data == (STATIC / name).read_bytes()


def test_the_vendored_htmx_matches_its_recorded_checksum():
    script = STATIC / "htmx-2.0.11.min.js"
    recorded, name = (STATIC / "htmx-2.0.11.min.js.sha256").read_text().split()
    assert name == script.name
    assert hashlib.sha256(script.read_bytes()).hexdigest() == recorded
    assert 'version:"2.0.11"' in script.read_text()
    assert "Zero-Clause BSD" in (STATIC / "htmx-LICENSE.txt").read_text()
