"""What an agent does for the customer from a case: every self-serve action with the portal's own
form, choices and preview, cancelling with the customer's reason and end, and a new address."""

from __future__ import annotations

from flask import abort, flash, render_template, request
from flask_babel import gettext as _

from portal import action_flow
from portal.access import current_actor, staff_required
from portal.console.case_views import address_on_behalf_form, back_to_case, case_page
from portal.console.forms import CancelOnBehalfForm
from portal.console.views import bp
from portal.i18n import action_label
from portal.models import StaffRole
from portal.services import (
    account,
    addresses,
    agent_actions,
    cancel_reasons,
    cancellation,
    customers,
    inbox,
    policy,
    subscriptions,
)
from portal.services.errors import ConcurrentChange, DomainError, NotFound


def _customer_of(case):
    if case.customer_id is None:
        raise NotFound()
    return customers.get_customer(case.customer_id)


def _case_subscription(case_id: int, subscription_id: int):
    case = inbox.get_case(case_id)
    return case, account.get_subscription(_customer_of(case), subscription_id)


@bp.route("/cases/<int:case_id>/subscriptions/<int:subscription_id>/<action>", methods=["GET", "POST"])
@staff_required(StaffRole.AGENT)
def act_for(case_id: int, subscription_id: int, action: str):
    """Any self-serve action for the customer: the portal's form, choices and preview."""
    if action not in action_flow.ACTION_FORMS:
        abort(404)
    case, subscription = _case_subscription(case_id, subscription_id)
    return _run_for(case, subscription, action, {})


@bp.route(
    "/cases/<int:case_id>/subscriptions/<int:subscription_id>/orders/<int:order_id>/<any(skip, unskip):action>",
    methods=["GET", "POST"],
)
@staff_required(StaffRole.AGENT)
def act_on_order(case_id: int, subscription_id: int, order_id: int, action: str):
    case, subscription = _case_subscription(case_id, subscription_id)
    return _run_for(case, subscription, action, {"order_id": order_id})


def _stale(case, error: DomainError):
    """As in the portal: the change is refused and the agent sees the subscription as it is now."""
    flash(error.message, "error")
    return case_page(case, error.status)


def _done(case):
    flash(_("Done for the customer; they have been emailed."), "success")
    return back_to_case(case)


def _run_for(case, subscription, action: str, fixed_params: dict):
    form = action_flow.form_for(subscription, action)
    step = action_flow.run(current_actor(), subscription, action, form, fixed_params)
    if step.kind == "stale":
        return _stale(case, step.error)
    if step.kind == "done":
        return _done(case)
    return render_template(
        "console/action.html",
        case=case,
        subscription=subscription,
        action=action,
        title=action_label(action) if action in action_flow.ORDER_ACTIONS else None,
        form=step.form,
        has_fields=step.has_fields,
        bounds=subscriptions.reschedule_bounds() if action == "reschedule" else None,
        impact=step.impact,
        refusal=step.error.message if step.error else None,
    ), step.status


@bp.route("/cases/<int:case_id>/subscriptions/<int:subscription_id>/cancel", methods=["GET", "POST"])
@staff_required(StaffRole.AGENT)
def cancel_for(case_id: int, subscription_id: int):
    """The customer's reason, when it ends (the subscriber's choices), a preview, then confirm."""
    case, subscription = _case_subscription(case_id, subscription_id)
    form = CancelOnBehalfForm()
    optional = [("", _("Not given"))] if policy.get().simple_cancellation else []
    form.reason.choices = optional + [(r.code, r.label) for r in cancel_reasons.reasons()]
    form.mode.choices = [
        (mode, action_flow.cancel_mode_label(mode, ends_on)) for mode, ends_on in cancellation.end_choices(subscription)
    ]
    page = {"case": case, "subscription": subscription, "form": form, "impact": None, "refusal": None}
    if request.method == "GET":
        form.version.data = subscription.version
        return render_template("console/cancel.html", **page)
    if not form.validate_on_submit():
        if form.version.errors:
            return _stale(case, ConcurrentChange())
        return render_template("console/cancel.html", **page), 400
    try:
        if form.step.data == "confirm":
            agent_actions.cancel(
                current_actor(),
                subscription,
                form.version.data,
                reason_code=form.reason.data or None,
                details=form.details.data or "",
                mode=form.mode.data,
                on_date=form.on_date.data,
            )
            return _done(case)
        page["impact"] = subscriptions.preview(
            current_actor(), subscription, "cancel", mode=form.mode.data, on_date=form.on_date.data
        )
    except ConcurrentChange as error:
        return _stale(case, error)
    except DomainError as error:
        page["refusal"] = error.message
        return render_template("console/cancel.html", **page), error.status
    form.step.data = "confirm"
    return render_template("console/cancel.html", **page)


@bp.route("/cases/<int:case_id>/address", methods=["POST"])
@staff_required(StaffRole.AGENT)
def address(case_id: int):
    case = inbox.get_case(case_id)
    customer = _customer_of(case)
    form = address_on_behalf_form(account.subscriptions_of(customer), request.form)
    if not form.validate_on_submit():
        return case_page(case, 400, address_form=form)
    data = form.address_input()
    try:
        addresses.change_shipping_address(current_actor(), customer, data, form.subscription_id.data or None)
    except addresses.InvalidAddress as error:
        flash(" ".join(str(message) for message in error.errors.values()), "error")
        return case_page(case, 400, address_form=form)
    except DomainError as error:
        flash(error.message, "error")
        return case_page(case, error.status)
    flash(_("Done for the customer; they have been emailed."), "success")
    return back_to_case(case)
