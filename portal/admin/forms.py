from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
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
    order_cutoff_days = IntegerField(
        _l("Order cut-off (days before the order date)"), validators=[InputRequired(_l("Enter a number."))]
    )
    pause_cycle_options = StringField(
        _l("Pause lengths offered (deliveries, comma-separated)"),
        validators=[InputRequired(_l("Enter at least one number."))],
    )
    max_pause_days = IntegerField(
        _l("Longest pause to a chosen date (days)"), validators=[InputRequired(_l("Enter a number."))]
    )
    max_consecutive_skips = IntegerField(
        _l("Most orders skipped in a row"), validators=[InputRequired(_l("Enter a number."))]
    )
    allowed_intervals = StringField(
        _l("Frequencies offered (e.g. 2w, 4w, 1m)"), validators=[InputRequired(_l("Enter at least one frequency."))]
    )
    reschedule_window_days = IntegerField(
        _l("How far ahead the next order may be moved (days)"), validators=[InputRequired(_l("Enter a number."))]
    )
    simple_cancellation = BooleanField(_l("Simple cancellation: reason optional, no offers"))
    discount_cooldown_days = IntegerField(
        _l("Days before a customer can be offered a discount again"), validators=[InputRequired(_l("Enter a number."))]
    )
    dunning_retry_days = StringField(
        _l("Retry a failed payment after (days, comma-separated)"),
        validators=[InputRequired(_l("Enter at least one number."))],
    )
    dunning_final_action = SelectField(
        _l("After the last failed retry"),
        choices=[
            SelectChoice("pause", _l("Pause the subscription")),
            SelectChoice("cancel", _l("Cancel the subscription")),
        ],
    )

    agent_credit_limit = DecimalField(
        _l("Credit an agent may give per case without approval"),
        places=2,
        validators=[InputRequired(_l("Enter a number.")), NumberRange(0, 100000)],
    )

    def validate_dunning_retry_days(self, field) -> None:
        self.validate_pause_cycle_options(field)

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
            "allowed_intervals": [
                part.strip().lower() for part in self.allowed_intervals.data.split(",") if part.strip()
            ],
            "reschedule_window_days": self.reschedule_window_days.data,
            "simple_cancellation": bool(self.simple_cancellation.data),
            "discount_cooldown_days": self.discount_cooldown_days.data,
            "dunning_retry_days": _int_list(self.dunning_retry_days.data),
            "dunning_final_action": self.dunning_final_action.data,
            "agent_credit_limit_minor": int(self.agent_credit_limit.data * 100),
        }


class SwapTargetsForm(FlaskForm):
    targets = SelectMultipleField(
        _l("Subscribers may also swap to"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


OFFER_CHOICES = [
    SelectChoice("pause", _l("Pause")),
    SelectChoice("skip", _l("Skip the next order")),
    SelectChoice("swap", _l("Swap to another product")),
    SelectChoice("frequency", _l("Deliver less often")),
    SelectChoice("discount", _l("Discount")),
    SelectChoice("talk", _l("Talk to a person")),
]


class CancelReasonForm(FlaskForm):
    code = StringField(_l("Code"), validators=[InputRequired(_l("Enter a code.")), Length(max=40)])
    position = IntegerField(_l("Position"), validators=[InputRequired(_l("Enter a number."))])
    enabled = BooleanField(_l("Offered to subscribers"))
    label_en = StringField("English", validators=[Length(max=200)])
    label_es = StringField("Español", validators=[Length(max=200)])
    label_de = StringField("Deutsch", validators=[Length(max=200)])
    offers = SelectMultipleField(
        _l("Offers (at most two)"),
        choices=OFFER_CHOICES,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    discount_percent = IntegerField(_l("Discount percent"), default=15, validators=[Optional(), NumberRange(1, 100)])
    discount_orders = IntegerField(
        _l("Discount on how many orders"), default=2, validators=[Optional(), NumberRange(1, 12)]
    )

    def labels(self) -> dict[str, str]:
        return {"en": self.label_en.data or "", "es": self.label_es.data or "", "de": self.label_de.data or ""}

    def offer_specs(self) -> list[dict]:
        specs = []
        for kind in self.offers.data or []:
            spec = {"type": kind}
            if kind == "discount":
                spec.update(percent=self.discount_percent.data or 15, orders=self.discount_orders.data or 2)
            specs.append(spec)
        return specs
