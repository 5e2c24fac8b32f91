from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField
from wtforms.validators import DataRequired, Length

from portal.forms import email_field
from portal.text import lazy_text as _l


class EmailLinkForm(FlaskForm):
    email = email_field()
    next = HiddenField()


class PasswordLoginForm(FlaskForm):
    email = email_field()
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=200),
        ],
    )
    next = HiddenField()


class ConfirmForm(FlaskForm):
    """A button and its CSRF token: used where a POST confirms what a GET showed."""

    next = HiddenField()
