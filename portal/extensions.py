"""Extensions, created unbound and bound to the app in the factory."""

from flask import request
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from portal.models.base import Base
from portal.ratelimit import RateLimiter

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def client_address() -> str:
    # ProxyFix (when PROXY_COUNT is set) has already put the real client address here.
    return request.remote_addr or "unknown"


limiter = RateLimiter(key_func=client_address)
