"""Field validators shared by the forms of several blueprints."""
from flask_babel import lazy_gettext as _l
from wtforms.validators import DataRequired, Email, Length

from portal.services.passwords import MIN_LENGTH


def email_validators() -> list:
    return [
        DataRequired(_l("Enter your email address.")),
        Email(_l("Enter an email address like name@example.com."), check_deliverability=False),
        Length(max=254),
    ]


def new_password_validators() -> list:
    return [
        DataRequired(_l("Enter a new password.")),
        Length(min=MIN_LENGTH, max=200, message=_l("Use at least %(min)d characters.", min=MIN_LENGTH)),
    ]
