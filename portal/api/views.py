"""JSON endpoints: health for load balancers, payment webhooks, inbound messages from channels."""

from __future__ import annotations

import hashlib
import hmac
from email.utils import parseaddr

from flask import Blueprint, abort, current_app, jsonify, request

from portal.extensions import csrf, limiter
from portal.models import Channel
from portal.services import health, inbox, webhooks

bp = Blueprint("api", __name__)
csrf.exempt(bp)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    result = health.check()
    return jsonify(result), 200 if result["status"] == "ok" else 503


@bp.route("/api/webhooks/stripe", methods=["POST"])
@limiter.exempt
def stripe_webhook():
    result = webhooks.handle_stripe(request.get_data(), request.headers.get("Stripe-Signature", ""))
    return jsonify({"received": True, "result": result})


def _key_ok(header: str, setting: str) -> bool:
    expected = current_app.config[setting]
    return bool(expected) and hmac.compare_digest(request.headers.get(header, ""), expected)


@bp.route("/api/inbound/email", methods=["POST"])
@limiter.exempt
def inbound_email():
    """A parsed email, as inbound-mail services post it: {"from", "subject", "text", "message_id"}."""
    if not _key_ok("X-Inbound-Key", "INBOUND_EMAIL_KEY"):
        abort(403)
    data = request.get_json(silent=True) or {}
    sender, message_id = data.get("from"), data.get("message_id")
    if not sender or not message_id or not (data.get("text") or "").strip():
        abort(400)
    case = inbox.receive(
        Channel.EMAIL, parseaddr(sender)[1] or sender, data["text"], f"email:{message_id}", subject=data.get("subject")
    )
    return jsonify({"case": case.id})


@bp.route("/api/inbound/sms", methods=["POST"])
@limiter.exempt
def inbound_sms():
    """An SMS provider's form post (From, Body, MessageSid), signed with HMAC-SHA256 of the body."""
    key = current_app.config["INBOUND_SMS_KEY"]
    expected = hmac.new(key.encode(), request.get_data(), hashlib.sha256).hexdigest() if key else ""
    if not key or not hmac.compare_digest(request.headers.get("X-Signature", ""), expected):
        abort(403)
    sender, body, sid = request.form.get("From"), request.form.get("Body", ""), request.form.get("MessageSid")
    if not sender or not sid or not body.strip():
        abort(400)
    return jsonify({"case": inbox.receive(Channel.SMS, sender, body, f"sms:{sid}").id})


@bp.route("/api/inbound/social", methods=["POST"])
@limiter.exempt
def inbound_social():
    """A direct message from a social network: {"handle", "text", "id"}."""
    if not _key_ok("X-Inbound-Key", "INBOUND_SOCIAL_KEY"):
        abort(403)
    data = request.get_json(silent=True) or {}
    if not data.get("handle") or not data.get("id") or not (data.get("text") or "").strip():
        abort(400)
    return jsonify(
        {"case": inbox.receive(Channel.SOCIAL, data["handle"].lower(), data["text"], f"social:{data['id']}").id}
    )
