from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from portal.forms import (
    AddressFields,
    MessageKeyFields,
    add_error,
    email_field,
    new_password_validators,
    quantity_field,
    version_field,
)
from portal.services import outreach
from portal.services.policy import parse_interval
from portal.text import lazy_text as _l


class SetPasswordForm(FlaskForm):
    # Only checked when the customer already has a password.
    current_password = PasswordField(_l("Current password"), validators=[Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=new_password_validators())
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[
            EqualTo("new_password", _l("The two passwords do not match.")),
        ],
    )


# --- subscription actions: each form turns its fields into the service's parameters ----------------


class ActionForm(FlaskForm):
    """Fields are echoed as hidden inputs on the preview page, so the confirm POST repeats them."""

    step = HiddenField(default="preview")
    version = version_field()

    def params(self) -> dict:
        return {}


class PauseForm(ActionForm):
    length = RadioField(_l("How long?"), validators=[InputRequired(_l("Choose how long to pause."))])
    until = DateField(_l("Resume on"), validators=[Optional()])

    def configure(self, cycle_options: list[int], unit_label) -> PauseForm:
        self.length.choices = [SelectChoice(str(n), unit_label(n)) for n in cycle_options] + [
            SelectChoice("date", _l("Until a date I choose"))
        ]
        return self

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Checked here: the field's Optional() ends its own checks when it is empty.
        if self.length.data == "date" and not self.until.data and not self.until.errors:
            add_error(self.until, _l("Choose the date to resume on."))
            valid = False
        return valid

    def params(self) -> dict:
        if self.length.data == "date":
            return {"until": self.until.data}
        return {"cycles": int(self.length.data)}


class SwapForm(ActionForm):
    item_id = SelectField(_l("Item to change"), coerce=int)
    variant_id = SelectField(_l("Change to"), coerce=int)
    quantity = quantity_field()

    def params(self) -> dict:
        return {"item_id": self.item_id.data, "variant_id": self.variant_id.data, "quantity": self.quantity.data}


class FrequencyForm(ActionForm):
    interval = RadioField(_l("Deliver"), validators=[InputRequired(_l("Choose how often."))])

    def params(self) -> dict:
        unit, count = parse_interval(self.interval.data)
        return {"unit": unit, "count": count}


class RescheduleForm(ActionForm):
    new_date = DateField(_l("New date for your next order"), validators=[InputRequired(_l("Choose a date."))])

    def params(self) -> dict:
        return {"new_date": self.new_date.data}


class AddressForm(AddressFields, FlaskForm):
    apply_to_all = BooleanField(_l("Use this address for all my subscriptions"))


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=200)])
    phone = TelField(_l("Phone (optional)"), validators=[Length(max=32)])
    locale = SelectField(_l("Language"))


class EmailChangeForm(FlaskForm):
    email = email_field(_l("New email address"))


# --- cancellation ---------------------------------------------------------------------------------


class CancelReasonForm(FlaskForm):
    reason = RadioField(_l("Why do you want to cancel?"), validators=[Optional()])
    details = TextAreaField(_l("Anything you would like to tell us? (optional)"), validators=[Length(max=2000)])


class CancelOfferForm(FlaskForm):
    version = version_field()


class CancelConfirmForm(FlaskForm):
    version = version_field()
    mode = RadioField(_l("When should it end?"), validators=[InputRequired(_l("Choose when it should end."))])
    on_date = DateField(_l("End on"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.mode.data == "date" and not self.on_date.data and not self.on_date.errors:
            add_error(self.on_date, _l("Choose the date to end on."))
            valid = False
        return valid


# --- talking to a person --------------------------------------------------------------------------


class HelpForm(FlaskForm):
    topic = RadioField(_l("What is it about?"), validators=[InputRequired(_l("Choose what it is about."))])
    message = TextAreaField(_l("Your message"), validators=[Length(max=10000)])
    source = HiddenField()
    attempt = IntegerField(widget=HiddenInput(), validators=[Optional()])


class CaseReplyForm(MessageKeyFields, FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[Length(max=10000)])


class MessagesForm(FlaskForm):
    wanted = SelectMultipleField(
        _l("Emails I want"), widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
    )


def messages_form(customer, formdata=None) -> MessagesForm:
    """The optional messages as checkboxes, ticked as the subscriber has them (or as posted)."""
    form = MessagesForm(prefix="messages", formdata=formdata, wanted=sorted(outreach.wanted(customer.id)))
    form.wanted.choices = [(code, str(outreach.KINDS[code].label)) for code in outreach.OPTIONAL_KINDS]
    return form
