"""One-tap survey links from emails: no sign-in needed, because the token answers its own survey
and nothing else. The GET shows the choice with a confirm button (mail scanners open links);
only the POST records it."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.errors import expired_link_page
from portal.extensions import limiter
from portal.forms import show_error
from portal.models import SurveyKind
from portal.services import surveys
from portal.services.errors import DomainError
from portal.surveys.forms import RatingForm
from portal.web import request_id

bp = Blueprint("surveys", __name__)


def question_label(kind: SurveyKind):
    if kind is SurveyKind.NPS:
        return _("How likely are you to recommend us to a friend or colleague? (0 = not at all, 10 = extremely)")
    return _("How happy are you with how we handled it? (1 = very unhappy, 5 = very happy)")


def _survey_limit() -> str:
    return current_app.config["SURVEY_RATE_LIMIT"]


@bp.route("/survey/<token>", methods=["GET", "POST"])
@limiter.limit(_survey_limit)
def answer(token: str):
    try:
        survey = surveys.check_link(token)
    except DomainError as error:
        return expired_link_page(error)
    form = RatingForm().configure(surveys.scale_of(survey.kind), question_label(survey.kind))
    status = 200
    if form.validate_on_submit():
        try:
            surveys.answer_link(token, form.score.data, form.given_comment(), request_id())
        except DomainError as error:
            status = show_error(form.score, error)
        else:
            flash(_("Thank you, your answer is saved. You can change it here at any time."), "success")
            return redirect(url_for("surveys.answer", token=token))
    elif request.method == "POST":
        status = 400
    elif survey.score is not None:
        form.score.data, form.comment.data = survey.score, survey.comment
    elif request.args.get("score", type=int) in surveys.scale_of(survey.kind):
        form.score.data = request.args.get("score", type=int)
    return render_template("surveys/answer.html", form=form, survey=survey), status
