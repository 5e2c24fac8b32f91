"""What templates may call: formatting filters, translated labels, and read-only questions for
services (which actions a subscription offers, what a staff member may open)."""

from __future__ import annotations

from flask import Flask, current_app, g
from flask_babel import get_locale, get_translations
from flask_login import current_user
from markupsafe import Markup

from portal.formatting import language_names, local_date, money, percent
from portal.i18n import (
    action_label,
    action_title,
    actor_label,
    channel_label,
    country_name,
    interval_label,
    refusal_text,
    status_label,
)
from portal.models import StaffRole
from portal.services.subscriptions import available_actions


def staff_can(role: str) -> bool:
    """Whether the signed-in staff member's role includes `role` (the hierarchy lives in StaffRole)."""
    return bool(
        current_user.is_authenticated and current_user.is_staff and current_user.staff.role.includes(StaffRole(role))
    )


def status_badge(status) -> Markup:
    """A status as a coloured label: a helper rather than a macro, since a page shows dozens."""
    return Markup('<span class="badge badge--{}">{}</span>').format(status.value, status_label(status))


# The catalogue of the locale in force, for templates. Flask-Babel finds it through several
# context lookups per string; a page has a hundred strings.
def _catalogue():
    babel_state = g.get("_flask_babel")
    locale = getattr(babel_state, "babel_locale", None)
    if locale is None:
        return get_translations()
    # Remembered for the request's locale object (`force_locale` puts another one in its place).
    cached = getattr(babel_state, "portal_catalogue", None)
    if cached is not None and cached[0] is locale:
        return cached[1]
    catalogue = get_translations()
    babel_state.portal_catalogue = (locale, catalogue)
    return catalogue


def _template_gettext(message: str) -> str:
    return _catalogue().ugettext(message)


def _template_ngettext(singular: str, plural: str, num: int) -> str:
    return _catalogue().ungettext(singular, plural, num)


def register_template_helpers(app: Flask) -> None:
    # Same translations as Flask-Babel's (it follows `force_locale` too), found faster.
    app.jinja_env.install_gettext_callables(_template_gettext, _template_ngettext, newstyle=True)
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["country_name"] = country_name
    app.jinja_env.globals.update(
        status_label=status_label,
        status_badge=status_badge,
        interval_label=interval_label,
        action_label=action_label,
        actor_label=actor_label,
        channel_label=channel_label,
        refusal_text=refusal_text,
        action_title=action_title,
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
