"""Fields, validators and error display shared by the forms of several blueprints."""

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, flash, redirect, request
from wtforms import EmailField, Field, HiddenField, IntegerField, SelectField, StringField, ValidationError
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange
from wtforms.widgets import HiddenInput, NumberInput

from portal import money
from portal.formatting import LazyMoney, language_names
from portal.models.types import MAX_ID
from portal.services.addresses import MAX_LENGTHS as ADDRESS_LENGTHS
from portal.services.addresses import AddressInput
from portal.services.errors import DomainError, NotFound
from portal.services.passwords import MAX_LENGTH, MIN_LENGTH
from portal.services.subscriptions.rules import MAX_QUANTITY
from portal.text import lazy_text as _l


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


MESSAGE_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_message_key() -> str:
    return secrets.token_urlsafe(16)


class MessageKeyFields:
    """A fresh id each time a message form is shown (the case pages' replies): the same form
    posted twice, by a double click or a retried request, is stored once."""

    key = HiddenField(default=new_message_key)

    def message_key(self) -> str | None:
        """The form's id, or none for a page from before the id (stored like any new message)."""
        return self.key.data if MESSAGE_KEY.fullmatch(self.key.data or "") else None


def quantity_field(label=_l("Quantity")) -> IntegerField:
    return IntegerField(
        label,
        default=1,
        validators=[
            InputRequired(_l("Enter a quantity.")),
            NumberRange(1, MAX_QUANTITY, _l("Choose a quantity from 1 to %(max)d.", max=MAX_QUANTITY)),
        ],
    )


class MoneyField(Field):
    """An amount typed in the currency's own unit ("12.50" EUR, "1250" JPY); `data` is integer
    minor units. The currency is the merchant's unless the view sets `currency` before validating.

    Pair it with InputRequired when an amount must be given."""

    widget = NumberInput()

    def __init__(
        self, label=None, validators=None, *, minimum_minor: int = 1, maximum_minor: int = money.MAX_MINOR, **kw
    ):
        super().__init__(label, validators, **kw)
        self.minimum_minor, self.maximum_minor = minimum_minor, maximum_minor
        self.currency: str | None = None

    def _currency(self) -> str:
        return self.currency or current_app.config["MERCHANT_CURRENCY"]

    def process_formdata(self, valuelist) -> None:
        # Converted in pre_validate, once the view has had the chance to set the currency.
        self.data = None

    def pre_validate(self, form) -> None:
        text = (self.raw_data or [""])[0]
        if not text.strip():
            return
        currency = self._currency()
        try:
            amount = money.to_minor(text, currency)
        except money.InvalidAmount as error:
            raise ValidationError(error.message) from None
        if amount < self.minimum_minor:
            raise ValidationError(_l("Enter at least %(amount)s.", amount=LazyMoney(self.minimum_minor, currency)))
        if amount > self.maximum_minor:
            raise ValidationError(_l("Enter at most %(amount)s.", amount=LazyMoney(self.maximum_minor, currency)))
        self.data = amount

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(money.from_minor(self.data, self._currency()))

    def __call__(self, **kwargs):
        currency = self._currency()
        kwargs.setdefault("step", money.step(currency))
        kwargs.setdefault("min", str(money.from_minor(self.minimum_minor, currency)))
        kwargs.setdefault("inputmode", "decimal")
        return super().__call__(**kwargs)


def version_field() -> IntegerField:
    """The subscription version a page was built from (a stale or forged one is refused)."""
    return IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(0, MAX_ID)])


def add_error(field, message) -> None:
    """A message beside a field, after the ones its validators gave (their list may be a tuple)."""
    field.errors = [*field.errors, message]


def show_error(field, error: DomainError) -> int:
    """Put a service's refusal next to the field it is about; returns the status to answer with."""
    add_error(field, error.message)
    return error.status


def show_field_errors(form, errors: dict) -> None:
    """Several messages at once, keyed by field name (an address checked as a whole)."""
    for name, message in errors.items():
        add_error(getattr(form, name), message)


def parse_prefixed_id(prefix: str, letter: str) -> int:
    """The record id in a form prefix such as "a12"; anything else is a 404."""
    digits = prefix[len(letter) :] if prefix.startswith(letter) else ""
    record_id = int(digits) if digits.isdigit() and len(digits) < 11 else 0
    if not 0 < record_id <= MAX_ID:
        raise NotFound()
    return record_id


class PerLanguageTexts:
    """A form whose text fields (its `parts`) exist once per shipped language, named `<part>_<code>`:
    `language_fields` lists them language by language for the page, `texts` reads {code: {part: text}}."""

    parts: tuple[str, ...] = ()

    def language_fields(self) -> list[tuple]:
        return [tuple(self[f"{part}_{code}"] for part in self.parts) for code in language_names()]

    def texts(self) -> dict[str, dict[str, str]]:
        return {code: {part: self[f"{part}_{code}"].data or "" for part in self.parts} for code in language_names()}


def per_language(form_class: type, **parts: tuple) -> type:
    """`form_class` with each part once per shipped language; a part is (field class, its label
    given the language's name, the longest text)."""

    class Form(form_class):
        pass

    for code, language in language_names().items():
        for part, (field_class, label, longest) in parts.items():
            setattr(Form, f"{part}_{code}", field_class(label(language), validators=[Length(max=longest)]))
    Form.parts = tuple(parts)
    return Form


@dataclass(frozen=True)
class Posted:
    """What became of a form: `response` (a redirect) once its service succeeded, else the status
    to render the page with: 200 for a GET, 400 for input the form refused, the refusal's own."""

    response: Response | None = None
    status: int = 200


def run_form(form, act: Callable[[], Any], *, error_field=None, done, to: str | Callable[[Any], str]) -> Posted:
    """Every page's post alike: the form checks the input, `act` calls the one service, a refusal
    is shown at `error_field` (or flashed when it concerns the whole form), success flashes `done`
    and redirects to `to` (or to what `to` makes of the service's result)."""
    if not form.validate_on_submit():
        return Posted(status=400 if request.method == "POST" else 200)
    try:
        result = act()
    except DomainError as error:
        if error_field is None:
            flash(error.message, "error")
            return Posted(status=error.status)
        return Posted(status=show_error(error_field, error))
    flash(done, "success")
    return Posted(response=redirect(to(result) if callable(to) else to))
