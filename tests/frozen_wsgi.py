"""``wsgi``'s app with its clock and its demo market stopped at ``FROZEN_NOW`` (an ISO time
in the environment): for worker processes whose writes depend on the day, started as
``flask --app tests.frozen_wsgi rq worker``."""

import os
from datetime import datetime

from scanner_app import create_app
from scanner_app.market.demo import DemoProvider

NOW = datetime.fromisoformat(os.environ["FROZEN_NOW"])

app = create_app(
    {
        "CLOCK": lambda: NOW,
        "MARKET_PROVIDER": DemoProvider(
            latency_ms=int(os.environ.get("DEMO_LATENCY_MS", "0")), today=lambda: NOW.date()
        ),
    }
)
