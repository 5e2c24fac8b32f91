"""The case page's forms with their choices, built the same way for the page and for its posts.

The choices come from `services.case_context`; a post is checked against exactly what the page
offered. formdata: the posted form, or None for an empty one."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.console.forms import (
    ActOnBehalfForm,
    AddressOnBehalfForm,
    AssignForm,
    RefundForm,
    ReplyForm,
    StatusForm,
    SwapOnBehalfForm,
)
from portal.formatting import money
from portal.i18n import ACTION_TITLES, country_name, status_label
from portal.models import CaseStatus
from portal.services import addresses, agent_actions, case_context, saved_replies, subscriptions


def reply_form(formdata):
    form = ReplyForm(formdata=formdata)
    form.saved_reply.choices = [("", _("None"))] + [
        (key, str(reply.title)) for key, reply in saved_replies.SAVED_REPLIES.items()
    ]
    return form


def status_form(formdata, **values):
    form = StatusForm(formdata=formdata, **values)
    form.status.choices = [(s.value, status_label(s)) for s in CaseStatus]
    return form


def assign_form(formdata, **values):
    form = AssignForm(formdata=formdata, **values)
    form.assignee.choices = [(0, _("Nobody"))] + [(s.id, s.name) for s in case_context.assignable_staff()]
    return form


def act_form(owned, formdata):
    form = ActOnBehalfForm(formdata=formdata)
    form.subscription_id.choices = [
        (s.id, f"#{s.id} {s.items[0].variant.product.name} ({status_label(s.status)})") for s in owned
    ]
    form.action.choices = [
        (key, str(ACTION_TITLES.get(action, _("Cancel subscription") if action == "cancel" else action)))
        for key, (action, _p) in agent_actions.ON_BEHALF.items()
    ]
    return form


def refund_form(customer, formdata):
    """The refund form; a posted order's currency tells the amount field its precision."""
    form = RefundForm(formdata=formdata)
    orders = {o.id: o for o in case_context.refundable_orders(customer)}
    form.order_id.choices = [(o.id, f"#{o.id} · {o.scheduled_for.isoformat()}") for o in orders.values()]
    if form.order_id.data in orders:
        form.amount.currency = orders[form.order_id.data].currency
    return form


def swap_form(owned, formdata):
    """owned: the customer's subscriptions."""
    form = SwapOnBehalfForm(formdata=formdata)
    live = case_context.changeable(owned)
    form.item_id.choices = [
        (item.id, f"#{s.id} {item.quantity} × {item.variant.display_name}") for s in live for item in s.items
    ]
    choices = {}
    for variants in subscriptions.swap_choices_of(live).values():
        choices.update({v.id: f"{v.display_name} · {money(v.price_minor, v.currency)}" for v in variants})
    form.variant_id.choices = sorted(choices.items())
    return form


def address_form(owned, formdata):
    form = AddressOnBehalfForm(formdata=formdata)
    form.subscription_id.choices = [(0, _("All subscriptions"))] + [
        (s.id, f"#{s.id} {s.items[0].variant.product.name}") for s in case_context.changeable(owned)
    ]
    form.country.choices = [(code, country_name(code)) for code in addresses.shipping_countries()]
    return form
