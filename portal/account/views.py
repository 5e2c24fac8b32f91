"""The subscriber's own pages: dashboard, subscription actions, address, profile, activity."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.access import current_actor, customer_required
from portal.account.forms import (
    AddressForm,
    EmailChangeForm,
    ProfileForm,
    SetPasswordForm,
    messages_form,
)
from portal.auth.forms import ConfirmForm
from portal.errors import expired_link_page
from portal.extensions import limiter
from portal.formatting import language_names
from portal.forms import run_form, show_error, show_field_errors
from portal.i18n import country_name
from portal.services import account, addresses, customers, history, payments, profile, subscriptions, surveys
from portal.services.errors import DomainError, InvalidCredentials, InvalidToken
from portal.web import request_id, safe_next

bp = Blueprint("account", __name__)


def confirmation_args() -> dict:
    """What a redirect after a self-serve change adds, so its confirmation asks for a rating."""
    event_id = surveys.latest_rateable_event(current_user.customer)
    return {"rated": event_id} if event_id else {}


@bp.route("/")
@customer_required
def dashboard():
    return render_template("account/dashboard.html", view=account.dashboard(current_user.customer))


def subscription_page(subscription, status: int = 200, error: str | None = None):
    return render_template(
        "account/subscription.html",
        subscription=subscription,
        upcoming=subscriptions.upcoming(subscription),
        orders=account.subscription_history(subscription),
        credit_minor=payments.balance(subscription.customer_id, subscription.currency),
        error=error,
    ), status


@bp.route("/subscriptions/<int:subscription_id>")
@customer_required
def subscription(subscription_id: int):
    return subscription_page(account.get_subscription(current_user.customer, subscription_id))


@bp.route("/orders/<int:order_id>")
@customer_required
def order(order_id: int):
    return render_template("account/order.html", order=account.get_order(current_user.customer, order_id))


@bp.route("/orders/<int:order_id>/receipt")
@customer_required
def receipt(order_id: int):
    return render_template(
        "account/receipt.html", receipt=account.receipt(current_user.customer, order_id), customer=current_user.customer
    )


# --- shipping address -------------------------------------------------------------------------------


def _address_form(subscription=None) -> AddressForm:
    form = AddressForm()
    form.country.choices = [(code, country_name(code)) for code in addresses.shipping_countries()]
    current = subscription.shipping_address if subscription else None
    if request.method == "GET" and current is not None:
        for field in ("name", "line1", "line2", "postal_code", "city", "region", "country"):
            getattr(form, field).data = getattr(current, field) or ""
    return form


@bp.route("/subscriptions/<int:subscription_id>/address", methods=["GET", "POST"])
@bp.route("/address", methods=["GET", "POST"], defaults={"subscription_id": None})
@customer_required
def address(subscription_id: int | None):
    customer = current_user.customer
    subscription = account.get_subscription(customer, subscription_id) if subscription_id else None
    form = _address_form(subscription or next(iter(customer.subscriptions), None))
    status = 200
    # Three steps in one form: the entered address, its preview, and the confirm that applies it;
    # "back" returns to the first with what was entered.
    if form.validate_on_submit() and "back" not in request.form:
        data = form.address_input()
        target = None if (form.apply_to_all.data or subscription is None) else subscription.id
        try:
            if "confirm" not in request.form:
                preview = addresses.preview_address_change(customer, data, target)
                return render_template(
                    "account/address_preview.html", form=form, subscription=subscription, preview=preview
                )
            changed = addresses.change_shipping_address(current_actor(), customer, data, target)
        except addresses.InvalidAddress as error:
            show_field_errors(form, error.errors)
            status = 400
        except DomainError as error:
            flash(error.message, "error")
            status = error.status
        else:
            flash(
                ngettext(
                    "The new address is saved for %(num)d subscription.",
                    "The new address is saved for %(num)d subscriptions.",
                    len(changed),
                ),
                "success",
            )
            return redirect(
                url_for("account.subscription", subscription_id=subscription.id, **confirmation_args())
                if subscription
                else url_for("account.dashboard", **confirmation_args())
            )
    elif request.method == "POST" and "back" not in request.form:
        status = 400
    return render_template("account/address.html", form=form, subscription=subscription), status


# --- profile, email, password, activity -------------------------------------------------------------


@bp.route("/profile", methods=["GET", "POST"])
@customer_required
def profile_page():
    customer = current_user.customer
    form = ProfileForm(obj=None if request.method == "POST" else customer)
    form.locale.choices = list(language_names().items())
    email_form = EmailChangeForm(prefix="email")
    posted = run_form(
        form,
        lambda: profile.update_profile(
            current_actor(),
            customer,
            name=form.name.data or "",
            phone=form.phone.data or "",
            locale=form.locale.data,
        ),
        error_field=form.name,
        done=_("Your details are saved."),
        to=url_for("account.profile_page"),
    )
    return posted.response or (
        render_template(
            "account/profile.html", form=form, email_form=email_form, messages_form=messages_form(customer)
        ),
        posted.status,
    )


def _email_change_limit() -> str:
    return current_app.config["EMAIL_CHANGE_RATE_LIMIT"]


def _customer_key() -> str:
    # Runs before customer_required, so staff and strangers get here too (and are turned away next).
    customer = getattr(current_user, "customer", None)
    return f"customer:{customer.id}" if customer is not None else "not-a-customer"


@bp.route("/profile/email", methods=["POST"])
@limiter.limit(_email_change_limit)  # per client address: many accounts on one machine
@limiter.limit(_email_change_limit, key_func=_customer_key)  # per subscriber: one account, many addresses
@customer_required
def request_email_change():
    form = ProfileForm(formdata=None, obj=current_user.customer)
    form.locale.choices = list(language_names().items())
    email_form = EmailChangeForm(prefix="email")
    if email_form.validate_on_submit():
        try:
            profile.request_email_change(current_actor(), current_user.customer, email_form.email.data)
        except DomainError as error:
            status = show_error(email_form.email, error)
            return render_template(
                "account/profile.html",
                form=form,
                email_form=email_form,
                messages_form=messages_form(current_user.customer),
            ), status
        # The same whether or not another account uses the address (see profile.request_email_change).
        flash(
            _(
                "We have sent an email to %(email)s. If that address can be used, the email has a link: "
                "your email address changes when you open it.",
                email=email_form.email.data,
            ),
            "success",
        )
        return redirect(url_for("account.profile_page"))
    return render_template(
        "account/profile.html", form=form, email_form=email_form, messages_form=messages_form(current_user.customer)
    ), 400


@bp.route("/profile/email/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    """Like sign-in links: the GET shows a button, only the POST changes anything."""
    form = ConfirmForm()
    try:
        if form.validate_on_submit():
            profile.confirm_email_change(token, request_id())
            flash(_("Your email address has been changed."), "success")
            return redirect(url_for("account.profile_page" if current_user.is_authenticated else "auth.login"))
        customer, new_email = profile.check_email_change(token)
    except (InvalidToken, profile.EmailTaken) as error:
        return expired_link_page(error)
    return render_template("account/confirm_email.html", form=form, customer=customer, new_email=new_email)


@bp.route("/password", methods=["GET", "POST"])
@customer_required
def password():
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            customers.set_password(
                current_user.customer,
                form.current_password.data,
                form.new_password.data,
                current_user.get_id(),
                request_id(),
            )
        except InvalidCredentials as error:
            show_error(form.current_password, error)
        else:
            flash(_("Your password has been saved. Other devices have been signed out."), "success")
            return redirect(url_for("account.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "account/password.html", form=form, has_password=current_user.customer.password_hash is not None
    ), status


@bp.route("/activity")
@customer_required
def activity():
    return render_template("account/activity.html", events=history.for_subscriber(current_user.customer.id))


@bp.route("/language", methods=["POST"])
def choose_language():
    """Language for a browser that is not signed in as a customer (theirs is a profile setting)."""
    form = ConfirmForm()
    chosen = request.form.get("locale")
    if form.validate_on_submit() and chosen in current_app.config["LANGUAGES"]:
        session["locale"] = chosen
    return redirect(safe_next(form.next.data, url_for("auth.login")))
