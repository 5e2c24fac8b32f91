"""Talking to a person: open a case from anywhere in the portal, follow it, reply in it."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import current_actor, customer_required
from portal.account.forms import CaseReplyForm, HelpForm
from portal.account.views import bp
from portal.errors import error_response, wants_json
from portal.formatting import local_date
from portal.forms import new_message_key, run_form, show_error
from portal.services import handoff, help_answers, surveys
from portal.services.errors import DomainError
from portal.surveys.forms import RatingForm
from portal.web import after_id, safe_next


@bp.route("/help", methods=["GET", "POST"])
@customer_required
def help_request():
    form = HelpForm()
    form.topic.choices = [(code, str(label)) for code, label in handoff.ISSUE_TYPES.items()]
    if request.method == "GET":
        # Asking right after a self-serve step failed is asking about that step.
        asked = request.args.get("topic") if request.args.get("topic") in handoff.ISSUE_TYPES else None
        form.topic.data = handoff.failed_step_topic(current_user.customer) or asked
        form.source.data = safe_next(request.args.get("from"), "")
        form.attempt.data = request.args.get("attempt", type=int)
    posted = run_form(
        form,
        lambda: handoff.open_case(
            current_actor(),
            current_user.customer,
            issue_type=form.topic.data,
            message=form.message.data,
            source_page=safe_next(form.source.data, "") or None,
            cancel_attempt_id=form.attempt.data or None,
        ),
        error_field=form.message,
        done=_("Thank you. A person will answer here and by email, usually within one working day."),
        to=lambda case: url_for("account.case", case_id=case.id),
    )
    if posted.response:
        return posted.response
    query = (request.args.get("q") or "")[:200]
    answers = (
        help_answers.show(current_user.customer, "help", topic=form.topic.data, query=query)
        if request.method == "GET"
        else []
    )
    return render_template("account/help.html", form=form, answers=answers, query=query), posted.status


@bp.route("/cases")
@customer_required
def cases():
    return render_template("account/cases.html", cases=handoff.customer_cases(current_user.customer))


@bp.route("/cases/<int:case_id>", methods=["GET", "POST"])
@customer_required
def case(case_id: int):
    """The case page; its script posts the reply asking for JSON and stays on the page."""
    found = handoff.get_customer_case(current_user.customer, case_id)
    form = CaseReplyForm()
    status = 200
    if form.validate_on_submit():
        try:
            handoff.customer_reply(current_actor(), current_user.customer, found, form.body.data, form.message_key())
        except DomainError as error:
            status = show_error(form.body, error)
        else:
            if wants_json():
                return jsonify({"key": new_message_key(), "message": _("Your message is sent.")})
            flash(_("Your message is sent."), "success")
            return redirect(url_for("account.case", case_id=found.id))
    elif request.method == "POST":
        status = 400
    if request.method == "POST" and wants_json():
        return error_response(status, " ".join(str(e) for e in form.body.errors) or None)
    return case_page(found, form, status=status)


@bp.route("/cases/<int:case_id>/messages")
@customer_required
def case_messages(case_id: int):
    """What the case page polls for: the public messages after `?after=<message id>`."""
    found = handoff.get_customer_case(current_user.customer, case_id)
    messages = handoff.watch(found, after_id())
    return jsonify({"messages": [_message_json(message) for message in messages]})


def _message_json(message) -> dict:
    # The same words as the page shows for each message.
    who = _("You") if message.author == "customer" else _("Support")
    return {
        "id": message.id,
        "author": message.author,
        "meta": f"{who} · {local_date(message.created_at, 'short')}",
        "body": message.body,
    }


def case_page(found, reply_form: CaseReplyForm | None = None, rating_form: RatingForm | None = None, status: int = 200):
    """The case with its status, the thread, the reply box and (once resolved) its rating."""
    rating = surveys.case_rating(found)
    if rating_form is None:
        rating_form = RatingForm(formdata=None).configure()
        if rating is not None:
            rating_form.score.data, rating_form.comment.data = rating.score, rating.comment
    messages = handoff.public_messages(found)
    return render_template(
        "account/case.html",
        case=found,
        messages=messages,
        last_id=messages[-1].id if messages else 0,
        form=reply_form or CaseReplyForm(formdata=None),
        rating=rating,
        rating_form=rating_form,
    ), status
