"""The web layer: pages, HTMX fragments and the JSON API. It reads; the engine writes.

One blueprint package per feature (``dashboard``, ``ticker``, ``api``, ``admin``, ``auth``),
each with its ``routes.py``; the view helpers they share are the modules beside them. A feature
package imports shared modules, never another feature's; the dashboard's status poll reads
the login session through ``auth.sessions``, the gate every request passes.
"""

from flask import Flask

from ..screens.query import LABELS, PER_PAGE_CHOICES
from ..services import current_scanner
from .admin.routes import bp as admin_bp
from .api.routes import bp as api_bp
from .auth.routes import bp as auth_bp
from .auth.routes import init_auth
from .columns import shown_tables
from .dashboard.routes import bp as dashboard_bp
from .display import app_banners, register_template_filters
from .error_pages import register_error_pages
from .host_check import init_host_check
from .screens_page.routes import bp as screens_bp
from .ticker.routes import bp as ticker_bp
from .watchlist_page.routes import bp as watchlist_bp


def register_web(app: Flask) -> None:
    """Register the blueprints, template helpers and error pages, then login and security,
    and the Host check in front of them all."""
    for blueprint in (dashboard_bp, ticker_bp, api_bp, watchlist_bp, admin_bp, screens_bp, auth_bp):
        app.register_blueprint(blueprint)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    register_template_filters(app)
    tables = shown_tables(bool(app.config["HISTORY"]))
    app.jinja_env.globals.update(
        summary_table=tables["summary"],
        put_table=tables["put"],
        call_table=tables["call"],
        field_labels=LABELS,
        per_page_choices=PER_PAGE_CHOICES,
    )
    app.context_processor(
        lambda: {
            "app_banners": lambda: app_banners(current_scanner()),
            "poll_seconds": app.config["POLL_INTERVAL_SECONDS"],
        }
    )
    register_error_pages(app)
    init_auth(app)
    init_host_check(app)
