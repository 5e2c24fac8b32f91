"""A subscription action as pages run it, for the subscriber's pages and the agent console alike:
the same forms and choices, the same preview, the same version check. Each blueprint renders the
step its own way (its layout, its links, where "done" goes).

GET shows the form (or, for an action without choices, its preview straight away); a POST with
`step=preview` previews; a POST with `step=confirm` applies through `actions.perform`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_babel import gettext as _
from flask_babel import ngettext

from portal.account.forms import ActionForm, FrequencyForm, PauseForm, RescheduleForm, SwapForm
from portal.formatting import LazyDate, money
from portal.i18n import interval_label
from portal.models import Subscription
from portal.services import actions, policy, subscriptions
from portal.services.actors import Actor
from portal.services.errors import ConcurrentChange, DomainError
from portal.services.subscriptions.schedule import Impact


def cancel_mode_label(mode: str, ends_on) -> str:
    """How each way of cancelling reads on the last step (the subscriber's and the agent's)."""
    if mode == "now":
        return _("Now (orders already being prepared still arrive)")
    if mode == "period_end":
        return _("When the period already paid ends, on %(date)s", date=LazyDate(ends_on))
    return _("On a date I choose")


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
# Actions on one upcoming order, named by its id.
ORDER_ACTIONS = ("skip", "unskip")


def form_for(subscription: Subscription, action: str) -> ActionForm:
    """The action's form with its choices; skip and unskip have none of their own."""
    return ActionForm() if action in ORDER_ACTIONS else ACTION_FORMS[action](subscription)


@dataclass
class Step:
    """What the page shows next. `kind`: form, invalid, stale, refused, preview or done."""

    kind: str
    form: ActionForm
    has_fields: bool
    status: int = 200
    impact: Impact | None = None
    result: actions.ActionResult | None = None
    error: DomainError | None = None


def run(actor: Actor, subscription: Subscription, action: str, form: ActionForm, fixed_params: dict) -> Step:
    has_fields = type(form) is not ActionForm
    if request.method == "GET":
        form.version.data = subscription.version
        if has_fields:
            return Step("form", form, has_fields)
    elif not form.validate_on_submit():
        if form.version.errors:
            # A page without a usable version cannot be checked against the subscription as it is now.
            return Step("stale", form, has_fields, 409, error=ConcurrentChange())
        return Step("invalid", form, has_fields, 400)
    params = {**form.params(), **fixed_params}
    try:
        if form.step.data == "confirm":
            result = actions.perform(actor, subscription, action, form.version.data, **params)
            return Step("done", form, has_fields, result=result)
        offered = request.method == "POST" or action in subscriptions.available_actions(subscription)
        impact = subscriptions.preview(actor, subscription, action, offered=offered, **params)
    except ConcurrentChange as error:
        return Step("stale", form, has_fields, error.status, error=error)
    except DomainError as error:
        return Step("refused", form, has_fields, error.status, error=error)
    form.step.data = "confirm"
    return Step("preview", form, has_fields, impact=impact)
