from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SearchField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.forms import new_password_validators


class CustomerSearchForm(FlaskForm):
    class Meta:
        # A search is a GET that changes nothing, so it carries no CSRF token.
        csrf = False

    q = SearchField(_l("Find a customer"), validators=[Length(max=200)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password."))])
    new_password = PasswordField(_l("New password"), validators=new_password_validators())
    confirm_password = PasswordField(_l("Repeat the new password"), validators=[
        EqualTo("new_password", _l("The two passwords do not match.")),
    ])
