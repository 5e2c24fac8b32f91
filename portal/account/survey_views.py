"""Ratings from inside the portal: a self-serve action from its confirmation, a case from its page."""

from __future__ import annotations

from flask import abort, flash, has_request_context, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import current_actor, customer_required
from portal.account.help_views import case_page
from portal.account.views import bp
from portal.forms import show_error
from portal.services import handoff, surveys
from portal.services.errors import DomainError
from portal.surveys.forms import RatingForm


@bp.app_context_processor
def rating_prompt():
    """The rating a confirmation page offers: pages reached after a self-serve change carry
    `?rated=<its audit event>`."""
    if not has_request_context():  # an email rendered by a job
        return {}
    event_id = request.args.get("rated", type=int)
    if event_id is None or not (current_user.is_authenticated and current_user.is_customer):
        return {}
    return {"rating_prompt": surveys.rating_prompt(current_user.customer, event_id), "one_tap_form": RatingForm()}


@bp.route("/feedback/<int:event_id>", methods=["GET", "POST"])
@customer_required
def rate_action(event_id: int):
    prompt = surveys.rating_prompt(current_user.customer, event_id)
    if prompt is None:
        abort(404)
    form = RatingForm().configure()
    status = 200
    if form.validate_on_submit():
        try:
            surveys.rate_action(current_actor(), current_user.customer, event_id, form.score.data, form.given_comment())
        except DomainError as error:
            status = show_error(form.score, error)
        else:
            flash(_("Thank you for your rating. You can add a comment or change it here."), "success")
            return redirect(url_for("account.rate_action", event_id=event_id))
    elif request.method == "POST":
        status = 400
    else:
        form.score.data = prompt.score
    return render_template("account/rate_action.html", form=form, prompt=prompt), status


@bp.route("/cases/<int:case_id>/rating", methods=["POST"])
@customer_required
def rate_case(case_id: int):
    found = handoff.get_customer_case(current_user.customer, case_id)
    form = RatingForm().configure()
    if form.validate_on_submit():
        try:
            surveys.rate_case(current_actor(), current_user.customer, found, form.score.data, form.given_comment())
        except DomainError as error:
            return case_page(found, rating_form=form, status=show_error(form.score, error))
        flash(_("Thank you for your rating."), "success")
        return redirect(url_for("account.case", case_id=found.id))
    return case_page(found, rating_form=form, status=400)
