from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional

from portal.account.forms import CancelConfirmForm
from portal.forms import AddressFields, MessageKeyFields, MoneyField, new_password_validators
from portal.services.credits import MAX_CREDIT_MINOR
from portal.services.payments import REASON_MAX_LENGTH
from portal.text import lazy_text as _l


class CustomerSearchForm(FlaskForm):
    class Meta:
        # A search is a GET that changes nothing, so it carries no CSRF token.
        csrf = False

    q = SearchField(_l("Find a customer"), validators=[Length(max=200)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )
    new_password = PasswordField(_l("New password"), validators=new_password_validators())
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[
            EqualTo("new_password", _l("The two passwords do not match.")),
        ],
    )


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET that only filters

    status = SelectField(_l("Status"), validators=[Optional()])
    channel = SelectField(_l("Channel"), validators=[Optional()])
    assignee = SelectField(_l("Assignee"), validators=[Optional()])
    breached = BooleanField(_l("Only cases past the response target"))


class ReplyForm(MessageKeyFields, FlaskForm):
    saved_reply = SelectField(_l("Saved reply"), validators=[Optional()])
    body = TextAreaField(_l("Reply to the customer"), validators=[Length(max=10000)])


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note (the customer does not see it)"), validators=[Length(max=10000)])


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"))


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assign to"), coerce=int)


class CreditForm(FlaskForm):
    amount = MoneyField(
        _l("Credit amount"), validators=[InputRequired(_l("Enter an amount."))], maximum_minor=MAX_CREDIT_MINOR
    )
    reason = StringField(_l("Reason"), validators=[InputRequired(_l("Enter a reason.")), Length(max=REASON_MAX_LENGTH)])


class RefundForm(FlaskForm):
    order_id = SelectField(_l("Paid order"), coerce=int)
    # In the chosen order's currency (the view sets it); the service caps it at what was paid.
    amount = MoneyField(_l("Amount to refund"), validators=[InputRequired(_l("Enter an amount."))])
    reason = StringField(_l("Reason"), validators=[InputRequired(_l("Enter a reason.")), Length(max=300)])


class CancelOnBehalfForm(CancelConfirmForm):
    """The subscriber's last cancel step, with the reason they gave the agent."""

    reason = SelectField(_l("Reason the customer gave"), validators=[Optional()])
    details = TextAreaField(_l("In their words (optional)"), validators=[Length(max=2000)])
    step = HiddenField(default="preview")


class AddressOnBehalfForm(AddressFields, FlaskForm):
    subscription_id = SelectField(_l("For"), coerce=int)
