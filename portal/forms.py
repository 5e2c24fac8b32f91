"""Fields, validators and error display shared by the forms of several blueprints."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange
from wtforms.widgets import HiddenInput

from portal.models.types import MAX_ID
from portal.services.addresses import MAX_LENGTHS as ADDRESS_LENGTHS
from portal.services.addresses import AddressInput
from portal.services.errors import DomainError, NotFound
from portal.services.passwords import MAX_LENGTH, MIN_LENGTH
from portal.services.subscriptions.rules import MAX_QUANTITY


def _strip(value: str | None) -> str | None:
    # Phone keyboards and autofill often add a trailing space.
    return value.strip() if isinstance(value, str) else value


def email_field(label=_l("Email address")) -> EmailField:
    return EmailField(
        label,
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter your email address.")),
            Email(_l("Enter an email address like name@example.com."), check_deliverability=False),
            Length(max=254),
        ],
    )


def new_password_validators() -> list:
    return [
        DataRequired(_l("Enter a new password.")),
        Length(min=MIN_LENGTH, max=MAX_LENGTH, message=_l("Use at least %(min)d characters.", min=MIN_LENGTH)),
    ]


class AddressFields:
    """The fields of a shipping address, shared by the subscriber's and the agent's forms.

    (WTForms collects fields from every base class, so a plain mixin is enough.)"""

    name = StringField(_l("Full name"), validators=[Length(max=ADDRESS_LENGTHS["name"])])
    line1 = StringField(_l("Street and number"), validators=[Length(max=ADDRESS_LENGTHS["line1"])])
    line2 = StringField(_l("Apartment, floor (optional)"), validators=[Length(max=ADDRESS_LENGTHS["line2"])])
    postal_code = StringField(_l("Postal code"), validators=[Length(max=ADDRESS_LENGTHS["postal_code"])])
    city = StringField(_l("Town or city"), validators=[Length(max=ADDRESS_LENGTHS["city"])])
    region = StringField(_l("State or province (if needed)"), validators=[Length(max=ADDRESS_LENGTHS["region"])])
    country = SelectField(_l("Country"))

    def address_input(self) -> AddressInput:
        return AddressInput(
            **{
                name: getattr(self, name).data or ""
                for name in ("name", "line1", "line2", "city", "region", "postal_code", "country")
            }
        )


def quantity_field(label=_l("Quantity")) -> IntegerField:
    return IntegerField(
        label,
        default=1,
        validators=[
            InputRequired(_l("Enter a quantity.")),
            NumberRange(1, MAX_QUANTITY, _l("Choose a quantity from 1 to %(max)d.", max=MAX_QUANTITY)),
        ],
    )


def version_field() -> IntegerField:
    """The subscription version a page was built from (a stale or forged one is refused)."""
    return IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(0, MAX_ID)])


def show_error(field, error: DomainError) -> int:
    """Put a service's refusal next to the field it is about; returns the status to answer with."""
    field.errors = [*field.errors, error.message]
    return error.status


def show_field_errors(form, errors: dict) -> None:
    """Several messages at once, keyed by field name (an address checked as a whole)."""
    for name, message in errors.items():
        field = getattr(form, name)
        field.errors = [*field.errors, message]


def parse_prefixed_id(prefix: str, letter: str) -> int:
    """The record id in a form prefix such as "a12"; anything else is a 404."""
    digits = prefix[len(letter) :] if prefix.startswith(letter) else ""
    record_id = int(digits) if digits.isdigit() and len(digits) < 11 else 0
    if not 0 < record_id <= MAX_ID:
        raise NotFound()
    return record_id
