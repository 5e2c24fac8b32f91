"""The subscriber's own pages: dashboard, subscription actions, address, profile, activity."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
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

from portal.access import customer_required
from portal.account.forms import (
    ActionForm,
    AddressForm,
    EmailChangeForm,
    FrequencyForm,
    PauseForm,
    ProfileForm,
    RescheduleForm,
    SetPasswordForm,
    SwapForm,
)
from portal.auth.forms import ConfirmForm
from portal.formatting import language_names, money
from portal.forms import show_error, show_field_errors
from portal.i18n import action_label, country_name, interval_label
from portal.services import account, actions, addresses, customers, policy, profile, subscriptions
from portal.services.errors import ConcurrentChange, DomainError, InvalidCredentials, InvalidToken
from portal.web import request_id, safe_next

bp = Blueprint("account", __name__)


def _actor():
    return current_user.actor(request_id())


@bp.route("/")
@customer_required
def dashboard():
    return render_template("account/dashboard.html", view=account.dashboard(current_user.customer))


def _subscription_page(subscription, status: int = 200, error: str | None = None):
    return render_template(
        "account/subscription.html",
        subscription=subscription,
        upcoming=subscriptions.upcoming(subscription),
        orders=account.subscription_history(subscription),
        error=error,
    ), status


@bp.route("/subscriptions/<int:subscription_id>")
@customer_required
def subscription(subscription_id: int):
    return _subscription_page(account.get_subscription(current_user.customer, subscription_id))


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


# --- subscription actions: form, preview, confirm ---------------------------------------------------


def _pause_length_label(cycles: int) -> str:
    return ngettext("Skip %(num)d delivery", "Skip %(num)d deliveries", cycles)


def _pause_form(subscription):
    return PauseForm().configure(policy.get().pause_cycle_options, _pause_length_label)


def _swap_form(subscription):
    form = SwapForm()
    choices = subscriptions.swap_choices(subscription)
    form.item_id.choices = [(item.id, item.variant.display_name) for item in subscription.items]
    # Without JavaScript the item is picked by link (?item=), so its own choices can be listed.
    requested = form.item_id.data if request.method == "POST" else request.args.get("item", type=int)
    chosen_item = requested if requested in choices else subscription.items[0].id
    form.item_id.data = chosen_item
    form.variant_id.choices = [
        (variant.id, f"{variant.display_name} · {money(variant.price_minor, variant.currency)}")
        for variant in choices[chosen_item]
    ]
    if request.method == "GET":
        item = next(i for i in subscription.items if i.id == chosen_item)
        form.variant_id.data, form.quantity.data = item.variant_id, item.quantity
    return form


def _frequency_form(subscription):
    form = FrequencyForm()
    form.interval.choices = [
        (policy.interval_code(unit, count), interval_label(unit, count)) for unit, count in policy.get().intervals()
    ]
    if request.method == "GET":
        form.interval.data = policy.interval_code(subscription.interval_unit, subscription.interval_count)
    return form


def _reschedule_form(subscription):
    form = RescheduleForm()
    first, last = subscriptions.reschedule_bounds()
    form.new_date.render_kw = {"min": first.isoformat(), "max": last.isoformat()}
    if request.method == "GET":
        form.new_date.data = subscription.next_order_date
    return form


ACTION_FORMS = {
    "pause": _pause_form,
    "swap": _swap_form,
    "frequency": _frequency_form,
    "reschedule": _reschedule_form,
    "resume": lambda subscription: ActionForm(),
    "order_now": lambda subscription: ActionForm(),
    "reactivate": lambda subscription: ActionForm(),
    "keep": lambda subscription: ActionForm(),
}


def _flash_done(action: str, result: actions.ActionResult) -> None:
    charge = result.charge
    if charge is None:
        flash(_("Done: %(action)s. We have emailed you a confirmation.", action=action_label(action)), "success")
    elif charge.paid:
        flash(_("Done: your order is placed for today and paid. We have emailed you a confirmation."), "success")
    elif charge.pending:
        flash(
            _(
                "Your order is placed for today. We are still waiting for the payment to be confirmed "
                "and will email you as soon as it is."
            ),
            "success",
        )
    else:
        flash(
            _(
                "Your order is placed for today, but the payment did not go through. "
                "Please update your card so we can send it."
            ),
            "error",
        )


def _run_action(subscription, action: str, form: ActionForm, fixed_params: dict):
    has_fields = type(form) is not ActionForm
    page = {
        "subscription": subscription,
        "action": action,
        "form": form,
        "has_fields": has_fields,
        "bounds": subscriptions.reschedule_bounds() if action == "reschedule" else None,
    }
    if request.method == "GET":
        form.version.data = subscription.version
        if has_fields:
            return render_template("account/action.html", **page)
    elif not form.validate_on_submit():
        if form.version.errors:
            # A page without a usable version cannot be checked against the subscription as it is now.
            return _subscription_page(subscription, 409, ConcurrentChange().message)
        return render_template("account/action.html", **page), 400
    params = {**form.params(), **fixed_params}
    try:
        if form.step.data == "confirm":
            result = actions.perform(_actor(), subscription, action, form.version.data, **params)
            _flash_done(action, result)
            if result.charge is not None and result.charge.declined:
                return redirect(url_for("account.payment"))
            return redirect(url_for("account.subscription", subscription_id=subscription.id))
        impact = subscriptions.preview(_actor(), subscription, action, **params)
    except ConcurrentChange as error:
        return _subscription_page(subscription, error.status, error.message)
    except DomainError as error:
        return render_template("account/action.html", refusal=error.message, **page), error.status
    form.step.data = "confirm"
    return render_template("account/preview.html", impact=impact, **page)


@bp.route("/subscriptions/<int:subscription_id>/<action>", methods=["GET", "POST"])
@customer_required
def subscription_action(subscription_id: int, action: str):
    if action not in ACTION_FORMS:
        abort(404)
    subscription = account.get_subscription(current_user.customer, subscription_id)
    return _run_action(subscription, action, ACTION_FORMS[action](subscription), {})


@bp.route(
    "/subscriptions/<int:subscription_id>/orders/<int:order_id>/<any(skip, unskip):action>", methods=["GET", "POST"]
)
@customer_required
def order_action(subscription_id: int, order_id: int, action: str):
    subscription = account.get_subscription(current_user.customer, subscription_id)
    return _run_action(subscription, action, ActionForm(), {"order_id": order_id})


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
    if form.validate_on_submit():
        data = form.address_input()
        target = None if (form.apply_to_all.data or subscription is None) else subscription.id
        try:
            changed = addresses.change_shipping_address(_actor(), customer, data, target)
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
                url_for("account.subscription", subscription_id=subscription.id)
                if subscription
                else url_for("account.dashboard")
            )
    elif request.method == "POST":
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
    status = 200
    if form.validate_on_submit():
        try:
            profile.update_profile(
                _actor(), customer, name=form.name.data or "", phone=form.phone.data or "", locale=form.locale.data
            )
        except DomainError as error:
            status = show_error(form.name, error)
        else:
            flash(_("Your details are saved."), "success")
            return redirect(url_for("account.profile_page"))
    elif request.method == "POST":
        status = 400
    return render_template("account/profile.html", form=form, email_form=email_form), status


@bp.route("/profile/email", methods=["POST"])
@customer_required
def request_email_change():
    form = ProfileForm(formdata=None, obj=current_user.customer)
    form.locale.choices = list(language_names().items())
    email_form = EmailChangeForm(prefix="email")
    if email_form.validate_on_submit():
        try:
            profile.request_email_change(_actor(), current_user.customer, email_form.email.data)
        except DomainError as error:
            status = show_error(email_form.email, error)
            return render_template("account/profile.html", form=form, email_form=email_form), status
        flash(
            _(
                "We have sent a link to %(email)s. Your email address changes when you open it.",
                email=email_form.email.data,
            ),
            "success",
        )
        return redirect(url_for("account.profile_page"))
    return render_template("account/profile.html", form=form, email_form=email_form), 400


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
        return render_template(
            "errors/error.html",
            status=error.status,
            title=_("This link no longer works"),
            message=error.message,
            request_id=request_id(),
        ), error.status
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
    return render_template("account/activity.html", events=account.recent_activity(current_user.customer.id, limit=200))


@bp.route("/language", methods=["POST"])
def choose_language():
    """Language for a browser that is not signed in as a customer (theirs is a profile setting)."""
    form = ConfirmForm()
    chosen = request.form.get("locale")
    if form.validate_on_submit() and chosen in current_app.config["LANGUAGES"]:
        session["locale"] = chosen
    return redirect(safe_next(form.next.data, url_for("auth.login")))
