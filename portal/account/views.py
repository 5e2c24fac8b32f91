"""The subscriber's own pages."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import customer_required
from portal.account.forms import SetPasswordForm
from portal.auth.forms import ConfirmForm
from portal.services import account, customers
from portal.services.errors import InvalidCredentials
from portal.web import request_id, safe_next

bp = Blueprint("account", __name__)


@bp.route("/")
@customer_required
def dashboard():
    return render_template("account/dashboard.html", view=account.dashboard(current_user.customer))


@bp.route("/subscriptions/<int:subscription_id>")
@customer_required
def subscription(subscription_id: int):
    subscription = account.get_subscription(current_user.customer, subscription_id)
    return render_template(
        "account/subscription.html",
        subscription=subscription,
        orders=account.subscription_orders(subscription),
    )


@bp.route("/orders/<int:order_id>")
@customer_required
def order(order_id: int):
    return render_template("account/order.html", order=account.get_order(current_user.customer, order_id))


@bp.route("/password", methods=["GET", "POST"])
@customer_required
def password():
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            customers.set_password(current_user.customer, form.current_password.data,
                                   form.new_password.data, current_user.get_id(), request_id())
        except InvalidCredentials as error:
            form.current_password.errors.append(error.message)
        else:
            flash(_("Your password has been saved. Other devices have been signed out."), "success")
            return redirect(url_for("account.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("account/password.html", form=form,
                           has_password=current_user.customer.password_hash is not None), status


@bp.route("/language", methods=["POST"])
def choose_language():
    """Language for a browser that is not signed in as a customer (theirs is a profile setting)."""
    form = ConfirmForm()
    chosen = request.form.get("locale")
    if form.validate_on_submit() and chosen in current_app.config["LANGUAGES"]:
        session["locale"] = chosen
    return redirect(safe_next(form.next.data, url_for("auth.login")))
