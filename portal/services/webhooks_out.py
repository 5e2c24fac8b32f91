"""Events for the merchant's systems: each registered URL receives signed JSON events
(subscription changed, subscription cancelled with its reason, case opened).

An event is an outbox row per endpoint, written in the transaction of the change it reports,
so it exists exactly when the change does. The `webhooks` job claims due rows (SKIP LOCKED:
several workers never send one twice), posts them, and retries with backoff until the receiver
answers 2xx or the attempts run out. Every delivery of an event carries the same event id, so a
receiver that saw a retry after a lost answer can tell.

Signature: `Portal-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the
endpoint's secret>`, as Stripe signs its own webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit

from sqlalchemy import select, update

from portal.extensions import db
from portal.models import WebhookDelivery, WebhookEndpoint, utcnow
from portal.services import audit, outbox
from portal.services.actors import Actor
from portal.services.errors import DomainError
from portal.services.lookup import get_or_404
from portal.services.uow import transactional
from portal.text import lazy_text as _l

EVENT_TYPES = ("subscription.changed", "subscription.cancelled", "case.opened")
TIMEOUT_SECONDS = 10


class InvalidEndpoint(DomainError):
    status = 422
    code = "invalid_webhook_url"
    default_message = _l("Enter the full address of your endpoint, starting with https://.")


def _valid_url(url: str) -> bool:
    parts = urlsplit(url)
    local = parts.hostname in ("localhost", "127.0.0.1")
    return len(url) <= 500 and bool(parts.hostname) and (parts.scheme == "https" or parts.scheme == "http" and local)


@transactional
def add_endpoint(actor: Actor, url: str) -> WebhookEndpoint:
    url = (url or "").strip()
    if not _valid_url(url):
        raise InvalidEndpoint()
    endpoint = WebhookEndpoint(url=url, secret="whsec_" + secrets.token_hex(24))
    db.session.add(endpoint)
    db.session.flush()
    audit.record(
        actor, "webhook.endpoint_added", subject_type="webhook_endpoint", subject_id=endpoint.id, after={"url": url}
    )
    return endpoint


@transactional
def disable_endpoint(actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    endpoint = get_or_404(WebhookEndpoint, endpoint_id)
    endpoint.active = False
    # What it has not received yet is not sent any more either.
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.sent_at.is_(None))
        .values(gave_up_at=utcnow(), last_error="endpoint disabled")
    )
    audit.record(actor, "webhook.endpoint_disabled", subject_type="webhook_endpoint", subject_id=endpoint.id)
    return endpoint


def endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def emit(event_type: str, data: dict) -> None:
    """Queue an event for every active endpoint, in the caller's unit of work."""
    active = db.session.scalars(select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True))).all()
    if not active:
        return
    event_id = "evt_" + uuid.uuid4().hex
    payload = {"id": event_id, "type": event_type, "created": int(utcnow().timestamp()), "data": data}
    db.session.add_all(
        WebhookDelivery(endpoint_id=endpoint_id, event_id=event_id, event_type=event_type, payload=payload)
        for endpoint_id in active
    )


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> None:
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "subscription-portal-webhooks/1",
            "Portal-Event-Id": delivery.event_id,
            "Portal-Signature": signature(endpoint.secret, int(time.time()), body),
        },
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(endpoint.url, response.status, "not 2xx", response.headers, None)


def _send(delivery: WebhookDelivery) -> None:
    _post(db.session.get(WebhookEndpoint, delivery.endpoint_id), delivery)


def deliver_pending(batch_size: int = 50) -> int:
    """Post up to `batch_size` due events; returns how many the receivers took."""
    return outbox.deliver_due(WebhookDelivery, _send, batch_size)


def recent_deliveries(limit: int = 50) -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)))
