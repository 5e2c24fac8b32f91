from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import EqualTo, Length

from portal.forms import new_password_validators


class SetPasswordForm(FlaskForm):
    # Only checked when the customer already has a password.
    current_password = PasswordField(_l("Current password"), validators=[Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=new_password_validators())
    confirm_password = PasswordField(_l("Repeat the new password"), validators=[
        EqualTo("new_password", _l("The two passwords do not match.")),
    ])
