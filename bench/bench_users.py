"""One user's dashboard in a team's universe (demo market, real Redis, SQLite).

A user with 50 tickers, first in a universe of those 50, then in a universe of 5000 (a
second user watches the other 4950), each scanned for real. Figures:

- that user's first dashboard page: median time and bytes, and their ratios (targets: at
  most 1.5x the time and 1.1x the bytes of the 50-ticker universe);
- the database statements of an unchanged status poll (target: none) and of a scan's
  start reading the universe (target: one, whatever the number of users).

Run: ``make bench`` (or ``python -m bench.bench_users``). Prints figures; asserts nothing.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from scanner_app.accounts.local_user import local_user_id
from scanner_app.db.account_tables import User
from scanner_app.market.demo import DemoProvider
from scanner_app.watchlist import WatchlistEntry

from .support import bench_app, clear_prefix, median_get, redis_url

OWN = 50
UNIVERSE = 5000
#: Unchanged polls whose database statements are counted.
POLLS = 30


class StatementCount:
    """Counts the SQL statements an engine runs while it is in a ``with`` block."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.count = 0

    def _seen(self, *_args) -> None:
        """Count one statement."""
        self.count += 1

    def __enter__(self) -> StatementCount:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def _add_team(scanner, others: int) -> None:
    """A second user watching ``others`` symbols besides the first user's."""
    with Session(scanner.database) as session, session.begin():
        user = User(username="team", password_hash="", role="member", created_at=scanner.clock())
        session.add(user)
        session.flush()
        team = user.id
    entries = [WatchlistEntry(f"T{index:04d}") for index in range(others)]
    scanner.watchlists.import_entries(team, entries)


def measure(url: str, universe: int) -> dict[str, float]:
    """The first user's figures with ``universe`` tickers watched in all."""
    app = bench_app(url, OWN, MARKET_PROVIDER=DemoProvider(latency_ms=0), SCAN_CONCURRENCY=8)
    scanner = app.extensions["put_scanner"]
    try:
        local_user_id(scanner.database)
        if universe > OWN:
            _add_team(scanner, universe - OWN)
        with StatementCount(scanner.database) as reads:
            engine = scanner.engine()
        assert scanner.store.acquire_lock("bench")
        engine.run("bench")
        client = app.test_client()
        client.get("/")  # warm the templates and the identity
        page_time, page_bytes = median_get(client, "/")
        version = scanner.store.read_pulse()[0].version
        at = int(scanner.clock().timestamp())
        with StatementCount(scanner.database) as poll:
            for _ in range(POLLS):
                assert client.get(f"/scan/status?v={version}&at={at}").status_code == 204
        return {
            "universe": len(engine.symbols),
            "page_s": page_time,
            "page_bytes": page_bytes,
            "universe_statements": reads.count,
            "poll_statements": poll.count / POLLS,
        }
    finally:
        clear_prefix(app)


def main() -> None:
    """Print the figures of a 50-ticker user in a 50- and a 5000-ticker universe."""
    with redis_url() as url:
        small, large = measure(url, OWN), measure(url, UNIVERSE)
    print(f"A user with {OWN} tickers, their first dashboard page:")
    for figures in (small, large):
        print(
            f"  universe {figures['universe']:>5}: {figures['page_s'] * 1000:.2f} ms, "
            f"{figures['page_bytes']:,} bytes | universe read in "
            f"{figures['universe_statements']} statement(s) | unchanged poll: "
            f"{figures['poll_statements']:g} database statements"
        )
    print(
        f"  ratio {UNIVERSE}/{OWN}: time {large['page_s'] / small['page_s']:.2f}x "
        f"(target <= 1.5x), bytes {large['page_bytes'] / small['page_bytes']:.3f}x "
        "(target <= 1.1x)"
    )


if __name__ == "__main__":
    main()
