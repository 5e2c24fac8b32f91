from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from portal.models import StaffRole
from portal.services.passwords import MIN_LENGTH

ROLE_CHOICES = [
    SelectChoice(StaffRole.AGENT.value, _l("Agent")),
    SelectChoice(StaffRole.MANAGER.value, _l("Manager")),
    SelectChoice(StaffRole.ADMIN.value, _l("Admin")),
]


class StaffCreateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=200)])
    email = EmailField(_l("Email address"), validators=[
        DataRequired(_l("Enter your email address.")),
        Email(_l("Enter an email address like name@example.com."), check_deliverability=False),
        Length(max=254),
    ])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    password = PasswordField(_l("Initial password"), validators=[
        DataRequired(_l("Enter a new password.")),
        Length(min=MIN_LENGTH, max=200, message=_l("Use at least %(min)d characters.", min=MIN_LENGTH)),
    ])


class StaffRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
