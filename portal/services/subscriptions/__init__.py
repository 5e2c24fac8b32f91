"""Subscription actions and the schedule, one package by concern:

- `schedule`: the Plan value and how it is filled (pure);
- `rules`: each action as a pure change to a Plan, with the merchant's rules (pure);
- `storage`: a subscription and its order rows to and from a Plan;
- `changes`: preview and apply, the one path that records a change;
- `jobs`: what the worker runs as dates pass;
- `queries`: what pages read (upcoming orders, choices, which actions are available).

The portal, signed links, the agent console, the API and jobs all come through here.
"""

from portal.services.subscriptions.changes import (
    apply,
    check_preview,
    order_paid,
    preview,
    stop_after_failed_payments,
    try_preview,
)
from portal.services.subscriptions.jobs import end_due, resume_due, roll_forward
from portal.services.subscriptions.queries import (
    UpcomingOrder,
    available_actions,
    cancel_end_dates,
    first_skippable,
    next_skippable,
    next_skippable_of,
    reschedule_bounds,
    swap_choices,
    swap_choices_of,
    upcoming,
)
from portal.services.subscriptions.rules import CANCEL_MODES, MAX_QUANTITY, PolicyRefusal

__all__ = [
    "CANCEL_MODES",
    "MAX_QUANTITY",
    "PolicyRefusal",
    "UpcomingOrder",
    "apply",
    "available_actions",
    "check_preview",
    "cancel_end_dates",
    "end_due",
    "first_skippable",
    "next_skippable",
    "next_skippable_of",
    "order_paid",
    "preview",
    "reschedule_bounds",
    "resume_due",
    "roll_forward",
    "stop_after_failed_payments",
    "swap_choices",
    "swap_choices_of",
    "try_preview",
    "upcoming",
]
