from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SearchField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.services.passwords import MIN_LENGTH


class CustomerSearchForm(FlaskForm):
    class Meta:
        # A search is a GET that changes nothing, so it carries no CSRF token.
        csrf = False

    q = SearchField(_l("Find a customer"), validators=[Length(max=200)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password."))])
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a new password.")),
        Length(min=MIN_LENGTH, max=200, message=_l("Use at least %(min)d characters.", min=MIN_LENGTH)),
    ])
    confirm_password = PasswordField(_l("Repeat the new password"), validators=[
        EqualTo("new_password", _l("The two passwords do not match.")),
    ])
