"""What templates may call: formatting filters, translated labels, and read-only questions for
services (which actions a subscription offers, what a staff member may open)."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import get_locale
from flask_login import current_user

from portal.formatting import language_names, local_date, money, percent
from portal.i18n import ACTION_TITLES, action_label, actor_label, country_name, interval_label, status_label
from portal.models import StaffRole
from portal.services.subscriptions import available_actions


def staff_can(role: str) -> bool:
    """Whether the signed-in staff member's role includes `role` (the hierarchy lives in StaffRole)."""
    return bool(
        current_user.is_authenticated and current_user.is_staff and current_user.staff.role.includes(StaffRole(role))
    )


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["country_name"] = country_name
    app.jinja_env.globals.update(
        status_label=status_label,
        interval_label=interval_label,
        action_label=action_label,
        actor_label=actor_label,
        action_title=lambda action: str(ACTION_TITLES[action]),
        case_status_label=status_label,
        available_actions=available_actions,
        staff_can=staff_can,
    )

    @app.context_processor
    def i18n_context() -> dict:
        return {
            "current_locale": str(get_locale()),
            "language_names": language_names(),
            "merchant_name": current_app.config["MERCHANT_NAME"],
        }
