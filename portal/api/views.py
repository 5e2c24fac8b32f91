"""JSON endpoints: health for load balancers, payment webhooks, inbound messages from channels."""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import wraps

from flask import Blueprint, abort, current_app, jsonify, request

from portal.extensions import csrf
from portal.models import Channel
from portal.services import contact, health, inbox, webhooks
from portal.web import has_control_characters

bp = Blueprint("api", __name__)
csrf.exempt(bp)


@bp.route("/healthz")
def healthz():
    result = health.check()
    return jsonify(result), 200 if result["status"] == "ok" else 503


@bp.route("/api/webhooks/stripe", methods=["POST"])
def stripe_webhook():
    result = webhooks.handle_stripe(request.get_data(), request.headers.get("Stripe-Signature", ""))
    return jsonify({"received": True, "result": result})


# What an inbound message may carry: ids fit their columns, text fits a real message.
MAX_ID_LENGTH = 190
MAX_SUBJECT_LENGTH = 500
MAX_TEXT_LENGTH = 50_000
MAX_HANDLE_LENGTH = 100


def _same_secret(given: str, expected: str) -> bool:
    # Bytes, because compare_digest refuses str with non-ASCII characters (a hostile header).
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def keyed(setting: str):
    """An inbound endpoint that a provider calls with the shared key of `setting` in X-Inbound-Key."""

    def decorate(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if not _same_secret(request.headers.get("X-Inbound-Key", ""), current_app.config[setting]):
                abort(403)
            return view(*args, **kwargs)

        return checked

    return decorate


def _json_object() -> dict:
    """The body as a JSON object; anything else (a list, deep nesting, not JSON) is a 400."""
    try:
        data = json.loads(request.get_data())
    except (ValueError, RecursionError):
        abort(400)
    if not isinstance(data, dict):
        abort(400)
    return data


def _text(value, max_length: int, *, required: bool = True) -> str | None:
    """A field of an inbound message: a string of at most `max_length` without control characters
    other than line breaks and tabs (PostgreSQL cannot store NUL)."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > max_length or has_control_characters(value):
        abort(400)
    if required and not value.strip():
        abort(400)
    return value


@bp.route("/api/inbound/email", methods=["POST"])
@keyed("INBOUND_EMAIL_KEY")
def inbound_email():
    """A parsed email, as inbound-mail services post it: {"from", "subject", "text", "message_id"}."""
    data = _json_object()
    message_id = _text(data.get("message_id"), MAX_ID_LENGTH)
    text = _text(data.get("text"), MAX_TEXT_LENGTH)
    subject = _text(data.get("subject"), MAX_SUBJECT_LENGTH, required=False)
    sender = contact.mailbox_address(_text(data.get("from"), MAX_SUBJECT_LENGTH))
    if sender is None:
        abort(400)
    case = inbox.receive(Channel.EMAIL, sender, text, f"email:{message_id}", subject=subject)
    return jsonify({"case": case.id})


@bp.route("/api/inbound/sms", methods=["POST"])
def inbound_sms():
    """An SMS provider's form post (From, Body, MessageSid), signed with HMAC-SHA256 of the body."""
    key = current_app.config["INBOUND_SMS_KEY"]
    expected = hmac.new(key.encode(), request.get_data(), hashlib.sha256).hexdigest() if key else ""
    if not _same_secret(request.headers.get("X-Signature", ""), expected):
        abort(403)
    sender = _text(request.form.get("From"), MAX_HANDLE_LENGTH)
    body = _text(request.form.get("Body"), MAX_TEXT_LENGTH)
    sid = _text(request.form.get("MessageSid"), MAX_ID_LENGTH)
    return jsonify({"case": inbox.receive(Channel.SMS, sender, body, f"sms:{sid}").id})


@bp.route("/api/inbound/social", methods=["POST"])
@keyed("INBOUND_SOCIAL_KEY")
def inbound_social():
    """A direct message from a social network: {"handle", "text", "id"}."""
    data = _json_object()
    handle = contact.normalize_handle(_text(data.get("handle"), MAX_HANDLE_LENGTH))
    text = _text(data.get("text"), MAX_TEXT_LENGTH)
    message_id = _text(data.get("id"), MAX_ID_LENGTH)
    return jsonify({"case": inbox.receive(Channel.SOCIAL, handle, text, f"social:{message_id}").id})
