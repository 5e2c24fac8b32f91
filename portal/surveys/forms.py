"""The rating form every survey uses: a score on the survey's scale and an optional comment."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from portal.services.surveys import COMMENT_MAX_LENGTH, CSAT_SCALE
from portal.text import lazy_text as _l


class RatingForm(FlaskForm):
    score = RadioField(coerce=int, validators=[InputRequired(_l("Choose a rating."))])
    comment = TextAreaField(
        _l("Anything you would like to add? (optional)"), validators=[Length(max=COMMENT_MAX_LENGTH)]
    )

    def configure(self, scale: range = CSAT_SCALE, label=None) -> RatingForm:
        self.score.choices = [SelectChoice(score, str(score)) for score in scale]
        self.score.label.text = label or _l("How happy are you with it?")
        return self

    def given_comment(self) -> str | None:
        """None when the form had no comment box (a one-tap rating), so an earlier comment stays."""
        return self.comment.data if self.comment.raw_data else None
