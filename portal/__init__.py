"""The subscription self-serve portal."""

from __future__ import annotations

import logging
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from flask import has_request_context

        from portal.web import request_id

        record.request_id = request_id() if has_request_context() else "-"
        return True


def create_app(config_name: str | None = None, **overrides) -> Flask:
    config_name = config_name or os.environ.get("PORTAL_ENV", "development")
    config_class = CONFIGS[config_name]
    app = Flask(__name__)
    app.config.from_object(config_class)
    if hasattr(config_class, "from_environment"):
        app.config.update(config_class.from_environment())
    app.config.update(overrides)
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    configure_logging(app)
    register_extensions(app)
    register_url_converters(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_commands(app)
    return app


def configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    handler.addFilter(RequestIdFilter())
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(logging.INFO)


def register_extensions(app: Flask) -> None:
    from portal import models  # noqa: F401  (every model on the metadata before Alembic looks)
    from portal.extensions import babel, csrf, db, limiter, login_manager, migrate
    from portal.i18n import select_locale, select_timezone
    from portal.services import auth

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)
    login_manager.init_app(app)
    # Server-side sessions already end on logout; IP-based protection would only sign out phones.
    login_manager.session_protection = None
    login_manager.user_loader(auth.load_session)


def register_url_converters(app: Flask) -> None:
    from portal.web import register_url_converters as register

    register(app)


def register_blueprints(app: Flask) -> None:
    from portal.account import (  # noqa: F401  (routes join the account blueprint)
        action_views,
        cancel_views,
        help_views,
        message_views,
        payment_views,
        survey_views,
    )
    from portal.account.views import bp as account_bp
    from portal.admin import (
        integration_views,  # noqa: F401  (routes join the admin blueprint)
        reply_views,  # noqa: F401  (routes join the admin blueprint)
    )
    from portal.admin import message_views as admin_message_views  # noqa: F401  (routes join the admin blueprint)
    from portal.admin.views import bp as admin_bp
    from portal.api.v1 import bp as api_v1_bp
    from portal.api.views import bp as api_bp
    from portal.auth.views import bp as auth_bp
    from portal.console import behalf_views, case_views, measure_views, report_views  # noqa: F401  (routes join the console blueprint)
    from portal.console.views import bp as console_bp
    from portal.links.views import bp as links_bp
    from portal.outreach.views import bp as outreach_bp
    from portal.surveys.views import bp as surveys_bp

    for blueprint in (
        auth_bp,
        account_bp,
        links_bp,
        console_bp,
        admin_bp,
        api_bp,
        api_v1_bp,
        outreach_bp,
        surveys_bp,
    ):
        app.register_blueprint(blueprint)
    if app.config["DEV_MAIL_PAGE"]:
        from portal.dev.views import bp as dev_bp

        app.register_blueprint(dev_bp)


def register_request_hooks(app: Flask) -> None:
    from portal.errors import register_error_handlers
    from portal.templating import register_template_helpers
    from portal.web import register_request_hooks as register_web_hooks

    register_web_hooks(app)
    register_error_handlers(app)
    register_template_helpers(app)


def register_commands(app: Flask) -> None:
    from portal.cli import register

    register(app)
