"""Forms of the merchant's messages page and of catalogue changes."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.formatting import language_names
from portal.forms import MoneyField
from portal.services import outreach
from portal.text import lazy_text as _l


class MessageSettingForm(FlaskForm):
    """One message; a subject and an introduction per shipped language come from `message_form`."""

    enabled = BooleanField(_l("Send this message"))
    days_before = IntegerField(_l("Days"), validators=[InputRequired(_l("Enter a number."))])
    preview_locale = SelectField(_l("Preview in"), validators=[Optional()])

    def language_fields(self) -> list[tuple]:
        return [(self[f"subject_{code}"], self[f"intro_{code}"]) for code in language_names()]

    def texts(self) -> dict[str, dict[str, str]]:
        return {
            code: {"subject": self[f"subject_{code}"].data or "", "intro": self[f"intro_{code}"].data or ""}
            for code in language_names()
        }


def message_form(setting: outreach.Setting, **kwargs) -> MessageSettingForm:
    class Form(MessageSettingForm):
        pass

    for code, name in language_names().items():
        setattr(
            Form,
            f"subject_{code}",
            StringField(
                _l("Subject (%(language)s)", language=name), validators=[Length(max=outreach.SUBJECT_MAX_LENGTH)]
            ),
        )
        setattr(
            Form,
            f"intro_{code}",
            TextAreaField(
                _l("Introduction (%(language)s)", language=name),
                validators=[Length(max=outreach.INTRO_MAX_LENGTH)],
            ),
        )
    texts = {
        f"{part}_{code}": text.get(part, "") for code, text in setting.texts.items() for part in ("subject", "intro")
    }
    form = Form(
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
