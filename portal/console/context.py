"""A case's snapshot for reading: the stored JSON (codes, ISO dates, minor units) turned into
what the agent reads, formatted and translated as the subscriber would see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from portal.formatting import language_names, local_date, money
from portal.i18n import action_label, channel_label, interval_label, refusal_text, status_label
from portal.models import CaseStatus, IntervalUnit, OrderStatus, SubscriptionStatus
from portal.services import cancel_reasons
from portal.text import lazy_text as _l

STEPS = {"preview": _l("at the preview"), "apply": _l("when confirming")}


@dataclass
class Context:
    customer: dict | None
    language: str | None
    subscriptions: list[dict] = field(default_factory=list)
    upcoming: list[dict] = field(default_factory=list)
    recent: list[dict] = field(default_factory=list)
    card: str | None = None
    failed_orders: list[dict] = field(default_factory=list)
    attempts: list[dict] = field(default_factory=list)
    source_page: str | None = None
    cancel: dict | None = None
    earlier_cases: list[dict] = field(default_factory=list)


def _day(value: str | None) -> str:
    return local_date(date.fromisoformat(value)) if value else ""


def _moment(value: str | None) -> str:
    return local_date(datetime.fromisoformat(value), "short") if value else ""


def _interval(text: str | None) -> str:
    """Stored as "2 week"."""
    try:
        count, unit = (text or "").split()
        return interval_label(IntervalUnit(unit), int(count))
    except ValueError:
        return text or ""


def _status(enum, value: str | None) -> str:
    try:
        return status_label(enum(value))
    except ValueError:
        return value or ""


def _order(order: dict) -> dict:
    return {
        "id": order.get("id"),
        "date": _day(order.get("date")),
        "status": _status(OrderStatus, order.get("status")),
        "total": money(order.get("amount_minor"), order.get("currency") or "EUR"),
        "failure": refusal_text(order.get("failure_code")) if order.get("failure_code") else "",
    }


def attempt_text(attempt: dict) -> str:
    """ "Tried to move the next order to 1 May 2030 (at the preview): outside the dates that can be chosen"."""
    action = attempt.get("action") or ""
    params = attempt.get("params") or {}
    if action == "subscription.reschedule" and params.get("new_date"):
        tried = _l("Tried to move the next order to %(date)s", date=_day(params["new_date"]))
    elif action == "subscription.pause" and params.get("until"):
        tried = _l("Tried to pause until %(date)s", date=_day(params["until"]))
    elif action == "subscription.cancel" and params.get("on_date"):
        tried = _l("Tried to cancel on %(date)s", date=_day(params["on_date"]))
    else:
        tried = _l("Tried: %(action)s", action=action_label(action))
    step = STEPS.get(attempt.get("step") or "")
    refused = refusal_text(attempt.get("error_code"))
    if step:
        return str(_l("%(tried)s (%(step)s); refused: %(why)s", tried=tried, step=step, why=refused))
    return str(_l("%(tried)s; refused: %(why)s", tried=tried, why=refused))


def present(snapshot: dict) -> Context:
    snap = snapshot or {}
    customer = snap.get("customer")
    locale = (customer or {}).get("locale")
    cancel = snap.get("cancel")
    # Read only for a case from the cancel flow: most cases have no reason to name.
    reasons = {reason.code: reason.label for reason in cancel_reasons.reasons(include_disabled=True)} if cancel else {}
    offers = cancel_reasons.OFFER_LABELS
    payment = snap.get("payment") or {}
    return Context(
        customer=customer,
        language=language_names().get(locale) if locale else None,
        subscriptions=[
            {
                "id": s.get("id"),
                "status": _status(SubscriptionStatus, s.get("status")),
                "status_code": s.get("status"),
                "items": ", ".join(s.get("items") or []),
                "price": money(s.get("amount_minor"), s.get("currency") or "EUR"),
                "interval": _interval(s.get("interval")),
                "next_order": _day(s.get("next_order")),
                "paused_until": _day(s.get("paused_until")),
                "ends_on": _day(s.get("ends_on")),
            }
            for s in snap.get("subscriptions") or []
        ],
        upcoming=[_order(o) for o in snap.get("upcoming_orders") or []],
        recent=[_order(o) for o in snap.get("recent_orders") or []],
        card=payment.get("card"),
        failed_orders=[_order(o) for o in payment.get("failed_orders") or []],
        attempts=[{"at": _moment(a.get("at")), "text": attempt_text(a)} for a in snap.get("failed_attempts") or []],
        source_page=snap.get("source_page"),
        cancel={
            "reason": str(reasons.get(cancel.get("reason"), "")) or "—",
            "details": cancel.get("details"),
            "offers": ", ".join(str(offers.get(o.get("type"), "")) for o in cancel.get("offers_shown") or []) or "—",
        }
        if cancel
        else None,
        earlier_cases=[
            {
                "id": c.get("id"),
                "subject": c.get("subject"),
                "status": _status(CaseStatus, c.get("status")),
                "channel": channel_label(c.get("channel")),
                "opened": _moment(c.get("opened")),
            }
            for c in snap.get("earlier_cases") or []
        ],
    )
