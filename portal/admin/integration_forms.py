"""Forms of the merchant's integrations page: API keys, webhook endpoints and links."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import email_field
from portal.services import api_keys, bulk_links
from portal.text import lazy_text as _l

SCOPE_LABELS = {
    "read": _l("read: customers, subscriptions, orders, links"),
    "write": _l("write: act on subscriptions"),
    "links": _l("links: make and revoke sign-in and action links"),
}
ACTION_LABELS = {
    "sign_in": _l("Sign in"),
    "update_card": _l("Update the card"),
    "skip": _l("Skip the next order"),
    "unskip": _l("Restore the next order"),
    "pause": _l("Pause"),
    "resume": _l("Resume"),
    "reactivate": _l("Reactivate"),
    "keep": _l("Keep the subscription"),
    "order_now": _l("Order now"),
}


class ApiKeyForm(FlaskForm):
    name = StringField(
        _l("Name (what uses it)"),
        validators=[InputRequired(_l("Enter a name.")), Length(max=api_keys.NAME_MAX_LENGTH)],
    )
    scopes = SelectMultipleField(
        _l("Scopes"),
        choices=[SelectChoice(scope, SCOPE_LABELS[scope]) for scope in api_keys.SCOPES],
        validators=[InputRequired(_l("Choose at least one scope."))],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class WebhookForm(FlaskForm):
    url = StringField(
        _l("Endpoint URL"), validators=[InputRequired(_l("Enter the endpoint's address.")), Length(max=500)]
    )


class RevokeLinksForm(FlaskForm):
    email = email_field(_l("Customer's email address"))


class RevokeOneLinkForm(FlaskForm):
    link = StringField(
        _l("The link, as the customer got it"),
        validators=[InputRequired(_l("Paste the link.")), Length(max=500)],
        description=_l("It starts with your portal's address and /l/."),
    )

    def link_id(self) -> int | None:
        """The link's id from a pasted link (or its path); None when it is not one of ours."""
        found = re.search(r"/l/(\d{1,10})/", self.link.data or "")
        return int(found.group(1)) if found else None


class BulkLinksForm(FlaskForm):
    file = FileField(_l("CSV of emails or customer ids"), validators=[FileRequired(_l("Choose a CSV file."))])
    action = SelectField(
        _l("Action"), choices=[SelectChoice(action, ACTION_LABELS[action]) for action in bulk_links.BULK_ACTIONS]
    )
    next_path = StringField(_l("Page to open (sign-in links only)"), validators=[Optional(), Length(max=500)])
