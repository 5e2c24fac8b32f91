"""Forms of the support settings: saved replies, tone guidelines, business hours."""

from __future__ import annotations

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from portal.formatting import language_names
from portal.services import support_settings
from portal.text import lazy_text as _l


class SavedReplyForm(FlaskForm):
    """One reply; a title and a text field per shipped language come from `saved_reply_form`."""

    key = StringField(
        _l("Short name (lowercase letters, digits and underscores)"),
        validators=[InputRequired(_l("Enter a short name.")), Length(max=support_settings.KEY_MAX_LENGTH)],
    )
    position = IntegerField(_l("Position"), validators=[InputRequired(_l("Enter a number.")), NumberRange(0, 1000)])

    def language_fields(self) -> list[tuple]:
        return [(self[f"title_{code}"], self[f"body_{code}"]) for code in language_names()]

    def texts(self) -> dict[str, dict[str, str]]:
        return {
            code: {"title": self[f"title_{code}"].data or "", "body": self[f"body_{code}"].data or ""}
            for code in language_names()
        }


def saved_reply_form(**kwargs) -> SavedReplyForm:
    class Form(SavedReplyForm):
        pass

    for code, name in language_names().items():
        setattr(
            Form,
            f"title_{code}",
            StringField(
                _l("Title (%(language)s)", language=name), validators=[Length(max=support_settings.TITLE_MAX_LENGTH)]
            ),
        )
        setattr(
            Form,
            f"body_{code}",
            TextAreaField(
                _l("Reply (%(language)s)", language=name), validators=[Length(max=support_settings.BODY_MAX_LENGTH)]
            ),
        )
    return Form(**kwargs)


def form_for(reply: support_settings.Reply, **kwargs) -> SavedReplyForm:
    texts = {f"{part}_{code}": text[part] for code, text in reply.texts.items() for part in ("title", "body")}
    return saved_reply_form(prefix=f"r-{reply.key}", key=reply.key, position=reply.position, **texts, **kwargs)


def tone_form(tone: dict[str, str], **kwargs) -> FlaskForm:
    class Form(FlaskForm):
        def texts(self) -> dict[str, str]:
            return {code: self[f"tone_{code}"].data or "" for code in language_names()}

        def language_fields(self) -> list:
            return [self[f"tone_{code}"] for code in language_names()]

    for code, name in language_names().items():
        setattr(
            Form,
            f"tone_{code}",
            TextAreaField(
                _l("Tone guidelines (%(language)s)", language=name),
                validators=[Length(max=support_settings.TONE_MAX_LENGTH)],
            ),
        )
    return Form(prefix="tone", **{f"tone_{code}": text for code, text in tone.items()}, **kwargs)


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
