"""The subscriber's payment page: saved cards, adding one with Stripe.js, paying a failed order."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import current_actor, customer_required
from portal.account.views import bp, confirmation_args
from portal.auth.forms import ConfirmForm
from portal.services import account, payments
from portal.services.errors import DomainError
from portal.web import allow_payment_provider, request_id


@bp.route("/payment")
@customer_required
def payment():
    customer = current_user.customer
    card_form = payments.card_form()
    allow_payment_provider(card_form.origin)
    return render_template(
        "account/payment.html",
        setup=card_form,
        cards=payments.saved_cards(customer),
        card_uses=payments.card_uses(customer),
        failed=account.failed_orders(customer),
        form=ConfirmForm(),
    )


@bp.route("/payment/cards/setup", methods=["POST"])
@customer_required
def card_setup():
    """The card form asks for a SetupIntent when the subscriber saves a card (CSRF header)."""
    try:
        secret = payments.start_card_setup(current_user.customer)
    except DomainError as error:
        body = {"error": {"code": error.code, "message": error.message, "request_id": request_id()}}
        return jsonify(body), error.status
    return jsonify({"client_secret": secret})


@bp.route("/payment/cards", methods=["POST"])
@customer_required
def add_card():
    form = ConfirmForm()
    setup_intent = request.form.get("setup_intent", "")
    if not form.validate_on_submit():
        flash(_("The card could not be saved. Please try again."), "error")
        return redirect(url_for("account.payment")), 303
    try:
        paid = payments.add_card_and_retry(current_actor(), current_user.customer, setup_intent)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("account.payment")), 303
    flash(_("Your new card is saved and will be used from now on."), "success")
    _report_retries(paid)
    return redirect(url_for("account.payment", **confirmation_args()))


def _report_retries(outcomes) -> None:
    for outcome in outcomes:
        if outcome.paid:
            flash(_("Your failed order has been paid. Thank you!"), "success")
        elif outcome.pending:
            flash(_("We are waiting for the payment of your order to be confirmed and will email you."), "success")
        else:
            flash(_("The payment for your order did not go through with this card. Please use another card."), "error")


@bp.route("/payment/cards/<int:method_id>/default", methods=["POST"])
@customer_required
def default_card(method_id: int):
    if ConfirmForm().validate_on_submit():
        payments.set_default_card(current_actor(), current_user.customer, method_id)
        flash(_("Default card changed."), "success")
        return redirect(url_for("account.payment", **confirmation_args()))
    return redirect(url_for("account.payment"))


@bp.route("/payment/cards/<int:method_id>/remove", methods=["POST"])
@customer_required
def remove_card(method_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            payments.remove_card(current_actor(), current_user.customer, method_id)
        except (payments.DefaultCardInUse, payments.PaymentProblem) as error:
            flash(error.message, "error")
            return redirect(url_for("account.payment")), 303
        flash(_("Card removed."), "success")
    return redirect(url_for("account.payment"))


@bp.route("/payment/retry", methods=["POST"])
@customer_required
def retry_payment():
    if ConfirmForm().validate_on_submit():
        outcomes = payments.retry_failed_orders(current_actor(), current_user.customer)
        if not outcomes:
            flash(_("There is no payment to make right now."), "success")
        _report_retries(outcomes)
    return redirect(url_for("account.payment"))
