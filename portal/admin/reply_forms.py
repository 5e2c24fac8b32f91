"""Forms of the support settings: saved replies, tone guidelines, business hours."""

from __future__ import annotations

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import PerLanguageTexts, per_language
from portal.services import support_settings
from portal.text import lazy_text as _l


class SavedReplyForm(PerLanguageTexts, FlaskForm):
    """One reply; a title and a text field per shipped language come from `saved_reply_form`."""

    key = StringField(
        _l("Short name (lowercase letters, digits and underscores)"),
        validators=[InputRequired(_l("Enter a short name.")), Length(max=support_settings.KEY_MAX_LENGTH)],
    )
    position = IntegerField(_l("Position"), validators=[InputRequired(_l("Enter a number.")), NumberRange(0, 1000)])


def saved_reply_form(**kwargs) -> SavedReplyForm:
    return per_language(
        SavedReplyForm,
        title=(StringField, lambda name: _l("Title (%(language)s)", language=name), support_settings.TITLE_MAX_LENGTH),
        body=(TextAreaField, lambda name: _l("Reply (%(language)s)", language=name), support_settings.BODY_MAX_LENGTH),
    )(**kwargs)


def form_for(reply: support_settings.Reply, **kwargs) -> SavedReplyForm:
    texts = {f"{part}_{code}": text.get(part, "") for code, text in reply.texts.items() for part in ("title", "body")}
    return saved_reply_form(prefix=f"r-{reply.key}", key=reply.key, position=reply.position, **texts, **kwargs)


class ToneForm(PerLanguageTexts, FlaskForm):
    """The tone guidelines, a text per shipped language from `tone_form`."""

    def guidelines(self) -> dict[str, str]:
        return {code: text["tone"] for code, text in self.texts().items()}


def tone_form(tone: dict[str, str], **kwargs) -> ToneForm:
    return per_language(
        ToneForm,
        tone=(
            TextAreaField,
            lambda name: _l("Tone guidelines (%(language)s)", language=name),
            support_settings.TONE_MAX_LENGTH,
        ),
    )(prefix="tone", **{f"tone_{code}": text for code, text in tone.items()}, **kwargs)


def _hour(hour: int) -> str:
    return f"{hour}:00"


class SupportHoursForm(FlaskForm):
    days = SelectMultipleField(
        _l("Open on"), coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
    )
    start = SelectField(_l("Opens at"), coerce=int, choices=[SelectChoice(hour, _hour(hour)) for hour in range(24)])
    end = SelectField(_l("Closes at"), coerce=int, choices=[SelectChoice(hour, _hour(hour)) for hour in range(1, 25)])
    target_hours = IntegerField(
        _l("First-response target (business hours)"),
        validators=[
            InputRequired(_l("Enter a number.")),
            NumberRange(1, support_settings.MAX_TARGET_HOURS, _l("Enter a number from %(min)s to %(max)s.")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Monday is 0, as Python and config count; named in the viewer's language.
        names = get_day_names("wide", locale=get_locale())
        self.days.choices = [SelectChoice(day, names[day].capitalize()) for day in range(7)]
