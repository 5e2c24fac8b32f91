"""The subscriber's cancel flow: reason, offers, confirmation, done."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import action_flow
from portal.access import current_actor, customer_required
from portal.account.forms import ActionForm, CancelConfirmForm, CancelOfferForm, CancelReasonForm
from portal.account.views import bp, confirmation_args
from portal.forms import show_error
from portal.services import account, cancel_reasons, cancellation, help_answers, policy
from portal.services.errors import ConcurrentChange, DomainError


def _load(subscription_id: int, attempt_id: int | None = None):
    subscription = account.get_subscription(current_user.customer, subscription_id)
    attempt = cancellation.get_attempt(subscription, attempt_id) if attempt_id is not None else None
    return subscription, attempt


def _restart(subscription, error: DomainError):
    flash(error.message, "error")
    return redirect(url_for("account.cancel_reason", subscription_id=subscription.id)), 303


@bp.route("/subscriptions/<int:subscription_id>/cancel", methods=["GET", "POST"])
@customer_required
def cancel_reason(subscription_id: int):
    subscription, _attempt = _load(subscription_id)
    form = CancelReasonForm()
    form.reason.choices = [(reason.code, reason.label) for reason in cancel_reasons.reasons()]
    simple = policy.get().simple_cancellation
    status = 200
    if form.validate_on_submit():
        try:
            attempt = cancellation.start(current_actor(), subscription, form.reason.data, form.details.data or "")
        except DomainError as error:
            status = show_error(form.reason, error)
        else:
            step = "account.cancel_offers" if attempt.step.value == "offers" else "account.cancel_confirm"
            return redirect(url_for(step, subscription_id=subscription.id, attempt_id=attempt.id))
    elif request.method == "POST":
        status = 400
    answers = help_answers.show(current_user.customer, "cancel", topic="cancel") if request.method == "GET" else []
    return render_template(
        "account/cancel_reason.html", subscription=subscription, form=form, simple=simple, answers=answers
    ), status


@bp.route("/subscriptions/<int:subscription_id>/cancel/<int:attempt_id>/offers", methods=["GET", "POST"])
@customer_required
def cancel_offers(subscription_id: int, attempt_id: int):
    subscription, attempt = _load(subscription_id, attempt_id)
    form = CancelOfferForm()
    if form.validate_on_submit():
        try:
            if request.form.get("decline"):
                cancellation.decline_offers(current_actor(), attempt)
                return redirect(
                    url_for("account.cancel_confirm", subscription_id=subscription.id, attempt_id=attempt.id)
                )
            kind = cancellation.accept_offer(
                current_actor(),
                attempt,
                subscription,
                request.form.get("offer", type=int, default=-1),
                form.version.data,
            )
        except ConcurrentChange as error:
            flash(error.message, "error")
            return redirect(url_for("account.subscription", subscription_id=subscription.id)), 303
        except cancellation.StepError as error:
            return _restart(subscription, error)
        except DomainError as error:
            flash(error.message, "error")
            return redirect(
                url_for("account.cancel_offers", subscription_id=subscription.id, attempt_id=attempt.id)
            ), 303
        if kind == "talk":
            return redirect(
                url_for("account.help_request", topic="cancel", attempt=attempt.id, **{"from": request.path})
            )
        flash(_("Glad you are staying. We have emailed you the details."), "success")
        return redirect(url_for("account.subscription", subscription_id=subscription.id, **confirmation_args()))
    if request.method == "POST":
        return redirect(url_for("account.cancel_offers", subscription_id=subscription.id, attempt_id=attempt.id)), 303
    try:
        offers = cancellation.offers(attempt, subscription)
    except cancellation.StepError as error:
        return _restart(subscription, error)
    form.version.data = subscription.version
    return render_template(
        "account/cancel_offers.html", subscription=subscription, attempt=attempt, offers=offers, form=form
    )


@bp.route("/subscriptions/<int:subscription_id>/cancel/<int:attempt_id>/confirm", methods=["GET", "POST"])
@customer_required
def cancel_confirm(subscription_id: int, attempt_id: int):
    subscription, attempt = _load(subscription_id, attempt_id)
    if attempt.step.value != "confirm":
        return _restart(subscription, cancellation.StepError())
    form = CancelConfirmForm()
    form.mode.choices = [
        (mode, action_flow.cancel_mode_label(mode, ends_on)) for mode, ends_on in cancellation.end_choices(subscription)
    ]
    status = 200
    if form.validate_on_submit():
        try:
            cancellation.confirm(
                current_actor(), attempt, subscription, form.mode.data, form.on_date.data, form.version.data
            )
        except ConcurrentChange as error:
            flash(error.message, "error")
            return redirect(url_for("account.subscription", subscription_id=subscription.id)), 303
        except DomainError as error:
            status = show_error(form.mode, error)
        else:
            return redirect(
                url_for(
                    "account.cancel_done", subscription_id=subscription.id, attempt_id=attempt.id, **confirmation_args()
                )
            )
    elif request.method == "POST":
        status = 400
    else:
        form.version.data = subscription.version
    return render_template(
        "account/cancel_confirm.html",
        subscription=subscription,
        form=form,
        end_impacts=cancellation.end_impacts(subscription),
    ), status


@bp.route("/subscriptions/<int:subscription_id>/cancel/<int:attempt_id>/done")
@customer_required
def cancel_done(subscription_id: int, attempt_id: int):
    subscription, attempt = _load(subscription_id, attempt_id)
    if attempt.outcome.value != "cancelled":
        return redirect(url_for("account.subscription", subscription_id=subscription.id))
    # Undoing is one click: the button posts the confirmed "keep" or "reactivate" straight away.
    undo = "keep" if subscription.cancel_at else "reactivate"
    undo_form = ActionForm(formdata=None, step="confirm", version=subscription.version)
    return render_template(
        "account/cancel_done.html", subscription=subscription, attempt=attempt, undo=undo, undo_form=undo_form
    )
