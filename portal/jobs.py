"""Scheduled work. Each job is idempotent: running it twice does nothing more than once."""

from __future__ import annotations

from collections.abc import Callable

from portal.services import (
    auth,
    cancellation,
    catalog_changes,
    inbox,
    notifications,
    outreach_jobs,
    payments,
    subscriptions,
    surveys,
    webhooks_out,
)

JOBS: dict[str, Callable[[], int]] = {
    "auto-resume": subscriptions.resume_due,
    "cancellations": subscriptions.end_due,
    "cancel-follow-up": cancellation.follow_up,
    "schedule": subscriptions.roll_forward,
    "renewals": payments.run_renewals,
    # Proactive messages, after the schedule (so new orders are there) and before the outbox.
    "order-reminders": outreach_jobs.order_reminders,
    "card-notices": outreach_jobs.card_notices,
    "pause-reminders": outreach_jobs.pause_reminders,
    "catalog-changes": catalog_changes.run,
    # Before the outbox, so a link asked for is sent in the same round.
    "sign-in-links": auth.send_requested_links,
    "nps-surveys": surveys.send_nps,
    "outbox": notifications.deliver_pending,
    "outbound-messages": inbox.deliver_outbound,
    "webhooks": webhooks_out.deliver_pending,
    "sessions": auth.purge_expired,
}
