"""Scheduled work. Each job is idempotent: running it twice does nothing more than once."""

from __future__ import annotations

from collections.abc import Callable

from portal.services import auth, cancellation, inbox, notifications, payments, subscriptions, surveys

JOBS: dict[str, Callable[[], int]] = {
    "auto-resume": subscriptions.resume_due,
    "cancellations": subscriptions.end_due,
    "cancel-follow-up": cancellation.follow_up,
    "schedule": subscriptions.roll_forward,
    "renewals": payments.run_renewals,
    # Before the outbox, so a link asked for is sent in the same round.
    "sign-in-links": auth.send_requested_links,
    "nps-surveys": surveys.send_nps,
    "outbox": notifications.deliver_pending,
    "outbound-messages": inbox.deliver_outbound,
    "sessions": auth.purge_expired,
}
