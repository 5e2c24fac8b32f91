"""The subscriber's subscription actions: the form (where the action has choices), the preview of
what changes, and the confirmation, for every action through `actions.perform`."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.access import current_actor, customer_required
from portal.account.forms import ActionForm, FrequencyForm, PauseForm, RescheduleForm, SwapForm
from portal.account.views import bp, confirmation_args, subscription_page
from portal.formatting import money
from portal.i18n import action_label, interval_label
from portal.services import account, actions, help_answers, policy, subscriptions
from portal.services.errors import ConcurrentChange, DomainError


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
            return subscription_page(subscription, 409, ConcurrentChange().message)
        return render_template("account/action.html", **page), 400
    params = {**form.params(), **fixed_params}
    try:
        if form.step.data == "confirm":
            result = actions.perform(current_actor(), subscription, action, form.version.data, **params)
            _flash_done(action, result)
            if result.charge is not None and result.charge.declined:
                return redirect(url_for("account.payment"))
            return redirect(url_for("account.subscription", subscription_id=subscription.id, **confirmation_args()))
        impact = subscriptions.preview(current_actor(), subscription, action, **params)
    except ConcurrentChange as error:
        return subscription_page(subscription, error.status, error.message)
    except DomainError as error:
        answers = help_answers.show(current_user.customer, "refusal", topic="subscription", refusal_code=error.code)
        return render_template("account/action.html", refusal=error.message, answers=answers, **page), error.status
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
