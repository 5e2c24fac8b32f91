from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

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


def _int_list(text: str) -> list[int]:
    return [int(part) for part in text.replace(" ", "").split(",") if part]


class PolicyForm(FlaskForm):
    order_cutoff_days = IntegerField(_l("Order cut-off (days before the order date)"),
                                     validators=[InputRequired(_l("Enter a number."))])
    pause_cycle_options = StringField(_l("Pause lengths offered (deliveries, comma-separated)"),
                                      validators=[InputRequired(_l("Enter at least one number."))])
    max_pause_days = IntegerField(_l("Longest pause to a chosen date (days)"),
                                  validators=[InputRequired(_l("Enter a number."))])
    max_consecutive_skips = IntegerField(_l("Most orders skipped in a row"),
                                         validators=[InputRequired(_l("Enter a number."))])
    allowed_intervals = StringField(_l("Frequencies offered (e.g. 2w, 4w, 1m)"),
                                    validators=[InputRequired(_l("Enter at least one frequency."))])
    reschedule_window_days = IntegerField(_l("How far ahead the next order may be moved (days)"),
                                          validators=[InputRequired(_l("Enter a number."))])

    def validate_pause_cycle_options(self, field) -> None:
        try:
            _int_list(field.data)
        except ValueError:
            raise ValidationError(_l("Use whole numbers separated by commas, like 1, 2, 3.")) from None

    def values(self) -> dict:
        return {
            "order_cutoff_days": self.order_cutoff_days.data,
            "pause_cycle_options": _int_list(self.pause_cycle_options.data),
            "max_pause_days": self.max_pause_days.data,
            "max_consecutive_skips": self.max_consecutive_skips.data,
            "allowed_intervals": [part.strip().lower() for part in self.allowed_intervals.data.split(",")
                                  if part.strip()],
            "reschedule_window_days": self.reschedule_window_days.data,
        }


class SwapTargetsForm(FlaskForm):
    targets = SelectMultipleField(_l("Subscribers may also swap to"), coerce=int,
                                  widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
