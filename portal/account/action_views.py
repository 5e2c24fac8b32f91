"""The subscriber's subscription actions: the form (where the action has choices), the preview of
what changes, and the confirmation, for every action through `actions.perform`."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import action_flow
from portal.access import current_actor, customer_required
from portal.account.views import bp, confirmation_args, subscription_page
from portal.i18n import action_label
from portal.services import account, actions, help_answers, subscriptions


def flash_done(action: str, result: actions.ActionResult) -> None:
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


def _run_action(subscription, action: str, fixed_params: dict):
    form = action_flow.form_for(subscription, action)
    step = action_flow.run(current_actor(), subscription, action, form, fixed_params)
    page = {
        "subscription": subscription,
        "action": action,
        "form": step.form,
        "has_fields": step.has_fields,
        "bounds": subscriptions.reschedule_bounds() if action == "reschedule" else None,
    }
    if step.kind == "stale":
        return subscription_page(subscription, step.status, step.error.message)
    if step.kind == "done":
        flash_done(action, step.result)
        if step.result.charge is not None and step.result.charge.declined:
            return redirect(url_for("account.payment"))
        return redirect(url_for("account.subscription", subscription_id=subscription.id, **confirmation_args()))
    if step.kind == "refused":
        answers = help_answers.show(
            current_user.customer, "refusal", topic="subscription", refusal_code=step.error.code
        )
        return render_template("account/action.html", refusal=step.error.message, answers=answers, **page), step.status
    if step.kind == "preview":
        return render_template("account/preview.html", impact=step.impact, **page)
    return render_template("account/action.html", **page), step.status


@bp.route("/subscriptions/<int:subscription_id>/<action>", methods=["GET", "POST"])
@customer_required
def subscription_action(subscription_id: int, action: str):
    if action not in action_flow.ACTION_FORMS:
        abort(404)
    subscription = account.get_subscription(current_user.customer, subscription_id)
    return _run_action(subscription, action, {})


@bp.route(
    "/subscriptions/<int:subscription_id>/orders/<int:order_id>/<any(skip, unskip):action>", methods=["GET", "POST"]
)
@customer_required
def order_action(subscription_id: int, order_id: int, action: str):
    subscription = account.get_subscription(current_user.customer, subscription_id)
    return _run_action(subscription, action, {"order_id": order_id})
