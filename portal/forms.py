"""Field validators shared by the forms of several blueprints."""
from flask_babel import lazy_gettext as _l
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length

from portal.services.passwords import MIN_LENGTH


def _strip(value: str | None) -> str | None:
    # Phone keyboards and autofill often add a trailing space.
    return value.strip() if isinstance(value, str) else value


def email_field(label=_l("Email address")) -> EmailField:
    return EmailField(label, filters=[_strip], validators=[
        DataRequired(_l("Enter your email address.")),
        Email(_l("Enter an email address like name@example.com."), check_deliverability=False),
        Length(max=254),
    ])


def new_password_validators() -> list:
    return [
        DataRequired(_l("Enter a new password.")),
        Length(min=MIN_LENGTH, max=200, message=_l("Use at least %(min)d characters.", min=MIN_LENGTH)),
    ]
