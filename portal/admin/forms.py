from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from portal.forms import email_field, new_password_validators
from portal.models import StaffRole

ROLE_CHOICES = [
    SelectChoice(StaffRole.AGENT.value, _l("Agent")),
    SelectChoice(StaffRole.MANAGER.value, _l("Manager")),
    SelectChoice(StaffRole.ADMIN.value, _l("Admin")),
]


class StaffCreateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=200)])
    email = email_field()
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    password = PasswordField(_l("Initial password"), validators=new_password_validators())


class StaffRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
