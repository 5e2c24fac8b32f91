"""JSON endpoints: health for load balancers, and provider webhooks."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from portal.extensions import csrf, limiter
from portal.services import health, webhooks

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
