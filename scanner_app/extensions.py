"""Flask extensions, created unbound and attached in ``create_app`` (the init_app pattern)."""

from flask_caching import Cache
from flask_login import LoginManager
from flask_wtf import CSRFProtect

cache = Cache()
csrf = CSRFProtect()
login_manager = LoginManager()
