"""Forms of the merchant's messages page and of catalogue changes."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from portal.formatting import language_names
from portal.forms import MoneyField, PerLanguageTexts, per_language
from portal.services import outreach
from portal.text import lazy_text as _l


class MessageSettingForm(PerLanguageTexts, FlaskForm):
    """One message; a subject and an introduction per shipped language come from `message_form`."""

    enabled = BooleanField(_l("Send this message"))
    days_before = IntegerField(_l("Days"), validators=[InputRequired(_l("Enter a number."))])
    preview_locale = SelectField(_l("Preview in"), validators=[Optional()])


def message_form(setting: outreach.Setting, **kwargs) -> MessageSettingForm:
    form_class = per_language(
        MessageSettingForm,
        subject=(StringField, lambda name: _l("Subject (%(language)s)", language=name), outreach.SUBJECT_MAX_LENGTH),
        intro=(TextAreaField, lambda name: _l("Introduction (%(language)s)", language=name), outreach.INTRO_MAX_LENGTH),
    )
    texts = {
        f"{part}_{code}": text.get(part, "") for code, text in setting.texts.items() for part in ("subject", "intro")
    }
    form = form_class(
        prefix=setting.kind.code,
        **{"enabled": setting.enabled, "days_before": setting.days_before, **texts, **kwargs},
    )
    form.days_before.label.text = setting.kind.timing_label
    form.preview_locale.choices = list(language_names().items())
    return form


class CatalogChangeForm(FlaskForm):
    variant_id = SelectField(_l("Product"), coerce=int, validators=[InputRequired(_l("Choose a product."))])
    kind = RadioField(
        _l("Change"),
        choices=[("price", _l("New price")), ("discontinued", _l("No longer sold"))],
        validators=[InputRequired(_l("Choose the change."))],
    )
    new_price = MoneyField(_l("New price (for a price change)"), validators=[Optional()])
    effective_on = DateField(_l("From"), validators=[InputRequired(_l("Choose a date."))])
