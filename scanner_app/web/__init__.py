"""The web layer: pages, HTMX fragments and the JSON API. It reads; the engine writes."""

from flask import Flask

from ..services import current_scanner
from .api import bp as api_bp
from .auth import bp as auth_bp
from .auth import init_auth
from .calls import bp as calls_bp
from .display import app_banners, register_template_filters
from .errors import register_error_pages
from .pages import bp as pages_bp
from .scan import bp as scan_bp


def register_web(app: Flask) -> None:
    """Register the blueprints, template helpers and error pages, then login and security."""
    for blueprint in (pages_bp, scan_bp, api_bp, auth_bp, calls_bp):
        app.register_blueprint(blueprint)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    register_template_filters(app)
    app.context_processor(
        lambda: {
            "app_banners": lambda: app_banners(current_scanner()),
            "poll_seconds": app.config["POLL_INTERVAL_SECONDS"],
        }
    )
    register_error_pages(app)
    init_auth(app)
