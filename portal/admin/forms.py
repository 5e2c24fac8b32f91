from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.formatting import language_names
from portal.forms import MoneyField, PerLanguageTexts, email_field, new_password_validators, per_language
from portal.models import StaffRole
from portal.services import cancel_reasons, help_answers
from portal.services.policy import MAX_AGENT_CREDIT_LIMIT_MINOR
from portal.services.subscriptions.rules import DISCOUNT_ORDERS_RANGE, DISCOUNT_PERCENT_RANGE
from portal.text import lazy_text as _l

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

    agent_credit_limit = MoneyField(
        _l("Credit an agent may give per case without approval"),
        validators=[InputRequired(_l("Enter a number."))],
        minimum_minor=0,
        maximum_minor=MAX_AGENT_CREDIT_LIMIT_MINOR,
    )

    sign_in_link_minutes = IntegerField(
        _l("Sign-in links in emails work for (minutes)"), validators=[InputRequired(_l("Enter a number."))]
    )
    action_link_hours = IntegerField(
        _l("Action links in emails (skip, pause, update card) work for (hours)"),
        validators=[InputRequired(_l("Enter a number."))],
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
            "agent_credit_limit_minor": self.agent_credit_limit.data,
            "sign_in_link_minutes": self.sign_in_link_minutes.data,
            "action_link_hours": self.action_link_hours.data,
        }


class SwapTargetsForm(FlaskForm):
    targets = SelectMultipleField(
        _l("Subscribers may also swap to"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class CancelReasonForm(FlaskForm):
    """One reason; a label field per shipped language is added by `cancel_reason_form`."""

    code = StringField(
        _l("Code"), validators=[InputRequired(_l("Enter a code.")), Length(max=cancel_reasons.CODE_MAX_LENGTH)]
    )
    position = IntegerField(_l("Position"), validators=[InputRequired(_l("Enter a number.")), NumberRange(0, 1000)])
    enabled = BooleanField(_l("Offered to subscribers"))
    offers = SelectMultipleField(
        _l("Offers (at most %(max)d)", max=cancel_reasons.MAX_OFFERS),
        choices=[SelectChoice(kind, label) for kind, label in cancel_reasons.OFFER_LABELS.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    discount_percent = IntegerField(
        _l("Discount percent"),
        default=cancel_reasons.DEFAULT_DISCOUNT["percent"],
        validators=[Optional(), NumberRange(*DISCOUNT_PERCENT_RANGE)],
    )
    discount_orders = IntegerField(
        _l("Discount on how many orders"),
        default=cancel_reasons.DEFAULT_DISCOUNT["orders"],
        validators=[Optional(), NumberRange(*DISCOUNT_ORDERS_RANGE)],
    )

    @property
    def label_fields(self) -> list:
        return [field for field in self if field.name.endswith(tuple(f"label_{code}" for code in language_names()))]

    def labels(self) -> dict[str, str]:
        return {code: self[f"label_{code}"].data or "" for code in language_names()}

    def offer_specs(self) -> list[dict]:
        specs = []
        for kind in self.offers.data or []:
            spec = {"type": kind}
            if kind == "discount":
                spec.update(
                    percent=self.discount_percent.data or cancel_reasons.DEFAULT_DISCOUNT["percent"],
                    orders=self.discount_orders.data or cancel_reasons.DEFAULT_DISCOUNT["orders"],
                )
            specs.append(spec)
        return specs


def cancel_reason_form(**kwargs) -> CancelReasonForm:
    """The reason form with a label field for each shipped language, named in that language."""

    class Form(CancelReasonForm):
        pass

    for code, name in language_names().items():
        setattr(Form, f"label_{code}", StringField(name, validators=[Length(max=cancel_reasons.LABEL_MAX_LENGTH)]))
    return Form(**kwargs)


class HelpAnswerForm(PerLanguageTexts, FlaskForm):
    """One help answer; a title and an answer field per shipped language come from `help_answer_form`."""

    topic = SelectField(_l("Topic"))
    refusal_codes = StringField(
        _l("Shown first beside these refusals (codes, comma-separated)"), validators=[Length(max=500)]
    )
    position = IntegerField(_l("Position"), validators=[InputRequired(_l("Enter a number.")), NumberRange(0, 1000)])
    enabled = BooleanField(_l("Shown to subscribers"))

    def codes(self) -> list[str]:
        return [part.strip() for part in (self.refusal_codes.data or "").split(",") if part.strip()]


def help_answer_form(topics: dict, **kwargs) -> HelpAnswerForm:
    form = per_language(
        HelpAnswerForm,
        title=(StringField, lambda name: _l("Question (%(language)s)", language=name), help_answers.TITLE_MAX_LENGTH),
        body=(TextAreaField, lambda name: _l("Answer (%(language)s)", language=name), help_answers.BODY_MAX_LENGTH),
    )(**kwargs)
    form.topic.choices = [(code, str(label)) for code, label in topics.items()]
    return form
