from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length

from portal.forms import email_validators


class EmailLinkForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=email_validators())
    next = HiddenField()


class PasswordLoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=email_validators())
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Enter your password.")), Length(max=200),
    ])
    next = HiddenField()


class ConfirmForm(FlaskForm):
    """A button and its CSRF token: used where a POST confirms what a GET showed."""

    next = HiddenField()
