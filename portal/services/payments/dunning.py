"""After a failed charge: retry on the merchant's days and tell the subscriber how to pay now;
after the last retry, stop the subscription as the merchant chose."""

from __future__ import annotations

from datetime import timedelta

from portal.models import Customer, LinkAction, Order, utcnow
from portal.services import links, notifications, subscriptions
from portal.services import policy as policy_service
from portal.services.payments import ledger


def after_failure(order: Order, customer: Customer) -> None:
    """In the caller's unit of work: the next retry, or the end of retries."""
    rules = policy_service.get()
    retries_done = order.payment_attempts - 1
    if retries_done < len(rules.dunning_retry_days):
        first_failure = utcnow() if retries_done == 0 else order.next_retry_at or utcnow()
        gap = rules.dunning_retry_days[retries_done] - (
            rules.dunning_retry_days[retries_done - 1] if retries_done else 0
        )
        order.next_retry_at = first_failure + timedelta(days=gap)
        # A single-use link straight to the card page, valid until the next retry.
        link = links.action_url(customer, LinkAction.UPDATE_CARD, valid_for=timedelta(days=gap))
        notifications.queue_to_customer(
            "payment_failed", customer, order=order, retry_on=order.next_retry_at.date(), url=link
        )
        return
    order.next_retry_at = None
    # The order will not be paid automatically any more: the credit it held goes back.
    ledger.give_back_for_order(order)
    if order.subscription_id:
        subscriptions.stop_after_failed_payments(order.subscription_id, rules.dunning_final_action)
